"""The tiny project the end-to-end tests share: a git copy of the tracked files with tiny params,
after one `dvc repro` (the `project` fixture in conftest.py)."""

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

TINY = {
    "lambda": 1.0e-3, "regularizer": "l2",
    "data": {"source": "moons", "random_state": 1,
             "moons": {"n_samples": 100, "noise": 0.2, "n_train": 30},
             "test_fraction": 0.3, "n_train": None, "task": "auto", "path": "data/example.csv",
             "target": "cultivar", "drop": [], "missing": "impute", "categorical": "onehot",
             "shape": None},
    "model": {"hidden_units": 16, "layers": None},
    "train": {"epochs": 30, "batch_size": 32, "learning_rate": 1.0e-2, "early_stopping": "auto",
              "validation_split": 0.2, "seeds": 2},
    "study": {"search": "auto"},
    "grid": {"kinds": ["l1", "l2"], "values": [1.0e-2, 1.0e-4], "refine": 2},
    "layerwise": {"hidden": [0.0, 1.0e-3], "output": [0.0, 1.0e-2]},
    "decoupled": {"values": [1.0, 1.0e-2]},
    "placement": {"lambda": 1.0e-3},
    "progressive": {
        "smithing": {"points": [[0, 0.0], [10, 1.0e-4], [20, 1.0e-3]],
                     "interpolation": "step", "epochs": 25},
        "repeated": {"levels": [1.0e-4, 1.0e-2], "epochs_per_level": 5},
    },
    "boundaries": {"resolution": 5},
    "sequence": {"n_train": 20, "n_test": 40, "length": 10, "units": 4, "epochs": 3},
    "replication": {"draws": 3, "seeds": 2, "lambda": 1.0e-3},
    "selection": {"folds": 4, "draws": 2},
}


# How a test runs a module of the project's own code from its root: `PYTHONPATH=src`, as dvc.yaml's
# stages and the Makefile do.
CODE = {"PYTHONPATH": "src"}


def run(cwd, *command, ok=True, env=None):
    # Without an inherited PYTHONPATH: a stage that DVC runs must find the code by dvc.yaml alone.
    inherited = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}
    env = {**inherited, **(env or {}), "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
           "DVC_NO_ANALYTICS": "1", "GIT_AUTHOR_NAME": "test", "GIT_AUTHOR_EMAIL": "t@example.invalid",
           "GIT_COMMITTER_NAME": "test", "GIT_COMMITTER_EMAIL": "t@example.invalid"}
    # Output goes through files, not pipes: `dvc queue start` leaves workers behind that would
    # hold a pipe open, and reading it to its end would wait for them.
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        code = subprocess.run(command, cwd=cwd, env=env, stdout=out, stderr=err,
                              stdin=subprocess.DEVNULL).returncode
        out.seek(0), err.seek(0)
        done = subprocess.CompletedProcess(command, code, out.read(), err.read())
    if ok and done.returncode != 0:
        pytest.fail(f"{' '.join(command)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return done


def make_project(path: Path, params: dict = TINY) -> Path:
    """A git copy of the tracked project with tiny params in `path`, after one `dvc repro`."""
    tracked = run(ROOT, "git", "ls-files", "-z").stdout.split("\0")
    for name in filter(None, tracked):
        if (ROOT / name).is_file():
            (path / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, path / name)
    (path / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    run(path, "git", "init", "-q")
    run(path, "git", "add", "-A")
    run(path, "git", "commit", "-qm", "tiny")
    run(path, "dvc", "repro")
    run(path, "git", "add", "-A")
    run(path, "git", "commit", "-qm", "tiny results")
    return path
