"""End to end: the real DVC pipeline on tiny params, in a temporary git copy of the project."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

TINY = {
    "lambda": 1.0e-3, "regularizer": "l2",
    "data": {"n_samples": 100, "noise": 0.2, "random_state": 1, "n_train": 30},
    "model": {"hidden_units": 16},
    "train": {"epochs": 30, "batch_size": 32, "learning_rate": 1.0e-2, "seeds": 2},
    "grid": {"values": [1.0e-2, 1.0e-4]},
    "progressive": {
        "smithing": {"points": [[0, 0.0], [10, 1.0e-4], [20, 1.0e-3]],
                     "interpolation": "step", "epochs": 25},
        "repeated": {"levels": [1.0e-4, 1.0e-2], "epochs_per_level": 5},
    },
}


def run(cwd, *command, ok=True):
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
           "DVC_NO_ANALYTICS": "1", "GIT_AUTHOR_NAME": "test", "GIT_AUTHOR_EMAIL": "t@example.invalid",
           "GIT_COMMITTER_NAME": "test", "GIT_COMMITTER_EMAIL": "t@example.invalid"}
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL)
    if ok and done.returncode != 0:
        pytest.fail(f"{' '.join(command)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return done


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """A git copy of the tracked project with tiny params, after one `dvc repro`."""
    path = tmp_path_factory.mktemp("project")
    tracked = run(ROOT, "git", "ls-files", "-z").stdout.split("\0")
    for name in filter(None, tracked):
        if (ROOT / name).is_file():
            (path / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, path / name)
    (path / "params.yaml").write_text(yaml.safe_dump(TINY, sort_keys=False))
    run(path, "git", "init", "-q")
    run(path, "git", "add", "-A")
    run(path, "git", "commit", "-qm", "tiny")
    run(path, "dvc", "repro")
    run(path, "git", "add", "-A")
    run(path, "git", "commit", "-qm", "tiny results")
    return path


def test_repro_writes_every_output(project):
    for stage in ("baseline", "regularized"):
        metrics = json.loads((project / f"metrics/{stage}.json").read_text())
        assert 0.5 <= metrics["test_acc"] <= 1.0
        assert len(metrics["test_acc_per_seed"]) == TINY["train"]["seeds"]
    grid = (project / "plots/grid.csv").read_text().splitlines()
    assert grid[0].startswith("lambda,train_acc,test_acc,test_acc_std")
    assert len(grid) == 1 + len(TINY["grid"]["values"])
    assert json.loads((project / "metrics/grid.json").read_text())["best_lambda"] in (1e-2, 1e-4)
    curves = (project / "plots/progressive.csv").read_text().splitlines()
    assert len(curves) == 1 + TINY["progressive"]["smithing"]["epochs"]
    for png in ("data", "learning_curves", "lambda_curve", "progressive"):
        assert (project / f"plots/figures/{png}.png").read_bytes()[:4] == b"\x89PNG"
    assert "up to date" in run(project, "dvc", "status").stdout


def test_exp_run_reruns_only_what_depends_on_lambda(project):
    done = run(project, "dvc", "exp", "run", "-S", "lambda=1e-05")
    ran = {line.split("'")[1] for line in done.stdout.splitlines()
           if line.startswith("Running stage")}
    assert ran == {"regularized", "plots"}
    shown = json.loads(run(project, "dvc", "exp", "show", "--json").stdout)
    assert "lambda" in json.dumps(shown) and "1e-05" in json.dumps(shown)
    plots = json.loads(run(project, "dvc", "plots", "diff", "HEAD", "--json").stdout)["data"]
    curves = plots["Learning curves, baseline and regularized"][0]
    assert set(curves["revisions"]) == {"HEAD", "workspace"}
    rows = curves["content"]["data"]["values"]
    assert {row["rev"] for row in rows} == {"HEAD", "workspace"}
    assert len(rows) == 2 * 2 * 2 * TINY["train"]["epochs"]  # revisions x files x columns
    lambda_curve = plots["Test accuracy against lambda (log axis)"][0]["content"]
    assert lambda_curve["encoding"]["x"]["scale"]["type"] == "log"
    assert all(f"plots/figures/{name}.png" in plots
               for name in ("data", "learning_curves", "lambda_curve", "progressive"))


def test_bad_lambda_fails_clearly_and_keeps_outputs(project):
    before = (project / "metrics/regularized.json").read_bytes()
    done = run(project, "dvc", "exp", "run", "-S", "lambda=-1", ok=False)
    assert done.returncode != 0
    assert "lambda = -1" in done.stderr + done.stdout and ">= 0" in done.stderr + done.stdout
    assert (project / "metrics/regularized.json").read_bytes() == before
