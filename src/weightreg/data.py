"""The data: the tutorial's two moons, scikit-learn's bundled datasets, or a CSV of your own;
the train/test split, standardized; the prepared split as one file that later stages read.

Two moons stay exactly the tutorial's: `make_moons`, the first `n_train` rows train, the rest
test, no scaling. Every other source is split as users expect:
`train_test_split(X, y, test_size=test_fraction, random_state=random_state)`, stratified by
class for classification; `n_train` keeps the first rows of the training part; features, and a
regression target, are standardized with the training rows' mean and standard deviation
(`StandardScaler` fitted on them).
"""

from __future__ import annotations

import dataclasses
import io as _bytes
import json
import zipfile
from dataclasses import dataclass

import numpy as np

from weightreg import tasks
from weightreg.io import BadInput
from weightreg.params import Data
from weightreg.tasks import Task

# scikit-learn's datasets that ship with it (no download), and their tasks.
BUNDLED = {"breast_cancer": "binary", "digits": "multiclass", "wine": "multiclass",
           "iris": "multiclass", "diabetes": "regression"}
SOURCES = ("moons", *BUNDLED, "csv")
POINTS = 5000  # rows at most in the data picture's table (data/points.csv, kept in git)


@dataclass(frozen=True)
class Split:
    x_train: np.ndarray  # [n_train, features] float32
    y_train: np.ndarray  # [n_train] float32: 0 or 1, a class index, or a standardized value
    x_test: np.ndarray
    y_test: np.ndarray


@dataclass(frozen=True)
class Dataset:
    """A prepared split and what it is."""

    split: Split
    task: Task
    source: str  # "two moons", "breast_cancer", or the CSV's path
    features: tuple[str, ...]
    classes: tuple[str, ...] = ()  # the class of each label 0, 1, ...; none for regression

    def describe(self) -> str:
        what = (f"{len(self.classes)} classes" if self.task.classifies else "a real target")
        return (f"{self.source}: {len(self.features)} features, {what} ({self.task.name}), "
                f"{len(self.split.y_train)} training rows, {len(self.split.y_test)} test rows")


def make(settings: Data) -> Split:
    """`make_moons` as the tutorial calls it; the first `n_train` rows train, the rest test."""
    from sklearn.datasets import make_moons

    moons = settings.moons
    x, y = make_moons(n_samples=moons.n_samples, noise=moons.noise,
                      random_state=settings.random_state)
    x, y = x.astype(np.float32), y.astype(np.float32)
    n = moons.n_train
    return Split(x[:n], y[:n], x[n:], y[n:])


@dataclass(frozen=True)
class Table:
    """A source's rows before the split: numeric features and the raw target."""

    x: np.ndarray  # [rows, features] float64
    y: np.ndarray  # [rows]: numbers or labels
    features: tuple[str, ...]
    source: str
    names: tuple[str, ...] = ()  # the classes of labels 0, 1, ... where the source names them


def read(settings: Data) -> Table:
    """The rows of a source other than two moons, checked: numeric features, no missing values."""
    if settings.source == "csv":
        return _read_csv(settings.path, settings.target)
    from sklearn import datasets

    bunch = getattr(datasets, f"load_{settings.source}")()
    names = tuple(map(str, bunch.get("target_names", ()))) if BUNDLED[settings.source] != \
        "regression" else ()
    return Table(np.asarray(bunch.data, np.float64), np.asarray(bunch.target),
                 tuple(map(str, bunch.feature_names)), settings.source, names)


def _read_csv(path: str, target: str) -> Table:
    import pandas as pd

    where = f"data.path = {path!r}"
    try:
        frame = pd.read_csv(path)
    except FileNotFoundError:
        raise BadInput(f"params.yaml: {where}: no such file; give the path of a CSV file, "
                       "relative to the project root") from None
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        raise BadInput(f"params.yaml: {where}: not a readable CSV file "
                       f"({type(error).__name__}: {str(error).strip()})") from None
    if target not in frame.columns:
        raise BadInput(f"params.yaml: data.target = {target!r} is not a column of {path}; its "
                       f"columns are {', '.join(map(str, frame.columns))}")
    features = frame.drop(columns=[target])
    if features.shape[1] == 0:
        raise BadInput(f"{path}: has no feature columns besides the target {target!r}")
    missing = frame.isna().sum()
    missing = missing[missing > 0]
    if len(missing):
        listed = ", ".join(f"{name} ({count})" for name, count in missing.items())
        raise BadInput(f"{path}: {int(missing.sum())} missing values, in columns {listed}; fill "
                       "or drop them before the study")
    text = [str(name) for name, kind in features.dtypes.items()
            if not pd.api.types.is_numeric_dtype(kind) or pd.api.types.is_bool_dtype(kind)]
    if text:
        raise BadInput(f"{path}: feature columns {', '.join(text)} are not numeric; encode or "
                       "drop them (only data.target may hold labels)")
    numbers = frame.select_dtypes("number")
    infinite = [str(name) for name in numbers.columns if not np.isfinite(numbers[name]).all()]
    if infinite:
        raise BadInput(f"{path}: columns {', '.join(infinite)} hold infinite values; replace or "
                       "drop them before the study")
    return Table(features.to_numpy(np.float64), frame[target].to_numpy(),
                 tuple(map(str, features.columns)), path)


