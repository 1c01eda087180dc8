"""A stage never stores results for params or code it did not read, and a stage whose `dvc` is
gone stores nothing.

DVC hashes a stage's dependencies after its command ends. An edit of params.yaml or of the code
while a stage trains would be recorded in dvc.lock (and in the run-cache) beside results of the
values the stage read at its start, and a later `dvc repro` would restore those wrong results
without a word. And a stage whose `dvc repro` was killed goes on, then overwrites whatever a
later run wrote.

So `start` fingerprints params.yaml (its bytes) and the code (every module under
src/weightreg but the benchmarks, which DVC does not hash either, see .dvcignore), and notes
the chain of parent processes, when a stage starts; `io.write` calls `check` before it writes
anything, and a change of either, or a broken chain, stops the stage with one line and nothing
written.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from weightreg.io import BadInput

PACKAGE = Path(__file__).resolve().parent


class Stale(BadInput):
    """What a stage read changed while it ran, or the process that started it is gone."""


def code_digest() -> str:
    """A hash of the code as it is on disk now: the package's modules, less the benchmarks."""
    digest = hashlib.sha256()
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        if relative.parts[0] != "bench":
            digest.update(str(relative).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def _file_digest(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def ancestry() -> tuple[tuple[int, int], ...]:
    """(pid, parent pid) of this process and of each ancestor up to the first process, as
    Linux's /proc tells them; elsewhere this process's only."""
    chain, pid = [], os.getpid()
    while pid > 1:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            if pid == os.getpid():  # no /proc: the parent is all we know
                return ((pid, os.getppid()),)
            break
        parent = int(stat.rsplit(")", 1)[1].split()[1])  # the name may hold spaces
        chain.append((pid, parent))
        pid = parent
    return tuple(chain)


def _alive(pid: int, parent: int) -> bool:
    """Whether process `pid` still runs with the same parent (a process whose parent died is
    handed to another)."""
    if pid == os.getpid():
        return os.getppid() == parent
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return int(stat.rsplit(")", 1)[1].split()[1]) == parent


@dataclass(frozen=True)
class _Start:
    params: Path | None
    params_digest: str | None
    code: str
    ancestry: tuple[tuple[int, int], ...]


_started: _Start | None = None


def start(params: str | Path | None) -> None:
    """Fingerprint what a stage is about to read: call it before reading params.yaml."""
    global _started
    path = Path(params) if params is not None else None
    _started = _Start(path, _file_digest(path) if path else None, code_digest(), ancestry())


def stop() -> None:
    global _started
    _started = None


def check() -> None:
    """Refuse to write (`Stale`) if params.yaml or the code changed since `start`, or if a
    process between this one and the one that started it (`dvc`) is gone."""
    if _started is None:
        return
    if _started.params is not None and _file_digest(_started.params) != _started.params_digest:
        raise Stale(f"{_started.params} changed while this stage ran, so its results are for "
                    "values the file no longer holds; nothing was written: run it again "
                    "(`dvc repro`), and edit params.yaml between runs")
    if code_digest() != _started.code:
        raise Stale(f"the code in {PACKAGE} changed while this stage ran; nothing was written: "
                    "run it again (`dvc repro`)")
    if not all(_alive(pid, parent) for pid, parent in _started.ancestry):
        raise Stale("the process that started this stage (dvc) is gone; nothing was written, "
                    "so a later run's outputs stay as they are")
