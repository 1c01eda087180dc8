"""Results that cannot lie: a stage whose params or code change while it runs, or whose `dvc`
is killed, writes nothing (`weightreg.guard`)."""

import os
import shutil
import signal
import subprocess
import sys
import time
from types import SimpleNamespace

import pytest
import yaml

from tiny import BIN, ROOT, TINY
from weightreg import guard, io

# Long enough to edit or kill something while it trains (a minute or more), stopped between two
# chunks of epochs once it has.
SLOW = {**TINY, "model": {"hidden_units": 4000, "layers": None},
        "train": {**TINY["train"], "epochs": 100_000}}


def test_a_params_edit_before_the_write_refuses_it(tmp_path):
    params = tmp_path / "params.yaml"
    params.write_text("lambda: 1.0e-3\n")
    guard.start(params)
    try:
        params.write_text("lambda: 5.0e-2\n")
        with pytest.raises(guard.Stale, match="params.yaml changed while this stage ran"):
            io.write({tmp_path / "out.csv": "a\n1\n"})
        assert not (tmp_path / "out.csv").exists()
        params.write_text("lambda: 1.0e-3\n")  # the values it read: writing is fine again
        io.write({tmp_path / "out.csv": "a\n1\n"})
    finally:
        guard.stop()
    assert (tmp_path / "out.csv").read_text() == "a\n1\n"


def test_a_data_file_edit_after_it_was_read_refuses_the_write(tmp_path):
    import dataclasses

    from weightreg import data, params

    table = tmp_path / "table.csv"
    table.write_text((ROOT / "data/example.csv").read_text())
    settings = dataclasses.replace(params.moons(), source="csv", path=str(table),
                                   target="cultivar")
    guard.start(None)
    try:
        data.draws(settings, 2)  # what replication and selection read
        table.write_text(table.read_text().replace("14.23", "15.23"))
        with pytest.raises(guard.Stale, match="table.csv changed while this stage ran, so its "
                                              "results are for rows the file no longer holds"):
            io.write({tmp_path / "out.csv": "a\n1\n"})
        assert not (tmp_path / "out.csv").exists()
    finally:
        guard.stop()


def test_a_code_edit_before_the_write_refuses_it(tmp_path, monkeypatch):
    package = tmp_path / "weightreg"
    package.mkdir()
    (package / "engine.py").write_text("x = 1\n")
    (package / "bench").mkdir()
    (package / "bench" / "speed.py").write_text("y = 1\n")
    monkeypatch.setattr(guard, "PACKAGE", package)
    guard.start(None)
    try:
        (package / "bench" / "speed.py").write_text("y = 2\n")  # not the study's code
        io.write({tmp_path / "out.csv": "a\n1\n"})
        (package / "engine.py").write_text("x = 2\n")
        with pytest.raises(guard.Stale, match="the code in .* changed"):
            io.write({tmp_path / "other.csv": "a\n1\n"})
    finally:
        guard.stop()
    assert not (tmp_path / "other.csv").exists()


@pytest.fixture
def scratch(project, tmp_path):
    """A copy of the tiny project, to break."""
    copy = tmp_path / "project"
    shutil.copytree(project, copy, symlinks=True)
    (copy / "params.yaml").write_text(yaml.safe_dump(SLOW, sort_keys=False))
    return copy


def wait_for(predicate, seconds=120):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def training(process) -> bool:
    """Whether a stage process has started training: TensorFlow is loaded (its threads run)."""
    try:
        return len(os.listdir(f"/proc/{process.pid}/task")) > 8
    except FileNotFoundError:
        return False


def dvc_env():
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "DVC_NO_ANALYTICS": "1"}
    env.pop("PYTHONPATH", None)  # the stages find the code by dvc.yaml alone
    return env


def stage_pid(project, stage):
    """The Python process of `stage`, started by a dvc in `project`."""
    for entry in os.listdir("/proc"):
        try:
            command = open(f"/proc/{entry}/cmdline", "rb").read().split(b"\0")
            here = os.readlink(f"/proc/{entry}/cwd") == str(project)
        except (OSError, ValueError):
            continue
        if here and b"weightreg" in command and stage.encode() in command:
            return int(entry)
    return None


@pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="Linux's /proc")
def test_editing_params_mid_run_stores_no_result(scratch):
    """The issue's case: `dvc repro -f -s regularized &`, then lambda edited while it trains.
    The stage refuses to write, so DVC records nothing: no wrong lock, no wrong run-cache."""
    lock = (scratch / "dvc.lock").read_bytes()
    dvc = subprocess.Popen(["dvc", "repro", "--force", "--single-item", "regularized"],
                           cwd=scratch, env=dvc_env(), text=True, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE)
    assert wait_for(lambda: stage_pid(scratch, "regularized") is not None), "no stage"
    assert wait_for(lambda: training(SimpleNamespace(pid=stage_pid(scratch, "regularized"))))
    text = (scratch / "params.yaml").read_text()
    (scratch / "params.yaml").write_text(text.replace("lambda: 0.001", "lambda: 0.05"))
    out, error = dvc.communicate(timeout=600)
    assert dvc.returncode != 0
    assert "weightreg regularized: error: params.yaml changed while this stage ran" in error
    assert (scratch / "dvc.lock").read_bytes() == lock
    assert not (scratch / "members/regularized.csv").exists()  # DVC removed it, nothing came
    status = subprocess.run(["dvc", "status"], cwd=scratch, env=dvc_env(), text=True,
                            capture_output=True).stdout
    assert "regularized" in status  # not up to date: the next `dvc repro` trains it again


@pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="Linux's /proc")
def test_a_stage_whose_dvc_was_killed_writes_nothing(scratch):
    before = (scratch / "members/grid.csv").read_bytes()
    dvc = subprocess.Popen(["dvc", "repro", "--force", "--single-item", "grid"], cwd=scratch,
                           env=dvc_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           start_new_session=True)

    assert wait_for(lambda: stage_pid(scratch, "grid") is not None), "the stage did not start"
    pid = stage_pid(scratch, "grid")
    assert wait_for(lambda: len(os.listdir(f"/proc/{pid}/task")) > 8)
    dvc.send_signal(signal.SIGKILL)  # as a user kills it by its process id
    dvc.wait()
    # DVC removed the stage's outputs before it started it; the user brings them back (git, or
    # a `dvc repro` that restores them from the run-cache) while the orphan still runs.
    subprocess.run(["git", "checkout", "--", "members", "plots", "metrics"], cwd=scratch,
                   check=True)
    assert os.path.exists(f"/proc/{pid}"), "the stage ended before the test could check it"
    assert wait_for(lambda: not os.path.exists(f"/proc/{pid}"), 60), "the orphan ran on"
    assert (scratch / "members/grid.csv").read_bytes() == before


TRAIN = ("from weightreg import data, engine, params; r = engine.train(data.make(params.moons("
         "40, 0.2, 1, 20)), [engine.Member(0)], hidden_units=8, epochs=3, batch_size=32, "
         "learning_rate=1e-3, progress=False); print(repr(r.final_test_loss[0]))")


@pytest.mark.parametrize("damage", ["truncated", "random bytes"])
def test_a_damaged_xla_cache_entry_is_deleted_and_compiled_again(tmp_path, damage):
    env = {**os.environ, "WEIGHTREG_XLA_CACHE": str(tmp_path / "xla"), "PYTHONPATH": str(ROOT / "src")}
    env.pop("TF_XLA_FLAGS", None)
    first = subprocess.run([sys.executable, "-c", TRAIN], env=env, capture_output=True,
                           text=True, check=True)
    entries = sorted((tmp_path / "xla").glob("*.pb"))
    assert entries
    for entry in entries:
        content = entry.read_bytes()
        entry.write_bytes(content[:len(content) // 3] if damage == "truncated"
                          else os.urandom(len(content)))
    again = subprocess.run([sys.executable, "-c", TRAIN], env=env, capture_output=True,
                           text=True)
    assert again.returncode == 0, again.stderr
    assert again.stdout == first.stdout  # the same numbers, compiled afresh
    lines = [line for line in again.stderr.splitlines() if "XLA's cache" in line]
    assert len(lines) == 1 and "damaged entr" in lines[0], again.stderr
    assert "Traceback" not in again.stderr
