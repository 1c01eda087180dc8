"""The data: the tutorial's two moons, scikit-learn's bundled datasets, or a CSV of your own;
the train/test split and its preprocessing; the prepared split as one file that later stages
read.

Two moons stay exactly the tutorial's: `make_moons`, the first `n_train` rows train, the rest
test, no scaling. Every other source is read as a table (`preprocess.tidy`: text, missing values
and identifiers) and split as users expect:
`train_test_split(rows, test_size=test_fraction, random_state=random_state)`, stratified by
class for classification; `n_train` keeps the first rows of the training part. The
preprocessing (imputing, standardizing, one-hot; `preprocess.fit`) is fitted on the training
rows of each split alone, and again on the training rows of each of selection's folds
(`Dataset.folds`), so that no held-out row's values reach its model.
"""

from __future__ import annotations

import dataclasses
import io as _bytes
import json
import math
import zipfile
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from weightreg import guard, tasks
from weightreg.io import BadInput
from weightreg.params import Data
from weightreg.tasks import Task

if TYPE_CHECKING:  # imported where a table is read: it imports scikit-learn (about a second)
    from weightreg import preprocess

# scikit-learn's datasets that ship with it (no download), and their tasks.
BUNDLED = {"breast_cancer": "binary", "digits": "multiclass", "wine": "multiclass",
           "iris": "multiclass", "diabetes": "regression"}
SOURCES = ("moons", *BUNDLED, "csv")
# `data.task: auto` reads a numeric target with more distinct values than this as a quantity
# (regression), fewer as class labels.
MOST_CLASSES = 20
POINTS = 5000  # rows at most in the data picture's table (data/points.csv, kept in git)


@dataclass(frozen=True)
class Split:
    x_train: np.ndarray  # [n_train, features] float32
    y_train: np.ndarray  # [n_train] float32: 0 or 1, a class index, or a standardized value
    x_test: np.ndarray
    y_test: np.ndarray


@dataclass(frozen=True)
class Rows:
    """Where a split of a read source came from, to fit its preprocessing again on part of its
    training rows (selection's folds)."""

    table: "Table"
    y: np.ndarray  # the whole table's target, as the engine takes it
    train: np.ndarray  # the split's training and test rows (indices into the table)
    test: np.ndarray
    fitted: preprocess.Fitted  # the preprocessing fitted on them


@dataclass(frozen=True)
class Dataset:
    """A prepared split and what it is."""

    split: Split
    task: Task
    source: str  # "two moons", "breast_cancer", or the CSV's path
    features: tuple[str, ...]
    classes: tuple[str, ...] = ()  # the class of each label 0, 1, ...; none for regression
    numeric: int | None = None  # the first features that are the source's numbers (None: all)
    rows: Rows | None = None  # where the split came from; none for two moons and a loaded split
    shape: tuple[int, ...] | None = None  # data.shape: how model.layers views a row (None: flat)

    def describe(self) -> str:
        what = (f"{len(self.classes)} classes" if self.task.classifies else "a real target")
        notes = "".join(f"; {note}" for note in self.rows.table.notes) if self.rows else ""
        return (f"{self.source}: {len(self.features)} features, {what} ({self.task.name}), "
                f"{len(self.split.y_train)} training rows, {len(self.split.y_test)} test rows"
                f"{notes}")

    def folds(self, count: int) -> list[Split]:
        """k-fold cross-validation on the training rows (`selection`). Two moons: each fold
        holds out a contiguous part (the rows are in make_moons' random order) and trains on
        the rest. Other sources: scikit-learn's `StratifiedKFold` for classification (each
        fold keeps the classes' shares), `KFold` for regression, both without shuffling (the
        split already shuffled), and the preprocessing fitted again on each fold's training
        rows alone."""
        split = self.split
        rows = np.arange(len(split.y_train))
        if self.source == "two moons":
            held_out = np.array_split(rows, count)
        else:
            from sklearn.model_selection import KFold, StratifiedKFold

            splitter = (StratifiedKFold if self.task.classifies else KFold)(n_splits=count)
            held_out = [held for _, held in splitter.split(split.x_train, split.y_train)]
        return [self._fold(np.setdiff1d(rows, held), held) for held in held_out]

    def _fold(self, kept: np.ndarray, held: np.ndarray) -> Split:
        split = self.split
        if self.rows is None:  # two moons: nothing fitted
            return Split(split.x_train[kept], split.y_train[kept], split.x_train[held],
                         split.y_train[held])
        rows = self.rows
        return fit(rows.table, self.task, rows.y, rows.train[kept], rows.train[held])[1]


