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
    """Write every output to a temporary file first, then rename them all into place; in a
    stage, only while what it read is unchanged and its `dvc` runs (`guard.check`, before
    anything is written and again before the renames)."""
    from weightreg import guard

    guard.check()
    staged = []
    try:
        for path, content in outputs.items():
            path = Path(path)
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
            except OSError as error:
                raise BadInput(f"{path}: cannot be written ({error.strerror}); nothing was "
                               "written: make its folder writable and run again") from None
            staged.append((temporary, path))
            with os.fdopen(handle, "wb") as file:
                file.write(content.encode() if isinstance(content, str) else content)
        guard.check()
    except BaseException:
        for temporary, _ in staged:
            Path(temporary).unlink(missing_ok=True)
        raise
    for temporary, path in staged:
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)


def rerun(stage: str | None) -> str:
    """How to write a damaged or missing input again."""
    return f"rerun the {stage} stage (`dvc repro {stage}`)" if stage else \
        "rerun the stage that writes it"


class Table(dict):
    """A CSV's columns by name. Asking for a column it lacks is bad input that names the file
    and the stage that writes it, not a KeyError."""

    def __init__(self, columns: dict[str, np.ndarray], path: str | Path, stage: str | None):
        super().__init__(columns)
        self.path, self.stage = path, stage

    def __missing__(self, name: str):
        raise BadInput(f"{self.path}: no column {name!r} (it has {', '.join(self)}); "
                       f"{rerun(self.stage)}")

    def check_numbers(self) -> Table:
        """Every column that holds numbers holds only numbers, finite ones (or `None`, this
        module's word for a value that was not finite, such as the spread of one seed): a
        word or an infinity typed into a table is named with its column and row."""
        for name, values in self.items():
            if values.dtype.kind == "f":
                bad = np.flatnonzero(~np.isfinite(values))
            else:
                numeric = np.array([_is_number(v) for v in values])
                bad = (np.flatnonzero(~numeric & (values != "None")) if numeric.any()
                       else np.array([], int))
            if bad.size:
                raise BadInput(f"{self.path}: column {name}, row {bad[0] + 1}: "
                               f"{values[bad[0]].item()!r} is not a finite number; "
                               f"{rerun(self.stage)}")
        return self

    def numbers(self, name: str, low: float = -math.inf, high: float = math.inf,
                whole: bool = False) -> np.ndarray:
        """A column checked: numbers, finite, within [low, high] (whole numbers if `whole`);
        the first cell that is not names its row."""
        values = self[name]
        what = (f"a {'whole ' if whole else ''}number"
                + (f" from {low:g} to {high:g}" if math.isfinite(low) and math.isfinite(high)
                   else f" <= {high:g}" if math.isfinite(high)
                   else f" >= {low:g}" if math.isfinite(low) else ""))
        if values.dtype.kind != "f":
            numeric = np.array([_is_number(v) for v in values])
            bad = int(np.argmin(numeric))
        else:
            ok = np.isfinite(values) & (values >= low) & (values <= high)
            if whole:
                ok &= values == np.round(values)
            bad = int(np.argmin(ok)) if not ok.all() else -1
        if bad >= 0:
            cell = values[bad].item()
            raise BadInput(f"{self.path}: column {name}, row {bad + 1}: {cell!r} is not {what}; "
                           f"{rerun(self.stage)}")
        return values


def _is_number(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def read_csv(path: str | Path, stage: str | None = None) -> Table:
    """A CSV written by `to_csv`, as columns: numeric where every value parses, else text.
    `stage` writes it: a missing or damaged file says to rerun it."""
    try:
        header, *rows = csv.reader(StringIO(Path(path).read_text()))
    except OSError as error:
        raise BadInput(f"{path}: {error.strerror}; {rerun(stage)}") from None
    except (ValueError, csv.Error):  # empty, not text, or not CSV
        header, rows = [], []
    if not rows:
        raise BadInput(f"{path}: no data rows; {rerun(stage)}")
    if any(len(row) != len(header) for row in rows):
        raise BadInput(f"{path}: rows do not match the header {','.join(header)!r}; "
                       f"{rerun(stage)}")
    columns = {}
    for name, values in zip(header, zip(*rows)):
        try:
            columns[name] = np.array(values, dtype=np.float64)
        except ValueError:
            columns[name] = np.array(values)
    return Table(columns, path, stage)
