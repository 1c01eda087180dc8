"""WEIGHTREG_BACKEND=dask: the engine's groups on a local two-worker Dask cluster give the same
bytes as in this process, and a lost worker or a bad setting fails with one line."""

import os
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest
import yaml

from tiny import CODE, TINY, run
from weightreg import cluster, data, engine
from weightreg.params import moons

dask = pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client():
    """Two single-threaded workers on 127.0.0.1; a worker lost is a failure, not a retry."""
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, host="127.0.0.1",
                                      dashboard_address=None,
                                      scheduler_kwargs={"dashboard_address": "127.0.0.1:0"}
                                      ) as local:
            with distributed.Client(local) as client:
                yield client


def on_dask(client):
    return {"WEIGHTREG_BACKEND": "dask", "DASK_SCHEDULER_ADDRESS": client.scheduler.address}


def regularized(project, out, *, params="params.yaml", env=None, wait=True):
    command = [sys.executable, "-m", "weightreg", "regularized", "--params", params,
               "--data", "data/split.npz", "--baseline", "members/baseline.csv",
               "--members", f"{out}/members.csv", "--curves", f"{out}/curves.csv",
               "--metrics", f"{out}/metrics.json"]
    if not wait:
        return subprocess.Popen(command, cwd=project, env=os.environ | CODE | (env or {}),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return run(project, *command, env=CODE | (env or {}))


def test_a_stage_on_dask_writes_the_same_bytes(project, client, tmp_path):
    here, there = tmp_path / "here", tmp_path / "there"
    here.mkdir(), there.mkdir()
    local = regularized(project, here)
    remote = regularized(project, there, env=on_dask(client))
    assert local.stdout.rstrip().endswith("s in this process"), local.stdout
    assert f"on Dask at {client.scheduler.address}, 2 workers" in remote.stdout, remote.stdout
    for name in ("members.csv", "curves.csv", "metrics.json"):
        assert (there / name).read_bytes() == (here / name).read_bytes(), name


def test_groups_come_back_in_member_order(client, monkeypatch):
    # Five members in groups of two: three groups on two workers, the last padded.
    split = data.make(moons(60, 0.2, 2, 20))
    members = [engine.Member(seed, "l2", {"hidden_kernel": 10.0 ** -seed}) for seed in range(5)]
    kwargs = dict(hidden_units=16, epochs=40, batch_size=8, learning_rate=1e-2, progress=False,
                  members_per_call=2)
    local = engine.train(split, members, **kwargs)
    monkeypatch.setenv("WEIGHTREG_BACKEND", "dask")
    monkeypatch.setattr(cluster, "_client", None)  # this process's client: to `client`'s cluster
    with dask.config.set({"scheduler-address": client.scheduler.address}):
        try:
            remote = engine.train(split, members, **kwargs)
        finally:
            cluster.close()
    assert cluster.where().startswith(f"on Dask at {client.scheduler.address}")
    for name in ("final_train_score", "final_test_score", "final_train_loss", "final_test_loss",
                 "final_test_rows", "diverged_at"):
        np.testing.assert_array_equal(getattr(remote, name), getattr(local, name), name)
    for ours, theirs in zip(remote.weights, local.weights, strict=True):
        np.testing.assert_array_equal(ours, theirs)
    for name, values in local.history.items():
        np.testing.assert_array_equal(remote.history[name], values, name)


def test_an_error_in_the_code_keeps_the_workers_traceback(client, monkeypatch):
    monkeypatch.setenv("WEIGHTREG_BACKEND", "dask")
    monkeypatch.setattr(cluster, "_client", None)
    with dask.config.set({"scheduler-address": client.scheduler.address}):
        try:
            with pytest.raises(TypeError) as raised:  # int("x", None), on a worker
                cluster.run(int, [("x",)], lambda g: "the members", lambda g: None)
        finally:
            cluster.close()
    # The worker's own frames, not only this process's: `_on_worker` runs on workers alone.
    assert "_on_worker" in [entry.name for entry in raised.traceback]


def test_a_lost_worker_fails_the_stage_in_one_line_and_writes_nothing(project, client,
                                                                     tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    for name in ("members.csv", "curves.csv", "metrics.json"):
        (out / name).write_text("earlier output\n")
    long = {**TINY, "train": {**TINY["train"], "epochs": 200_000}}  # long enough to be killed
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(long))
    stage = regularized(project, out, params=str(tmp_path / "params.yaml"), env=on_dask(client),
                        wait=False)
    try:
        deadline = time.monotonic() + 120
        while not any(client.processing().values()):
            assert time.monotonic() < deadline and stage.poll() is None, stage.communicate()
            time.sleep(0.05)
        busy = next(worker for worker, keys in client.processing().items() if keys)
        pid = client.run(os.getpid, workers=[busy])[busy]
        os.kill(pid, signal.SIGKILL)
        stdout, stderr = stage.communicate(timeout=120)
    finally:
        stage.kill()
    assert stage.returncode == 2, stdout + stderr
    assert "Traceback" not in stderr and len(stderr.strip().splitlines()) == 1, stderr
    assert "regularized's members 1-2 of 2 (seeds 0-1) failed on" in stderr
    assert "KilledWorker" in stderr
    for name in ("members.csv", "curves.csv", "metrics.json"):
        assert (out / name).read_text() == "earlier output\n", name


def closed_port() -> int:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        return listener.getsockname()[1]


@pytest.mark.parametrize("env, message", [
    ({"WEIGHTREG_BACKEND": "ray"},
     "WEIGHTREG_BACKEND = 'ray' is not allowed; expected dask, or WEIGHTREG_BACKEND unset"),
    ({"WEIGHTREG_BACKEND": "dask", "DASK_SCHEDULER_ADDRESS": "tcp://127.0.0.1:PORT",
      "DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "1s"},
     "DASK_SCHEDULER_ADDRESS = 'tcp://127.0.0.1:PORT': no Dask scheduler answered"),
])
def test_a_bad_backend_stops_the_data_stage_in_one_line(project, tmp_path, env, message):
    port = str(closed_port())
    env = {name: value.replace("PORT", port) for name, value in env.items()}
    done = run(project, sys.executable, "-m", "weightreg", "data", "--split",
               str(tmp_path / "split.npz"), "--points", str(tmp_path / "points.csv"),
               "--metrics", str(tmp_path / "data.json"),
               env=CODE | env, ok=False)
    assert done.returncode == 2
    assert done.stderr.startswith(f"weightreg data: error: {message.replace('PORT', port)}")
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert not list(tmp_path.iterdir())
