"""Where the engine's member groups run: in this process, or on a Dask cluster.

With WEIGHTREG_BACKEND unset, groups train here, one per CPU at a time (in threads: TensorFlow
releases the GIL), and Dask is never imported. `WEIGHTREG_BACKEND=dask` sends each group to a
Dask worker: the scheduler at `DASK_SCHEDULER_ADDRESS` (Dask's own setting) when it is set,
otherwise a `LocalCluster` on 127.0.0.1 without a dashboard, started for this process. The
backend is not a DVC param: the groups, their programs and the order of their results are the
same either way, so it changes no output byte (tested).

What crosses the network is plain data: each group's seeds, initial weights, penalty
coefficients, lambda schedules and rows go out, and its records and final weights come back.
A worker traces and compiles each program shape once and keeps it (`engine._PROGRAMS`); with
XLA's persistent cache (`backend`) a restarted worker loads it from disk.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from weightreg.io import BadInput

VARIABLE = "WEIGHTREG_BACKEND"
ALLOWED = f"dask, or {VARIABLE} unset to train in this process"

_client = None  # the Dask client of this process, made on first use
_where: str | None = None  # where this process's groups ran, for the stage's result line


def chosen() -> str | None:
    """The backend WEIGHTREG_BACKEND asks for: "dask", or None (this process)."""
    value = os.environ.get(VARIABLE, "")
    if value in ("", "dask"):
        return value or None
    raise BadInput(f"{VARIABLE} = {value!r} is not allowed; expected {ALLOWED}")


def check() -> str:
    """Fail now, with one line, if the backend cannot run; return where groups will run.

    A scheduler given by address is connected to; a local cluster is not started."""
    if chosen() is None:
        return "in this process"
    dask = _dask()
    if dask.config.get("scheduler-address", None):
        return _describe(connect())
    return "on a local Dask cluster"


def where() -> str | None:
    """Where this process's groups ran ("in this process", "on Dask at ..., N workers"),
    or None if it trained nothing."""
    return _where


def run(function: Callable, tasks: Sequence[tuple], members_of: Callable[[int], str],
        report_to: Callable[[int], Callable | None]) -> list:
    """`function(*task, report)` for every task, results in task order.

    In this process `report` is `report_to(i)` (progress between chunks of epochs); on Dask it is
    None. A worker lost while running a task, or one that cannot run weightreg's code, fails
    the stage with one line naming the task's members (`members_of(i)`); an exception the task
    raised keeps its traceback, as in this process.
    """
    global _where
    if chosen() is None:
        _where = "in this process"
        if len(tasks) == 1:
            return [function(*tasks[0], report_to(0))]
        # TensorFlow releases the GIL while a program runs: one group per CPU at a time keeps
        # both of a 2-core machine's CPUs busy (1.4x a group after another, measured).
        with ThreadPoolExecutor(min(len(tasks), cpus())) as pool:
            return list(pool.map(lambda i: function(*tasks[i], report_to(i)),
                                 range(len(tasks))))
    from distributed import KilledWorker, as_completed

    client = connect()
    _where = _describe(client)
    fingerprint = code_fingerprint()
    futures = [client.submit(_on_worker, fingerprint, function, *task, None, pure=False)
               for task in tasks]
    group_of = {future.key: i for i, future in enumerate(futures)}
    for future in as_completed(futures):  # the first failure stops the stage
        if future.status == "finished":
            continue
        error = future.exception() if future.status == "error" else None
        remote = future.traceback() if error is not None else None  # gone once cancelled
        client.cancel(futures)
        if error is not None and not isinstance(error, (KilledWorker, WrongCode, ImportError,
                                                        OSError)):
            raise error.with_traceback(remote)  # a programming error
        why = f"{type(error).__name__}: {error}" if error else f"the task was {future.status}"
        address = _address(client)
        close()
        raise BadInput(f"{VARIABLE}=dask: the group of {members_of(group_of[future.key])} "
                       f"failed on {address}: {why}")
    return client.gather(futures)


def cpus() -> int:
    """The CPUs this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS
        return os.cpu_count() or 1


@functools.cache
def code_fingerprint() -> str:
    """A hash of weightreg's source on disk when this process first asks (`guard.code_digest`,
    the benchmarks left out): a worker must run the same code as the stage."""
    from weightreg import guard

    return guard.code_digest()


class WrongCode(RuntimeError):
    """A worker whose weightreg differs from the stage's."""


def _on_worker(fingerprint: str, function: Callable, *args):
    mine = code_fingerprint()
    if mine != fingerprint:
        raise WrongCode(f"this worker runs other weightreg code ({mine} from "
                           f"{Path(__file__).parent}, the stage runs {fingerprint}); start "
                           "`dask worker` from a checkout of the stage's commit")
    return function(*args)


def connect():
    """This process's Dask client, made on first use: to the scheduler at
    DASK_SCHEDULER_ADDRESS, or to a local cluster it starts."""
    global _client
    if _client is not None:
        return _client
    dask = _dask()
    from distributed import Client, LocalCluster

    address = dask.config.get("scheduler-address", None)
    if address:
        try:
            client = Client(address, timeout=dask.config.get("distributed.comm.timeouts.connect"))
        except OSError as error:
            raise BadInput(f"DASK_SCHEDULER_ADDRESS = {address!r}: no Dask scheduler answered "
                           f"({error}); expected the address `dask scheduler` prints, such as "
                           "tcp://10.0.0.1:8786") from None
        try:
            client.wait_for_workers(1, timeout=dask.config.get(
                "distributed.comm.timeouts.connect"))
        except TimeoutError:
            client.close()
            raise BadInput(f"DASK_SCHEDULER_ADDRESS = {address!r}: the scheduler has no "
                           f"workers; start some with `dask worker {address}`") from None
    else:
        # A worker lost here is a failure, not a retry: the stage says so instead of hiding it.
        with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
            # No dashboard; the scheduler's health page on a free port, not a fixed 8787 that
            # two stages of a queue would both ask for.
            # Its workers' logs would reach the stage's stderr: a failure is one line from run().
            cluster = LocalCluster(host="127.0.0.1", dashboard_address=None,
                                   scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                                   n_workers=cpus(), threads_per_worker=1,
                                   silence_logs=logging.CRITICAL)
        client = Client(cluster)
    _client = client  # only a client that passed its checks is kept
    return _client


def close() -> None:
    """Close this process's Dask client, and the local cluster it started, if any."""
    global _client
    if _client is not None:
        local = _client.cluster
        _client.close()
        if local is not None:
            local.close()
        _client = None


def _dask():
    try:
        import dask
        import distributed  # noqa: F401 (the scheduler's client)
    except ImportError as error:
        raise BadInput(f"{VARIABLE}=dask needs Dask's distributed package, which this "
                       f"environment lacks ({error}); install the `dask` extra") from None
    return dask


def _address(client) -> str:
    return client.scheduler.address


def _describe(client) -> str:
    workers = len(client.scheduler_info(n_workers=-1)["workers"])
    return f"on Dask at {_address(client)}, {workers} worker{'s' * (workers != 1)}"