def task_of(table: Table, settings: Data) -> tuple[Task, tuple[str, ...], np.ndarray]:
    """The task (data.task, or what the target is), the class names and the target as the
    engine takes it: class indices 0, 1, ... in the order of the sorted labels, or numbers."""
    from sklearn.utils.multiclass import type_of_target

    y = table.y
    numeric = np.issubdtype(y.dtype, np.number) and not np.issubdtype(y.dtype, np.bool_)
    found = BUNDLED.get(settings.source) or {"binary": "binary", "multiclass": "multiclass",
                                             "continuous": "regression"}.get(type_of_target(y))
    chosen = found if settings.task == "auto" else settings.task
    key = f"data.task = {settings.task!r}"
    if chosen is None:
        raise BadInput(f"{table.source}: target {settings.target!r} is neither class labels nor "
                       "real numbers; set data.task to binary, multiclass or regression")
    if chosen == "regression":
        if not numeric:
            raise BadInput(f"params.yaml: {key} does not fit {table.source}: its target holds "
                           "labels, not numbers; expected binary or multiclass")
        return tasks.regression(), (), y.astype(np.float64)
    labels, codes = np.unique(y.astype(str) if not numeric else y, return_inverse=True)
    if len(labels) < 2:
        raise BadInput(f"{table.source}: the target has only one class ({labels[0]}); a "
                       "classifier needs two or more")
    if chosen == "binary" and len(labels) != 2:
        raise BadInput(f"params.yaml: {key} does not fit {table.source}: its target has "
                       f"{len(labels)} classes; expected multiclass (or auto)")
    if chosen == "multiclass" and len(labels) == 2 and settings.task != "auto":
        raise BadInput(f"params.yaml: {key} does not fit {table.source}: its target has 2 "
                       "classes; expected binary (or auto)")
    names = (table.names if len(table.names) == len(labels)
             else tuple(_label(label) for label in labels))
    task = tasks.BINARY if len(labels) == 2 else tasks.multiclass(len(labels))
    return task, names, codes.astype(np.float64)


def _label(label) -> str:
    if isinstance(label, (float, np.floating)) and float(label).is_integer():
        return str(int(label))
    return str(label)


def prepare(settings: Data, folds: int = 2) -> Dataset:
    """The split of `settings.source` at `settings.random_state`, checked and scaled. A class
    with fewer rows than `folds` (selection's cross-validation) is refused."""
    if settings.source == "moons":
        return Dataset(make(settings), tasks.BINARY, "two moons", ("x1", "x2"), ("0", "1"))
    table = read(settings)
    task, classes, y = task_of(table, settings)
    return split(table, task, classes, y, settings, folds)


def split(table: Table, task: Task, classes: tuple[str, ...], y: np.ndarray, settings: Data,
          folds: int = 2) -> Dataset:
    """One split of a read source (see the module's docstring)."""
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    if task.classifies:
        _enough_rows(y, classes, 2, f"{table.source}: class", "the train/test split needs two")
    try:
        x_train, x_test, y_train, y_test = train_test_split(
            table.x, y, test_size=settings.test_fraction, random_state=settings.random_state,
            stratify=y if task.classifies else None)
    except ValueError as error:  # too few rows for the fraction, or for one row per class
        raise BadInput(f"params.yaml: data.test_fraction = {settings.test_fraction!r} cannot "
                       f"split {table.source} ({len(y)} rows): {error}") from None
    if settings.n_train is not None:
        if settings.n_train > len(y_train):
            raise BadInput(f"params.yaml: data.n_train = {settings.n_train!r} is not allowed; "
                           f"expected at most the {len(y_train)} training rows of "
                           f"{table.source} (or null: all of them)")
        x_train, y_train = x_train[:settings.n_train], y_train[:settings.n_train]
        if task.classifies and len(np.unique(y_train)) < 2:
            raise BadInput(f"params.yaml: data.n_train = {settings.n_train!r} keeps training "
                           "rows of one class only; expected more rows")
    if task.classifies:  # selection's StratifiedKFold runs on the training rows
        _enough_rows(y_train, classes, folds, f"{table.source}: the training rows of class",
                     f"selection.folds = {folds} needs one in every fold")
    scaler = StandardScaler().fit(x_train)
    x_train, x_test = scaler.transform(x_train), scaler.transform(x_test)
    if not task.classifies:
        target = StandardScaler().fit(y_train[:, None])
        y_train = target.transform(y_train[:, None])[:, 0]
        y_test = target.transform(y_test[:, None])[:, 0]
    as32 = [np.ascontiguousarray(a, np.float32) for a in (x_train, y_train, x_test, y_test)]
    return Dataset(Split(*as32), task, table.source, table.features, classes)