def make(settings: Data) -> Split:
    """`make_moons` as the tutorial calls it; the first `n_train` rows train, the rest test."""
    from sklearn.datasets import make_moons

    moons = settings.moons
    x, y = make_moons(n_samples=moons.n_samples, noise=moons.noise,
                      random_state=settings.random_state)
    if not (np.abs(x) <= np.finfo(np.float32).max).all():  # checked before the cast
        raise BadInput(f"params.yaml: data.moons.noise = {moons.noise!r} is too large: points "
                       "beyond float32's range; expected a noise of a few units at most")
    x, y = x.astype(np.float32), y.astype(np.float32)
    n = moons.n_train
    return Split(x[:n], y[:n], x[n:], y[n:])


@dataclass(frozen=True)
class Table:
    """A source's rows before any split: the feature columns as read, and the raw target."""

    frame: object  # pandas DataFrame of the kept feature columns (numbers, text, gaps)
    y: np.ndarray  # [rows]: numbers or labels
    columns: preprocess.Columns
    source: str
    names: tuple[str, ...] = ()  # the classes of labels 0, 1, ... where the source names them
    notes: tuple[str, ...] = ()  # what reading did (`preprocess.tidy`)

    @property
    def features(self) -> tuple[str, ...]:
        return self.columns.features


def read(settings: Data) -> Table:
    """The rows of a source other than two moons, checked and typed (`preprocess.tidy`)."""
    import pandas as pd

    from weightreg import preprocess

    if settings.source == "csv":
        return _read_csv(settings)
    from sklearn import datasets

    bunch = getattr(datasets, f"load_{settings.source}")()
    names = tuple(map(str, bunch.get("target_names", ()))) if BUNDLED[settings.source] != \
        "regression" else ()
    features = tuple(map(str, bunch.feature_names))
    return Table(pd.DataFrame(np.asarray(bunch.data, np.float64), columns=list(features)),
                 np.asarray(bunch.target), preprocess.Columns(features, ()), settings.source,
                 names)


def _read_csv(settings: Data) -> Table:
    import pandas as pd

    from weightreg import preprocess

    path, target = settings.path, settings.target
    where = f"data.path = {path!r}"
    try:
        content = guard.read(path)  # what the stage read, so that it writes only for that
        frame = pd.read_csv(_bytes.BytesIO(content))
        header = pd.read_csv(_bytes.BytesIO(content), header=None, nrows=1,
                             dtype=str).iloc[0].tolist()
    except FileNotFoundError:
        raise BadInput(f"params.yaml: {where}: no such file; give the path of a CSV file, "
                       "relative to the project root") from None
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        raise BadInput(f"params.yaml: {where}: not a readable CSV file "
                       f"({type(error).__name__}: {str(error).strip()})") from None
    twice = sorted({str(name) for name in header if header.count(name) > 1})
    if twice:  # pandas would rename the second one (`label.1`), and keep it as a feature
        raise BadInput(f"{path}: columns named twice in the header: {', '.join(twice)}; "
                       "rename or remove one of each")
    if target not in frame.columns:
        raise BadInput(f"params.yaml: data.target = {target!r} is not a column of {path}; its "
                       f"columns are {', '.join(map(str, frame.columns))}")
    if len(frame) == 0:
        raise BadInput(f"{path}: has a header and no rows")
    features, y, columns, notes = preprocess.tidy(frame, target, path, settings.drop,
                                                  settings.missing, settings.categorical)
    return Table(features, y.to_numpy(), columns, path, notes=notes)


