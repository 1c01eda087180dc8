"""Read params.yaml once, validate every key, and return frozen dataclasses.

Library code never opens params.yaml: stages call `load()` at the edge and pass typed objects
down. Every problem raises `ParamsError` (bad input) naming the key, the value and what is
allowed, so a stage stops before it writes anything.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import re
from dataclasses import dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any, get_type_hints


from weightreg import layers
from weightreg.io import BadInput
from weightreg.layers import Layer, Network
from weightreg.models import KINDS, widths

INTERPOLATIONS = ("step", "linear")
# data.source: the tutorial's two moons, scikit-learn's bundled datasets (no download), a CSV.
SOURCES = ("moons", "breast_cancer", "digits", "wine", "iris", "diabetes", "csv")
TASKS = ("auto", "binary", "multiclass", "regression")
MISSING = ("impute", "drop", "error")  # data.missing: what to do with a missing feature value
CATEGORICAL = ("onehot", "error")  # data.categorical: what to do with a text column
SEARCHES = ("auto", "halving", "exhaustive")  # study.search
# What `auto` means for model.hidden_units and train.epochs: the tutorial's on two moons, and on
# every other source a network and a length that overfit a few hundred rows in minutes.
# The re-splits of `replication` and `selection` likewise: two moons' 100 points move a score by
# several points from one split to the next, which 100 draws measure; a real table's split moves
# it less, and 20 draws (5 cross-validated) keep the study on 6,000 rows to under 5 minutes.
TUTORIAL_EPOCHS = 4000
# Early stopping: never on two moons, whose tutorial trains every one of its 4000 epochs; on
# every other source Keras' usual patience of 10 (README, "Early stopping").
AUTO = {"moons": {"hidden_units": 500, "epochs": TUTORIAL_EPOCHS, "draws": 100,
                  "selection_draws": 20, "early_stopping": None, "search": "exhaustive"},
        "other": {"hidden_units": (64, 64), "epochs": 100, "draws": 20, "selection_draws": 5,
                  "early_stopping": {"patience": 10, "min_delta": 0.0},
                  "search": "halving"}}


class ParamsError(BadInput):
    """A value in params.yaml that the study cannot use."""


def rule(checker: str):
    """A dataclass field checked by CHECKERS[checker] when params.yaml is read."""
    return field(metadata={"rule": checker})


# One dataclass per section of params.yaml: its fields are the section's keys, each with the rule
# that checks it. Adding a section means a dataclass here and a field of `Params`.


@dataclass(frozen=True)
class Moons:
    """`make_moons(n_samples, noise)`; the first n_train rows train, the rest test."""

    n_samples: int = rule("count")
    noise: float = rule("nonnegative")
    n_train: int = rule("count")


@dataclass(frozen=True)
class Data:
    source: str = rule("source")
    random_state: int = rule("integer")  # make_moons' seed, or the split's
    moons: Moons
    # Every source but moons (see `weightreg.data`):
    test_fraction: float = rule("fraction")
    n_train: int | None = rule("optional_count")  # the first n training rows; None: all
    task: str = rule("task")
    path: str = rule("text")  # source csv: the file, and its target column
    target: str = rule("text")
    drop: tuple[str, ...] = rule("names")  # source csv: columns left out (identifiers, notes)
    missing: str = rule("missing")  # impute, drop (rows) or error
    categorical: str = rule("categorical")  # onehot or error
    # How a row's features are viewed by model.layers: [8, 8, 1] an 8x8 image of one channel,
    # [30, 1] 30 time steps of one value; None: a flat list.
    shape: tuple[int, ...] | None = rule("shape")


def moons(n_samples: int = 100, noise: float = 0.2, random_state: int = 1,
          n_train: int = 30) -> Data:
    """Data settings for a draw of two moons (the tutorial's by default)."""
    return Data("moons", random_state, Moons(n_samples, noise, n_train), 0.3, None, "auto",
                "data/example.csv", "target", (), "impute", "onehot", None)


@dataclass(frozen=True)
class Model:
    hidden_units: tuple[int, ...] | int = rule("widths")  # one hidden layer's width, a list, auto
    # Keras layers and their arguments (`weightreg.layers`), the output layer left out; None:
    # the MLP of hidden_units.
    layers: tuple[Layer, ...] | None = rule("layers")


@dataclass(frozen=True)
class Stopping:
    """Keras' EarlyStopping(monitor="val_loss", patience, min_delta, restore_best_weights=True)."""

    patience: int = rule("whole")
    min_delta: float = rule("nonnegative")


@dataclass(frozen=True)
class Train:
    epochs: int = rule("count_or_auto")
    batch_size: int = rule("count")
    learning_rate: float = rule("positive")
    seeds: int = rule("count")
    # None: every member trains every epoch; auto is resolved by `parse` (see AUTO).
    early_stopping: Stopping | None = rule("early_stopping")
    validation_split: float = rule("fraction")  # the last part of the training rows it watches


@dataclass(frozen=True)
class Study:
    # How grid, refine, layerwise and decoupled spend their seeds (`study.search`): halving,
    # exhaustive, or auto (resolved by `parse`, see AUTO).
    search: str = rule("search")


@dataclass(frozen=True)
class Grid:
    kinds: tuple[str, ...] = rule("regularizers")
    values: tuple[float, ...] = rule("strengths")
    refine: int = rule("count")  # points per decade of the second, finer pass


@dataclass(frozen=True)
class Layerwise:
    hidden: tuple[float, ...] = rule("strengths")  # strengths on the hidden kernel
    output: tuple[float, ...] = rule("strengths")  # strengths on the output kernel


@dataclass(frozen=True)
class Decoupled:
    values: tuple[float, ...] = rule("strengths")  # strengths of both coupled l2 and AdamW's decay


@dataclass(frozen=True)
class Smithing:
    """The Neural Smithing schedule: (epoch, lambda) points joined by steps or linear ramps."""

    points: tuple[tuple[int, float], ...] = rule("points")
    interpolation: str = rule("interpolation")
    epochs: int = rule("count")


@dataclass(frozen=True)
class Repeated:
    """Continue the trained baseline with rising lambda, `epochs_per_level` epochs per level."""

    levels: tuple[float, ...] = rule("strengths")
    epochs_per_level: int = rule("count")


@dataclass(frozen=True)
class Progressive:
    smithing: Smithing
    repeated: Repeated


@dataclass(frozen=True)
class Boundaries:
    resolution: int = rule("count")  # mesh points per axis of the decision-function picture


@dataclass(frozen=True)
class Sequence:
    """Your own network on sequences: a Conv1D and an LSTM on a contrived task, trained by the
    engine with the study's seeds and training settings, l2 at each of grid.values."""

    n_train: int = rule("count")
    n_test: int = rule("count")
    length: int = rule("count")
    units: int = rule("count")
    epochs: int = rule("count")


@dataclass(frozen=True)
class Placement:
    """Where a penalty goes: the hidden kernel (the tutorial), plus its bias, and so on."""

    lam: float = field(metadata={"rule": "strength", "key": "lambda"})


@dataclass(frozen=True)
class Replication:
    """Other draws of the same data: random_state = data.random_state + 0 .. draws - 1."""

    draws: int = rule("count_or_auto")
    seeds: int = rule("count")  # seeds per draw and configuration
    lam: float = field(metadata={"rule": "strength", "key": "lambda"})  # the headline's l2


@dataclass(frozen=True)
class Selection:
    """Lambda chosen by k-fold cross-validation on the training rows, on the first draws."""

    folds: int = rule("count")
    draws: int = rule("count_or_auto")


@dataclass(frozen=True)
class Params:
    lam: float = field(metadata={"rule": "strength", "key": "lambda"})  # a Python keyword
    regularizer: str = rule("regularizer")
    data: Data
    model: Model
    train: Train
    study: Study
    grid: Grid
    layerwise: Layerwise
    decoupled: Decoupled
    placement: Placement
    progressive: Progressive
    boundaries: Boundaries
    sequence: Sequence
    replication: Replication
    selection: Selection


def key_of(item) -> str:
    """The params.yaml key of a dataclass field."""
    return item.metadata.get("key", item.name)


def _fail(key: str, value: Any, allowed: str) -> ParamsError:
    return ParamsError(f"params.yaml: {key} = {value!r} is not allowed; expected {allowed}")


def _number(key: str, value: Any) -> float:
    # `dvc exp run -S lambda=1e-05` writes 1e-05, which YAML 1.1 reads as a string: accept it.
    if isinstance(value, bool):
        raise _fail(key, value, "a number")
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            raise _fail(key, value, "a number") from None
    if isinstance(value, float) and math.isinf(value):
        raise _fail(key, value, "a finite number (YAML reads a number beyond 1.8e308 as "
                    "infinite)")
    if not isinstance(value, (int, float)) or not math.isfinite(value):
        raise _fail(key, value, "a finite number")
    return float(value)


def _integer(key: str, value: Any) -> int:
    number = _number(key, value)
    if number != int(number):
        raise _fail(key, value, "a whole number")
    return int(number)


def _count(key: str, value: Any) -> int:
    number = _integer(key, value)
    if number < 1:
        raise _fail(key, value, "a whole number >= 1")
    return number


def _nonnegative(key: str, value: Any) -> float:
    number = _number(key, value)
    if number < 0:
        raise _fail(key, value, "a number >= 0")
    return number


def _positive(key: str, value: Any) -> float:
    number = _number(key, value)
    if number <= 0:
        raise _fail(key, value, "a number > 0")
    return number


def _widths(key: str, value: Any) -> int | tuple[int, ...] | str:
    allowed = "a width >= 1, a non-empty list of widths (one per hidden layer), or auto"
    if value == "auto":
        return value
    if isinstance(value, list):
        if not value:
            raise _fail(key, value, allowed)
        return tuple(_count(f"{key}[{i}]", item) for i, item in enumerate(value))
    return _count(key, value)


def _shape(key: str, value: Any) -> tuple[int, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not value:
        raise _fail(key, value, "a list of sizes ([8, 8, 1]: an 8x8 image of one channel; "
                    "[30, 1]: 30 steps of one value), or null for a flat row")
    return tuple(_count(f"{key}[{i}]", item) for i, item in enumerate(value))


def _layers(key: str, value: Any) -> tuple[Layer, ...] | None:
    if value is None:
        return None
    if not isinstance(value, list) or not value:
        raise _fail(key, value, "a non-empty list of Keras layers ({Dense: {units: 64}}, ...; "
                    f"one of {', '.join(layers.SUPPORTED)}), or null for model.hidden_units")
    try:
        return tuple(layers.parse(item, f"{key}[{i}]") for i, item in enumerate(value))
    except ValueError as error:
        raise ParamsError(f"params.yaml: {error}") from None


def _whole(key: str, value: Any) -> int:
    number = _integer(key, value)
    if number < 0:
        raise _fail(key, value, "a whole number >= 0")
    return number


def _early_stopping(key: str, value: Any) -> Stopping | str | None:
    if value is None or value == "auto":
        return value
    if not isinstance(value, dict):
        raise _fail(key, value, "{patience: 10, min_delta: 0} (Keras' EarlyStopping), null for "
                    "none, or auto")
    return _build(Stopping, value, f"{key}.")


def _count_or_auto(key: str, value: Any) -> int | str:
    return value if value == "auto" else _count(key, value)


def _optional_count(key: str, value: Any) -> int | None:
    return None if value is None else _count(key, value)


def _fraction(key: str, value: Any) -> float:
    number = _number(key, value)
    if not 0 < number < 1:
        raise _fail(key, value, "a number between 0 and 1")
    return number


def _one_of(choices: tuple[str, ...]):
    def check(key: str, value: Any) -> str:
        if value not in choices:
            raise _fail(key, value, "one of " + ", ".join(choices))
        return value

    return check


def _text(key: str, value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)) or str(value) == "":
        raise _fail(key, value, "a non-empty text")
    return str(value)


def _names(key: str, value: Any) -> tuple[str, ...]:
    allowed = "a list of distinct column names ([] for none)"
    if not isinstance(value, list):
        raise _fail(key, value, allowed)
    names = tuple(_text(f"{key}[{i}]", item) for i, item in enumerate(value))
    if len(set(names)) != len(names):
        raise _fail(key, value, allowed)
    return names


def _strengths(key: str, value: Any) -> tuple[float, ...]:
    allowed = "a non-empty list of distinct numbers >= 0"
    if not isinstance(value, list) or not value:
        raise _fail(key, value, allowed)
    strengths = tuple(_nonnegative(f"{key}[{i}]", item) for i, item in enumerate(value))
    if len(set(strengths)) != len(strengths):
        raise _fail(key, value, allowed)
    return strengths


def _regularizer(key: str, value: Any) -> str:
    if value not in KINDS:
        raise _fail(key, value, "one of " + ", ".join(KINDS))
    return value


def _regularizers(key: str, value: Any) -> tuple[str, ...]:
    allowed = "a non-empty list of distinct kinds from " + ", ".join(KINDS)
    if not isinstance(value, list) or not value or len(set(map(str, value))) != len(value):
        raise _fail(key, value, allowed)
    return tuple(_regularizer(f"{key}[{i}]", item) for i, item in enumerate(value))


def _interpolation(key: str, value: Any) -> str:
    if value not in INTERPOLATIONS:
        raise _fail(key, value, "one of " + ", ".join(INTERPOLATIONS))
    return value


def _points(key: str, value: Any) -> tuple[tuple[int, float], ...]:
    allowed = "a non-empty list of [epoch, lambda] pairs, epochs rising from 0"
    if not isinstance(value, list) or not value:
        raise _fail(key, value, allowed)
    points = []
    for i, item in enumerate(value):
        if not isinstance(item, list) or len(item) != 2:
            raise _fail(f"{key}[{i}]", item, "an [epoch, lambda] pair")
        epoch = _integer(f"{key}[{i}][0]", item[0])
        points.append((epoch, _nonnegative(f"{key}[{i}][1]", item[1])))
    epochs = [epoch for epoch, _ in points]
    if epochs[0] != 0 or any(b <= a for a, b in zip(epochs, epochs[1:])):
        raise _fail(key, value, allowed)
    return tuple(points)


CHECKERS = {
    "strength": _nonnegative, "strengths": _strengths, "regularizer": _regularizer,
    "regularizers": _regularizers,
    "count": _count, "integer": _integer, "nonnegative": _nonnegative, "positive": _positive,
    "points": _points, "interpolation": _interpolation, "widths": _widths, "shape": _shape,
    "layers": _layers, "whole": _whole, "early_stopping": _early_stopping,
    "search": _one_of(SEARCHES),
    "optional_count": _optional_count, "count_or_auto": _count_or_auto, "fraction": _fraction, "source": _one_of(SOURCES),
    "task": _one_of(TASKS), "text": _text, "names": _names, "missing": _one_of(MISSING),
    "categorical": _one_of(CATEGORICAL),
}


def _build(cls, raw: Any, prefix: str = ""):
    """Check `raw` against the fields of dataclass `cls` and build it (sections recursively)."""
    hints = get_type_hints(cls)
    schema = {key_of(item): item for item in fields(cls)}
    section = prefix.rstrip(".") or "the top level"
    if not isinstance(raw, dict):
        raise _fail(section, raw, "a mapping of keys " + ", ".join(schema))
    for key in raw:
        if key not in schema:
            close = difflib.get_close_matches(str(key), list(schema), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ParamsError(f"params.yaml: unknown key {prefix}{key!s} in {section}; "
                              f"allowed keys: {', '.join(schema)}{hint}")
    values = {}
    for key, item in schema.items():
        if key not in raw:
            raise ParamsError(f"params.yaml: missing key {prefix}{key}")
        kind = hints[item.name]
        if is_dataclass(kind):
            values[item.name] = _build(kind, raw[key], f"{prefix}{key}.")
        else:
            values[item.name] = CHECKERS[item.metadata["rule"]](f"{prefix}{key}", raw[key])
    return cls(**values)


def parse(raw: Any) -> Params:
    """Validate a parsed params.yaml document and build the typed parameters (`auto` resolved
    for the source, see AUTO)."""
    p = _build(Params, raw)
    auto = AUTO["moons" if p.data.source == "moons" else "other"]
    if p.model.layers is not None and p.model.hidden_units != "auto":
        raise ParamsError(f"params.yaml: model.layers and model.hidden_units = "
                          f"{_listed(p.model.hidden_units)!r} both give the network; expected "
                          "model.hidden_units: auto with model.layers (or model.layers: null)")
    if p.model.hidden_units == "auto":
        p = dataclasses.replace(p, model=dataclasses.replace(
            p.model, hidden_units=auto["hidden_units"]))
    if p.train.epochs == "auto":
        p = dataclasses.replace(p, train=dataclasses.replace(p.train, epochs=auto["epochs"]))
    if p.study.search == "auto":
        p = dataclasses.replace(p, study=Study(auto["search"]))
    if p.train.early_stopping == "auto":
        p = dataclasses.replace(p, train=dataclasses.replace(
            p.train, early_stopping=auto["early_stopping"] and Stopping(**auto["early_stopping"])))
    if p.replication.draws == "auto":
        p = dataclasses.replace(p, replication=dataclasses.replace(p.replication,
                                                                   draws=auto["draws"]))
    if p.selection.draws == "auto":
        p = dataclasses.replace(p, selection=dataclasses.replace(
            p.selection, draws=min(auto["selection_draws"], p.replication.draws)))
    if p.data.source != "moons":
        p = dataclasses.replace(p, progressive=stretched(p.progressive, p.train.epochs))
    # Rules that tie keys together, beyond what each key allows alone.
    if p.replication.draws > 2**31:
        raise _fail("replication.draws", p.replication.draws, "at most 2**31 (make_moons' "
                    "seeds, data.random_state + 0 .. draws - 1, stop at 2**32)")
    if p.data.random_state < 0 or p.data.random_state + p.replication.draws > 2**32:
        raise _fail("data.random_state", p.data.random_state,
                    "a seed from 0 to 2**32 - replication.draws (make_moons' range)")
    if p.sequence.length < 5:  # the task's bump is 5 steps wide
        raise _fail("sequence.length", p.sequence.length, "at least 5")
    if p.boundaries.resolution < 2:
        raise _fail("boundaries.resolution", p.boundaries.resolution, "at least 2")
    if p.data.source == "moons" and p.data.task not in ("auto", "binary"):
        raise _fail("data.task", p.data.task, "auto or binary for data.source moons (two "
                    "classes)")
    moons = p.data.moons
    if moons.n_train >= moons.n_samples:
        raise _fail("data.moons.n_train", moons.n_train,
                    f"a count below data.moons.n_samples ({moons.n_samples})")
    # Other sources' rows are counted when they are read (`weightreg.data`).
    rows = moons.n_train if p.data.source == "moons" else p.data.n_train
    if p.selection.folds < 2 or (rows is not None and p.selection.folds > rows):
        where = "data.moons.n_train" if p.data.source == "moons" else "data.n_train"
        raise _fail("selection.folds", p.selection.folds,
                    f"a count from 2 to {where} ({rows})" if rows else "a count >= 2")
    if p.selection.draws > p.replication.draws:
        raise _fail("selection.draws", p.selection.draws,
                    f"at most replication.draws ({p.replication.draws}), whose members it reuses")
    if p.model.layers is not None and p.data.shape is not None:
        network(p.model, p.data.shape, 1)  # a layer that does not fit the rows' shape fails now
    smithing = p.progressive.smithing
    last_point = smithing.points[-1][0]
    if smithing.epochs <= last_point:
        raise _fail("progressive.smithing.epochs", smithing.epochs,
                    f"more epochs than the last schedule point ({last_point})")
    return p


def _listed(value):
    return list(value) if isinstance(value, tuple) else value


def network(model: Model, shape: tuple[int, ...] | None, outputs: int,
            features: int = 0) -> Network:
    """The network of `model` on rows of `shape` (data.shape; None: `features` flat) with the
    task's `outputs`; a ParamsError naming the layer whose input does not fit."""
    rows = shape or (features,)
    if model.layers is None:
        return Network.mlp(widths(model.hidden_units), math.prod(rows), outputs)
    try:
        return Network.build(model.layers, rows, outputs)
    except ValueError as error:
        flat = "; data.shape is null, so a row is a flat list of its features" if not shape \
            else ""
        raise ParamsError(f"params.yaml: {error}{flat}") from None


def stretched(progressive: Progressive, epochs: int) -> Progressive:
    """The progressive schedules, written for the tutorial's run of TUTORIAL_EPOCHS epochs,
    stretched to a run of `epochs`: every epoch count times epochs / TUTORIAL_EPOCHS, rounded
    (schedule points kept apart, one epoch at least). Two moons keep them as written."""
    factor = epochs / TUTORIAL_EPOCHS
    smithing, points = progressive.smithing, []
    for epoch, lam in smithing.points:
        points.append((max(round(epoch * factor), points[-1][0] + 1) if points else 0, lam))
    total = max(round(smithing.epochs * factor), points[-1][0] + 1)
    per_level = max(round(progressive.repeated.epochs_per_level * factor), 1)
    return Progressive(Smithing(tuple(points), smithing.interpolation, total),
                       Repeated(progressive.repeated.levels, per_level))


def load(path: str | Path = "params.yaml") -> Params:
    """Read and validate params.yaml."""
    try:
        text = Path(path).read_bytes().decode("utf-8")
    except OSError as error:
        raise ParamsError(f"cannot read {path}: {error.strerror}") from None
    except UnicodeDecodeError as error:
        line = error.object[:error.start].count(b"\n") + 1
        raise ParamsError(f"{path} is not UTF-8 text: byte 0x{error.object[error.start]:02x} at "
                          f"line {line}; save it as UTF-8") from None
    return parse(_yaml(text, path))


def _yaml(text: str, path) -> Any:
    """The document as DVC reads it: ruamel.yaml's safe loader, YAML 1.2 (`010` is 10, `1:30`
    a text; PyYAML, YAML 1.1, reads 8 and 90), merge keys (`<<:`) included, a key given twice
    in one mapping refused (as DVC refuses the file)."""
    from ruamel.yaml import YAML
    from ruamel.yaml.constructor import DuplicateKeyError
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    try:
        return YAML(typ="safe").load(text)
    except DuplicateKeyError as error:
        key = re.search(r'duplicate key "(.*?)"', error.problem or "")
        raise ParamsError(f"params.yaml: the key {key.group(1) if key else ''} appears twice in "
                          f"one section, again at line {error.problem_mark.line + 1}; keep one "
                          "of them") from None
    except YAMLError as error:
        mark = getattr(error, "problem_mark", None) if isinstance(error, MarkedYAMLError) \
            else None
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or "unreadable"
        raise ParamsError(f"{path} is not valid YAML: {problem}{where}") from None