def _enough_rows(y: np.ndarray, classes: tuple[str, ...], least: int, what: str,
                 why: str) -> None:
    counts = np.bincount(y.astype(int), minlength=len(classes))
    smallest = int(np.argmin(counts))
    if counts[smallest] < least:
        hint = ("; if the target is a quantity rather than classes, set data.task: regression"
                if len(classes) > 10 else "")
        raise BadInput(f"{what} {classes[smallest]!r} has {counts[smallest]} rows, fewer than "
                       f"{least}: {why}{hint}")


def draws(settings: Data, count: int, folds: int = 2) -> list[tuple[int, Dataset]]:
    """`count` draws of the same data: random_state = settings.random_state + 0, 1, ...
    (another `make_moons` sample, or another split of the same rows), so draw 0 is
    `prepare(settings)`. Returns (random_state, dataset) pairs."""
    first = settings.random_state
    states = range(first, first + count)
    if settings.source == "moons":
        return [(r, prepare(dataclasses.replace(settings, random_state=r))) for r in states]
    table = read(settings)  # read once, split many times
    task, classes, y = task_of(table, settings)
    return [(r, split(table, task, classes, y, dataclasses.replace(settings, random_state=r),
                      folds)) for r in states]


# The prepared split on disk: a zip of .npy arrays and a JSON description, written with fixed
# timestamps so that the same data give the same bytes (DVC hashes them).
ARRAYS = ("x_train", "y_train", "x_test", "y_test")


def to_bytes(dataset: Dataset) -> bytes:
    buffer = _bytes.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        def entry(name: str, content: bytes) -> None:
            archive.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), content,
                             zipfile.ZIP_DEFLATED)

        entry("dataset.json", json.dumps({
            "task": dataset.task.name, "source": dataset.source,
            "features": list(dataset.features), "classes": list(dataset.classes)}).encode())
        for name in ARRAYS:
            array = _bytes.BytesIO()
            np.lib.format.write_array(array, getattr(dataset.split, name), allow_pickle=False)
            entry(f"{name}.npy", array.getvalue())
    return buffer.getvalue()


def load(path) -> Dataset:
    """The data stage's output, with a clear error if it is missing or damaged."""
    rerun = "rerun the data stage (`dvc repro data`)"
    try:
        with zipfile.ZipFile(path) as archive:
            meta = json.loads(archive.read("dataset.json"))
            arrays = {name: np.lib.format.read_array(_bytes.BytesIO(
                archive.read(f"{name}.npy")), allow_pickle=False) for name in ARRAYS}
        task = tasks.of(meta["task"], len(meta["classes"]))
        dataset = Dataset(Split(**arrays), task, meta["source"], tuple(meta["features"]),
                          tuple(meta["classes"]))
    except FileNotFoundError:
        raise BadInput(f"{path}: no such file; {rerun}") from None
    except (OSError, KeyError, ValueError, TypeError, zipfile.BadZipFile) as error:
        raise BadInput(f"{path}: not a prepared split ({type(error).__name__}: {error}); "
                       f"{rerun}") from None
    s = dataset.split
    shapes_agree = (s.x_train.ndim == s.x_test.ndim == 2 and s.x_train.shape[1] ==
                    s.x_test.shape[1] == len(dataset.features) and len(s.x_train) ==
                    len(s.y_train) > 0 and len(s.x_test) == len(s.y_test) > 0)
    if not shapes_agree or not all(np.isfinite(a).all() for a in arrays.values()):
        raise BadInput(f"{path}: damaged (shapes or values); {rerun}")
    return dataset


def points_csv(dataset: Dataset) -> str:
    """The data picture's table, one row per point: the first two features, the class (the
    target's quartile for regression) and the split. Two moons: every point, in the
    generator's order; other sources: at most POINTS rows."""
    from weightreg import io

    split = dataset.split
    parts = [("train", split.x_train, split.y_train), ("test", split.x_test, split.y_test)]
    if dataset.source != "two moons":
        share = POINTS // 2
        parts = [(name, x[:share], y[:share]) for name, x, y in parts]
    x = np.concatenate([x for _, x, _ in parts])
    y = np.concatenate([y for _, _, y in parts])
    if dataset.task.classifies:
        label = y.astype(int)
    else:
        label = 1 + np.searchsorted(np.quantile(split.y_train, [0.25, 0.5, 0.75]), y)
    second = x[:, 1] if x.shape[1] > 1 else np.zeros(len(x), np.float32)
    return io.to_csv({"x1": x[:, 0].tolist(), "x2": second.tolist(), "y": label.tolist(),
                      "split": [name for name, part, _ in parts for _ in range(len(part))]},
                     exact=True)


def sequences(rows: int, length: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A contrived sequence task for the Conv1D and LSTM examples: Gaussian noise with one bump
    of width 5 at a random place, upward for class 1 and downward for class 0.

    Returns x [rows, length, 1] and y [rows] as float32.
    """
    rng = np.random.default_rng(seed)
    bump = np.array([0.5, 1.0, 1.5, 1.0, 0.5])
    x = rng.normal(size=(rows, length, 1))
    y = rng.integers(0, 2, size=rows)
    for row, start in enumerate(rng.integers(0, length - len(bump) + 1, size=rows)):
        x[row, start:start + len(bump), 0] += bump if y[row] else -bump
    return x.astype(np.float32), y.astype(np.float32)