def task_of(table: Table, settings: Data) -> tuple[Task, tuple[str, ...], np.ndarray]:
    """The task (data.task, or what the target is), the class names and the target as the
    engine takes it: class indices 0, 1, ... in the order of the sorted labels, or numbers."""
    from sklearn.utils.multiclass import type_of_target

    y = table.y
    numeric = np.issubdtype(y.dtype, np.number) and not np.issubdtype(y.dtype, np.bool_)
    if numeric and not (np.abs(y) <= np.finfo(np.float32).max).all():
        raise BadInput(f"{table.source}: the target {settings.target!r} holds infinite "
                       "values or values beyond float32; replace or drop those rows")
    found = BUNDLED.get(settings.source) or {"binary": "binary", "multiclass": "multiclass",
                                             "continuous": "regression"}.get(type_of_target(y))
    if found == "multiclass" and numeric and len(np.unique(y)) > MOST_CLASSES:
        found = "regression"  # whole numbers with many values: a count or a measure
    chosen = found if settings.task == "auto" else settings.task
    key = f"data.task = {settings.task!r}"
    if chosen is None:
        raise BadInput(f"{table.source}: target {settings.target!r} is neither class labels nor "
                       "real numbers; set data.task to binary, multiclass or regression")
    if chosen == "regression":
        if not numeric:
            raise BadInput(f"params.yaml: {key} does not fit {table.source}: its target holds "
                           "labels, not numbers; expected binary or multiclass")
        y = y.astype(np.float64)
        if y.min() == y.max():
            raise BadInput(f"{table.source}: the target {settings.target!r} is constant "
                           f"({_label(y[0])} in every row): there is nothing to predict")
        return tasks.regression(), (), y
    labels, codes = np.unique(y.astype(str) if not numeric else y, return_inverse=True)
    if len(labels) < 2:
        raise BadInput(f"{table.source}: the target has only one class ({labels[0]}); a "
                       "classifier needs two or more")
    if found == "regression" and len(labels) != (2 if chosen == "binary" else len(labels)):
        raise BadInput(f"params.yaml: {key} does not fit {table.source}: its target holds "
                       f"{len(labels)} distinct numbers, a quantity; expected regression (or "
                       "auto)")
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
        return shaped(Dataset(make(settings), tasks.BINARY, "two moons", ("x1", "x2"),
                              ("0", "1")), settings)
    table = read(settings)
    task, classes, y = task_of(table, settings)
    return split(table, task, classes, y, settings, folds)


def shaped(dataset: Dataset, settings: Data) -> Dataset:
    """The dataset with data.shape, which must hold its features exactly."""
    if settings.shape is None:
        return dataset
    features = len(dataset.features)
    if math.prod(settings.shape) != features:
        raise BadInput(f"params.yaml: data.shape = {list(settings.shape)} holds "
                       f"{math.prod(settings.shape)} features per row; {dataset.source} has "
                       f"{features} (after one-hot encoding); expected sizes whose product is "
                       f"{features}")
    return dataclasses.replace(dataset, shape=settings.shape)


def split(table: Table, task: Task, classes: tuple[str, ...], y: np.ndarray, settings: Data,
          folds: int = 2) -> Dataset:
    """One split of a read source (see the module's docstring)."""
    train, test = split_rows(table, task, classes, y, settings, folds)
    fitted, prepared = fit(table, task, y, train, test)
    return shaped(Dataset(prepared, task, table.source, table.features, classes,
                          len(table.columns.numeric), Rows(table, y, train, test, fitted)),
                  settings)


