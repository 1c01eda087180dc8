"""A stage never stores results for params or code it did not read, and a stage whose `dvc` is
gone stores nothing.

DVC hashes a stage's dependencies after its command ends. An edit of params.yaml or of the code
while a stage trains would be recorded in dvc.lock (and in the run-cache) beside results of the
values the stage read at its start, and a later `dvc repro` would restore those wrong results
without a word. And a stage whose `dvc repro` was killed goes on, then overwrites whatever a
later run wrote.

So `start` fingerprints params.yaml (its bytes) and the code (every module under
src/weightreg but the benchmarks, which DVC does not hash either, see .dvcignore), and notes
the chain of parent processes, when a stage starts; `read` fingerprints a data file (a CSV of
`data.path`) as the stage reads it; `io.write` calls `check` before it writes anything, and a
change of any of them, or a broken chain, stops the stage with one line and nothing written.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from weightreg.io import BadInput

PACKAGE = Path(__file__).resolve().parent


class Stale(BadInput):
    """What a stage read changed while it ran, or the process that started it is gone."""


def code_digest() -> str:
    """A hash of the code as it is on disk now: the package's modules, less the benchmarks (and
    an editor's hidden files, or a file that vanishes while it saves)."""
    digest = hashlib.sha256()
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        if relative.parts[0] == "bench" or any(part.startswith(".") for part in relative.parts):
            continue
        try:
            content = path.read_bytes()
        except OSError:
            continue
        digest.update(str(relative).encode() + b"\0" + content)
    return digest.hexdigest()[:16]


def _file_digest(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def _parent(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])  # the name may hold spaces


def _is_dvc(pid: int) -> bool:
    """Whether a process runs DVC (`dvc ...`, or `python .../bin/dvc ...`)."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[:3]  # python -m dvc
    except OSError:
        return False
    return any(Path(arg.decode(errors="replace")).name == "dvc" for arg in argv)


def ancestry() -> tuple[tuple[int, int | None], ...]:
    """The processes between this one and the nearest `dvc` above it, as (pid, parent pid),
    and the `dvc` itself as (pid, None): what must stay as it is. What is above `dvc` may go
    (`nohup`, a terminal closed, a queue's launcher). Without a `dvc` above (a stage run by
    hand) or without Linux's /proc: this process's parent only."""
    chain, pid = [], os.getpid()
    while pid > 1:
        parent = _parent(pid)
        if parent is None:
            break
        chain.append((pid, parent))
        if _is_dvc(parent):
            return (*chain, (parent, None))
        pid = parent
    return ((os.getpid(), os.getppid()),)


def _alive(pid: int, parent: int | None) -> bool:
    """Whether process `pid` still runs with the same parent (a process whose parent died is
    handed to another); for the `dvc` at the top (`parent` None), whether it runs at all."""
    if pid == os.getpid():
        return os.getppid() == parent
    if parent is None:
        return Path(f"/proc/{pid}").exists()
    return _parent(pid) == parent


@dataclass(frozen=True)
class _Start:
    params: Path | None
    params_digest: str | None
    code: str
    ancestry: tuple[tuple[int, int], ...]
    inputs: dict[Path, str] = field(default_factory=dict)  # data files read (`read`): digests


_started: _Start | None = None


def start(params: str | Path | None) -> None:
    """Fingerprint what a stage is about to read: call it before reading params.yaml."""
    global _started
    path = Path(params) if params is not None else None
    _started = _Start(path, _file_digest(path) if path else None, code_digest(), ancestry())


def read(path: str | Path) -> bytes:
    """The bytes of a data file a stage reads (the CSV of `data.path`), fingerprinted as read:
    `check` refuses to write if the file has changed since."""
    content = Path(path).read_bytes()
    if _started is not None:
        _started.inputs[Path(path)] = hashlib.sha256(content).hexdigest()
    return content


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
    for path, digest in _started.inputs.items():
        if _file_digest(path) != digest:
            raise Stale(f"{path} changed while this stage ran, so its results are for rows the "
                        "file no longer holds; nothing was written: run it again (`dvc repro`)")
    if code_digest() != _started.code:
        raise Stale(f"the code in {PACKAGE} changed while this stage ran; nothing was written: "
                    "run it again (`dvc repro`)")
    if not all(_alive(pid, parent) for pid, parent in _started.ancestry):
        raise Stale("the process that started this stage (dvc) is gone; nothing was written, "
                    "so a later run's outputs stay as they are")
