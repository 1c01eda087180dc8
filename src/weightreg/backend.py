"""TensorFlow and Keras, imported on first use: quietly, TensorFlow without Keras, and with
XLA's persistent compilation cache on.

Quietly: `TF_CPP_MIN_LOG_LEVEL` silences TensorFlow's later log lines, but not those its
libraries write while they load (absl's "All log messages before absl::InitializeLog()",
oneDNN's notice, once per library), nor the persistent cache's complaints as it loads a program
(see XLA_CACHE), so those moments run with stderr captured (`quietly`), and whatever else was
written is passed on.

Without Keras: `import tensorflow` also imports Keras (`keras.src.optimizers`, 1.1-1.4 s of a
3.7 s import here) to register its optimizers for SavedModel, inside a `try` that passes over an
ImportError. The engine uses neither Keras nor SavedModel, so that one import is skipped;
`keras()` imports Keras in full when a stage needs it.

The persistent cache: XLA compiles each program shape in about a second; with
`--tf_xla_persistent_cache_directory` the next process loads it from disk instead. Programs are
keyed by a fingerprint of their HLO, so changed code compiles afresh; the folder also carries
TensorFlow's version and the CPU, so a cache copied between machines is never read.
"""

from __future__ import annotations

import hashlib
import os
import platform
import re
import sys
import tempfile
import threading
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

# The folder for compiled programs: WEIGHTREG_XLA_CACHE, or one under ~/.cache (outside the
# project, so git and DVC never see it, and shared by the queue's temporary workspaces);
# WEIGHTREG_XLA_CACHE=off turns it off. TensorFlow writes each program to a temporary file and
# renames it into place, and compares the stored HLO on load (device_executable_persistor.h), so
# concurrent queue workers are safe and a stale program is never run.
XLA_CACHE = "WEIGHTREG_XLA_CACHE"

NOISE = re.compile(r"^(WARNING: All log messages before absl::InitializeLog\(\)"
                   r"|I0000 .*\] oneDNN custom operations are on"
                   r"|I0000 .*cpu_feature_guard"
                   r"|To enable the following instructions:"
                   # Loading a cached program: TensorFlow tries the text format before binary,
                   # and XLA lists two LLVM tuning flags that are not CPU features.
                   r"|E0000 .*\] Error parsing text-format tensorflow\.XlaSerializedCacheEntry"
                   r"|E0000 .*\] Loading XLA:CPU AOT result\. Target machine feature "
                   r"\+prefer-no-(scatter|gather) is not)")


_IMPORTING = threading.Lock()  # a Dask worker's threads may ask at the same time


def tensorflow():
    with _IMPORTING:
        if "tensorflow" not in sys.modules:
            os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
            _use_xla_cache()
            skipped = "keras.src.optimizers" not in sys.modules
            if skipped:
                sys.modules["keras.src.optimizers"] = None  # makes that import an ImportError
            try:
                quietly(lambda: __import__("tensorflow"))
            finally:
                if skipped:
                    del sys.modules["keras.src.optimizers"]
    import tensorflow

    return tensorflow


def keras():
    tensorflow()
    import keras

    return keras


def xla_cache_folder() -> Path | None:
    """Where compiled programs are kept (None: nowhere)."""
    chosen = os.environ.get(XLA_CACHE)
    if chosen == "off":
        return None
    if chosen:
        return Path(chosen)
    try:
        tf_version = version("tensorflow-cpu")
    except PackageNotFoundError:
        tf_version = version("tensorflow")
    machine = hashlib.sha256(_cpu_description().encode()).hexdigest()[:12]
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "weightreg" / "xla" / f"tensorflow-{tf_version}-{platform.machine()}-{machine}"


def _cpu_description() -> str:
    """The CPU's model and feature flags (Linux), or what the platform module knows."""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            lines = [line for line in cpuinfo if line.startswith(("model name", "flags"))]
        return "".join(sorted(set(lines)))
    except OSError:
        return f"{platform.processor()} {platform.platform()}"


def _use_xla_cache() -> None:
    flags = os.environ.get("TF_XLA_FLAGS", "")
    if "--tf_xla_persistent_cache_directory" in flags:
        return
    try:
        folder = xla_cache_folder()
        if folder is None:
            return
        folder.mkdir(parents=True, exist_ok=True)
    except (OSError, RuntimeError, PackageNotFoundError) as error:  # no usable home: compile
        print(f"weightreg: XLA's persistent cache is off ({error}); set {XLA_CACHE} to a "
              "writable folder", file=sys.stderr)
        return
    os.environ["TF_XLA_FLAGS"] = f"{flags} --tf_xla_persistent_cache_directory={folder}".strip()


def heal_xla_cache() -> list[Path]:
    """Delete the entries of XLA's persistent cache that are not whole protocol buffers (a
    truncated or overwritten file, which TensorFlow fails to load on every later run): they are
    compiled again. Returns the files deleted."""
    from google.protobuf import empty_pb2
    from google.protobuf.message import DecodeError

    chosen = re.search(r"--tf_xla_persistent_cache_directory=(\S+)",
                       os.environ.get("TF_XLA_FLAGS", ""))
    try:
        folder = Path(chosen.group(1)) if chosen else xla_cache_folder()
    except (OSError, RuntimeError, PackageNotFoundError):
        return []
    if folder is None or not folder.is_dir():
        return []
    damaged = []
    for entry in sorted(folder.glob("*.pb")):
        try:
            empty_pb2.Empty().ParseFromString(entry.read_bytes())  # checks the wire format
        except (DecodeError, OSError):
            damaged.append(entry)
    for entry in damaged:
        entry.unlink(missing_ok=True)
    return damaged


def quietly(run):
    """`run()`, with file descriptor 2 captured; what is not known noise is passed on."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as captured:
        os.dup2(captured.fileno(), 2)
        try:
            return run()
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            text = captured.read().decode(errors="replace")
            kept = [line for line in text.splitlines(keepends=True) if not NOISE.match(line)]
            sys.stderr.write("".join(kept))