def split_rows(table: Table, task: Task, classes: tuple[str, ...], y: np.ndarray,
               settings: Data, folds: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """The training and test rows of one split (indices into the table), checked: enough of
    every class for the split and selection's folds, or for R² two test rows that differ."""
    from sklearn.model_selection import train_test_split

    if task.classifies:
        _enough_rows(y, classes, 2, f"{table.source}: class", "the train/test split needs two")
    try:
        train, test = train_test_split(
            np.arange(len(y)), test_size=settings.test_fraction,
            random_state=settings.random_state, stratify=y if task.classifies else None)
    except ValueError as error:  # too few rows for the fraction, or for one row per class
        raise BadInput(f"params.yaml: data.test_fraction = {settings.test_fraction!r} cannot "
                       f"split {table.source} ({len(y)} rows): {error}") from None
    if settings.n_train is not None:
        if settings.n_train > len(train):
            raise BadInput(f"params.yaml: data.n_train = {settings.n_train!r} is not allowed; "
                           f"expected at most the {len(train)} training rows of "
                           f"{table.source} (or null: all of them)")
        train = train[:settings.n_train]
        if task.classifies and len(np.unique(y[train])) < 2:
            raise BadInput(f"params.yaml: data.n_train = {settings.n_train!r} keeps training "
                           "rows of one class only; expected more rows")
    if task.classifies:  # selection's StratifiedKFold runs on the training rows
        kept = ("" if settings.n_train is None else
                f" (params.yaml: data.n_train = {settings.n_train!r} keeps too few rows)")
        _enough_rows(y[train], classes, folds, f"{table.source}: the training rows of class",
                     f"selection.folds = {folds} needs one in every fold{kept}")
    else:  # R² needs two rows and two values: in the test rows, and in each fold's held out
        if len(test) < 2 or y[test].min() == y[test].max():
            raise BadInput(f"params.yaml: data.test_fraction = {settings.test_fraction!r} "
                           f"leaves {len(test)} test rows of {table.source} with one target "
                           "value, where R² is undefined; expected a larger fraction")
        if len(train) < 2 * folds:
            raise BadInput(f"params.yaml: selection.folds = {folds} needs {2 * folds} "
                           f"training rows or more (two held out per fold, for R²); "
                           f"{table.source} has {len(train)}; expected fewer folds, or a "
                           "larger data.n_train")
    return train, test


def fit(table: Table, task: Task, y: np.ndarray, train: np.ndarray,
        test: np.ndarray) -> tuple[preprocess.Fitted, Split]:
    """The preprocessing fitted on the rows `train` of `table` alone, and those rows and the
    rows `test` through it."""
    from weightreg import preprocess

    fitted = preprocess.fit(table.frame.iloc[train], table.columns,
                            None if task.classifies else y[train])
    x_train, x_test = (fitted.inputs(table.frame.iloc[rows]) for rows in (train, test))
    y_train, y_test = (y[rows] if task.classifies else fitted.target(y[rows])
                       for rows in (train, test))
    as32 = [np.ascontiguousarray(a, np.float32) for a in (x_train, y_train, x_test, y_test)]
    return fitted, Split(*as32)


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
    return [(r, _draw(i, r, split, table, task, classes, y, settings, folds))
            for i, r in enumerate(states)]


def _draw(i: int, r: int, how, table, task, classes, y, settings: Data, folds: int):
    """Draw i (random_state r) of replication by `how`; a refusal names the draw."""
    try:
        return how(table, task, classes, y, dataclasses.replace(settings, random_state=r), folds)
    except BadInput as error:
        if i == 0:  # the study's own split: the message says it all
            raise
        raise BadInput(f"draw {i} of replication (random_state {r}): {error}") from None


def check_study(dataset: Dataset, settings: Data, count: int, folds: int,
                folded: int) -> None:
    """Refuse (`BadInput`) data that a later stage could not use: every one of `count` draws
    of replication, and the `folds` folds of each of the first `folded` (selection), made as
    those stages will make them from the table `dataset` was split from (rows only: nothing is
    fitted or read again). The `data` stage calls it, so that a later stage never deletes its
    outputs for a problem the data had from the start. Two moons: every draw is a new sample
    of the same size, which params.yaml checks."""
    if dataset.rows is None:
        return
    from sklearn.model_selection import KFold

    table, y, task, classes = dataset.rows.table, dataset.rows.y, dataset.task, dataset.classes
    for i, r in enumerate(range(settings.random_state, settings.random_state + count)):
        train, _ = _draw(i, r, split_rows, table, task, classes, y, settings, folds)
        if i >= folded or task.classifies:  # classes per fold: `split_rows` checked them
            continue
        for f, (_, held) in enumerate(KFold(n_splits=folds).split(train)):  # as `folds`
            if len(held) < 2 or np.ptp(y[train[held]]) == 0:
                raise BadInput(
                    f"params.yaml: selection.folds = {folds} leaves fold {f} of draw {i} "
                    f"(random_state {r}) {len(held)} held-out rows with one target value, "
                    "where R² is undefined; expected fewer folds (or more rows)")


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
            "features": list(dataset.features), "classes": list(dataset.classes),
            **({} if dataset.numeric is None else {"numeric": dataset.numeric}),
            **({} if dataset.shape is None else {"shape": list(dataset.shape)})}).encode())
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
                          tuple(meta["classes"]), meta.get("numeric"),
                          shape=tuple(meta["shape"]) if "shape" in meta else None)
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
    """The data picture's table, one row per point: the first two numeric features (zeros
    where the source has fewer) and their names, the class (the target's quartile for
    regression), as a number and as the chart's legend names it, and the split. Two moons:
    every point, in the generator's order; other sources: at most POINTS rows."""
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
    numeric = x.shape[1] if dataset.numeric is None else dataset.numeric
    zeros = np.zeros(len(x), np.float32)
    first = x[:, 0] if numeric > 0 else zeros
    second = x[:, 1] if numeric > 1 else zeros
    named = [dataset.features[i] if i < numeric else "none" for i in (0, 1)]
    # The colour's legend: class names, or quartiles, which a diff of two studies keeps apart.
    colour = ([f"class {dataset.classes[i]}" for i in label] if dataset.task.classifies
              else [f"target quartile {q}" for q in label])
    return io.to_csv({"x1": first.tolist(), "x2": second.tolist(), "y": label.tolist(),
                      "split": [name for name, part, _ in parts for _ in range(len(part))],
                      # What x1 and x2 are, for the chart's header (dvc.yaml fixes its fields).
                      "features": [f"x1: {named[0]}, x2: {named[1]}"] * len(x),
                      "colour": colour},
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
