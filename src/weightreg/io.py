"""Plain-data outputs (CSV, JSON, PNG bytes), written atomically.

A stage computes everything first and writes at the end: each file goes to a temporary name in
its own folder and is renamed into place, so an interrupted or failing stage never leaves a
half-written file and earlier outputs stay intact.
"""

from __future__ import annotations

import csv
import json
import math
import os
import tempfile
from collections.abc import Mapping, Sequence
from io import StringIO
from pathlib import Path
from typing import Any

import numpy as np

class BadInput(Exception):
    """A problem with what the user gave: params.yaml, an input file, a command-line value.

    The command line reports it in one line and exits 2; any other exception is a programming
    error and keeps its traceback.
    """


DIGITS = 6  # Significant digits kept in metrics and plot data: plenty for 70-row accuracies.


def number(value: Any) -> int | float | None:
    """A JSON-ready number: ints stay ints, floats keep DIGITS significant digits."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    value = float(value)
    return float(f"{value:.{DIGITS}g}") if math.isfinite(value) else None


def _tidy(obj: Any) -> Any:
    if isinstance(obj, Mapping):
        return {str(key): _tidy(value) for key, value in obj.items()}
    if isinstance(obj, (list, tuple, np.ndarray)):
        return [_tidy(value) for value in obj]
    if isinstance(obj, str):
        return obj
    return number(obj)


def to_json(obj: Any) -> str:
    return json.dumps(_tidy(obj), indent=2) + "\n"


def to_csv(columns: Mapping[str, Sequence[Any]], exact: bool = False) -> str:
    """A CSV with one column per key; all columns have the same length.

    Numbers keep DIGITS significant digits, or with `exact` every digit (`repr`), so that a
    stage reading the table gets the very values that were computed.
    """
    lengths = {len(values) for values in columns.values()}
    if len(lengths) != 1:
        raise ValueError(f"columns differ in length: {sorted(lengths)}")
    text = StringIO()
    writer = csv.writer(text, lineterminator="\n")  # quotes a label that holds a comma
    writer.writerow(columns)
    for row in zip(*columns.values()):
        writer.writerow(value if isinstance(value, str) else _cell(value, exact)
                        for value in row)
    return text.getvalue()


def _cell(value: Any, exact: bool) -> str:
    if not exact or isinstance(value, (bool, np.bool_, int, np.integer)):
        return str(number(value))
    return repr(float(value))


def write(outputs: Mapping[str | Path, str | bytes]) -> None:
    """Write every output to a temporary file first, then rename them all into place."""
    staged = []
    try:
        for path, content in outputs.items():
            path = Path(path)
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
            staged.append((temporary, path))
            with os.fdopen(handle, "wb") as file:
                file.write(content.encode() if isinstance(content, str) else content)
    except BaseException:
        for temporary, _ in staged:
            Path(temporary).unlink(missing_ok=True)
        raise
    for temporary, path in staged:
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)


def read_csv(path: str | Path) -> dict[str, np.ndarray]:
    """A CSV written by `to_csv`, as columns: numeric where every value parses, else text."""
    try:
        header, *rows = csv.reader(StringIO(Path(path).read_text()))
    except OSError as error:
        raise BadInput(f"{path}: {error.strerror}; run the stage that writes it") from None
    except (ValueError, csv.Error):  # empty, or not CSV
        header, rows = [], []
    if not rows:
        raise BadInput(f"{path}: no data rows; rerun the stage that writes it")
    if any(len(row) != len(header) for row in rows):
        raise BadInput(f"{path}: rows do not match the header {','.join(header)!r}; "
                       "rerun the stage that writes it")
    columns = {}
    for name, values in zip(header, zip(*rows)):
        try:
            columns[name] = np.array(values, dtype=np.float64)
        except ValueError:
            columns[name] = np.array(values)
    return columns
