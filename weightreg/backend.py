"""TensorFlow and Keras, imported on first use without the lines TensorFlow's C++ start-up
writes to stderr.

`TF_CPP_MIN_LOG_LEVEL` silences TensorFlow's later log lines, but not those its libraries write
while they load (absl's "All log messages before absl::InitializeLog()", oneDNN's notice, once
per library), so the import runs with stderr captured, and whatever else it wrote is passed on.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile

NOISE = re.compile(r"^(WARNING: All log messages before absl::InitializeLog\(\)"
                   r"|I0000 .*\] oneDNN custom operations are on"
                   r"|I0000 .*cpu_feature_guard"
                   r"|To enable the following instructions:)")


def tensorflow():
    if "tensorflow" not in sys.modules:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        _quietly(lambda: __import__("tensorflow"))
    import tensorflow

    return tensorflow


def keras():
    tensorflow()
    import keras

    return keras


def _quietly(load) -> None:
    """Run `load` with file descriptor 2 captured; pass on what is not known noise."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as captured:
        os.dup2(captured.fileno(), 2)
        try:
            load()
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            text = captured.read().decode(errors="replace")
            kept = [line for line in text.splitlines(keepends=True) if not NOISE.match(line)]
            sys.stderr.write("".join(kept))
