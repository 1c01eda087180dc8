"""Read params.yaml once, validate every key, and return frozen dataclasses.

Library code never opens params.yaml: stages call `load()` at the edge and pass typed objects
down. Every problem raises `ParamsError` (a `ValueError`) naming the key, the value and what is
allowed, so a stage stops before it writes anything.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REGULARIZERS = ("l1", "l2", "l1_l2")
INTERPOLATIONS = ("step", "linear")


class ParamsError(ValueError):
    """A value in params.yaml that the study cannot use."""


@dataclass(frozen=True)
class Data:
    n_samples: int
    noise: float
    random_state: int
    n_train: int


@dataclass(frozen=True)
class Model:
    hidden_units: int


@dataclass(frozen=True)
class Train:
    epochs: int
    batch_size: int
    learning_rate: float
    seeds: int


@dataclass(frozen=True)
class Grid:
    kinds: tuple[str, ...]
    values: tuple[float, ...]
    refine: int  # points per decade of the second, finer pass


@dataclass(frozen=True)
class Decoupled:
    values: tuple[float, ...]  # strengths of both coupled l2 and AdamW's decay


@dataclass(frozen=True)
class Layerwise:
    hidden: tuple[float, ...]  # strengths on the hidden kernel
    output: tuple[float, ...]  # strengths on the output kernel


@dataclass(frozen=True)
class Sequence:
    """The Conv1D and LSTM examples: a contrived sequence task and plain Keras `fit`."""

    n_train: int
    n_test: int
    length: int
    units: int
    epochs: int
    seeds: int
    strengths: tuple[float, ...]


@dataclass(frozen=True)
class Boundaries:
    resolution: int  # mesh points per axis of the decision-function picture


@dataclass(frozen=True)
class Smithing:
    """The Neural Smithing schedule: (epoch, lambda) points joined by steps or linear ramps."""

    points: tuple[tuple[int, float], ...]
    interpolation: str
    epochs: int


@dataclass(frozen=True)
class Repeated:
    """Continue the trained baseline with rising lambda, `epochs_per_level` epochs per level."""

    levels: tuple[float, ...]
    epochs_per_level: int


@dataclass(frozen=True)
class Progressive:
    smithing: Smithing
    repeated: Repeated


@dataclass(frozen=True)
class Params:
    lam: float  # `lambda` in params.yaml; a Python keyword, hence the name.
    regularizer: str
    data: Data
    model: Model
    train: Train
    grid: Grid
    layerwise: Layerwise
    decoupled: Decoupled
    progressive: Progressive
    boundaries: Boundaries
    sequence: Sequence


# The schema: every key the file must hold, and nothing else. Leaves name a checker below.
SCHEMA: dict[str, Any] = {
    "lambda": "strength",
    "regularizer": "regularizer",
    "data": {"n_samples": "count", "noise": "nonnegative", "random_state": "integer",
             "n_train": "count"},
    "model": {"hidden_units": "count"},
    "train": {"epochs": "count", "batch_size": "count", "learning_rate": "positive",
              "seeds": "count"},
    "grid": {"kinds": "regularizers", "values": "strengths", "refine": "count"},
    "layerwise": {"hidden": "strengths", "output": "strengths"},
    "decoupled": {"values": "strengths"},
    "progressive": {
        "smithing": {"points": "points", "interpolation": "interpolation", "epochs": "count"},
        "repeated": {"levels": "strengths", "epochs_per_level": "count"},
    },
    "boundaries": {"resolution": "count"},
    "sequence": {"n_train": "count", "n_test": "count", "length": "count", "units": "count",
                 "epochs": "count", "seeds": "count", "strengths": "strengths"},
}


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


def _strengths(key: str, value: Any) -> tuple[float, ...]:
    if not isinstance(value, list) or not value:
        raise _fail(key, value, "a non-empty list of numbers >= 0")
    return tuple(_nonnegative(f"{key}[{i}]", item) for i, item in enumerate(value))


def _regularizer(key: str, value: Any) -> str:
    if value not in REGULARIZERS:
        raise _fail(key, value, "one of " + ", ".join(REGULARIZERS))
    return value


def _regularizers(key: str, value: Any) -> tuple[str, ...]:
    allowed = "a non-empty list of distinct kinds from " + ", ".join(REGULARIZERS)
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
    "points": _points, "interpolation": _interpolation,
}


def _check(schema: dict[str, Any], raw: Any, prefix: str = "") -> dict[str, Any]:
    """Check `raw` against `schema`, returning the converted values in the same nesting."""
    section = prefix.rstrip(".") or "the top level"
    if not isinstance(raw, dict):
        raise _fail(section, raw, "a mapping of keys " + ", ".join(schema))
    for key in raw:
        if key not in schema:
            close = difflib.get_close_matches(str(key), list(schema), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise ParamsError(f"params.yaml: unknown key {prefix}{key!s} in {section}; "
                              f"allowed keys: {', '.join(schema)}{hint}")
    result = {}
    for key, rule in schema.items():
        if key not in raw:
            raise ParamsError(f"params.yaml: missing key {prefix}{key}")
        if isinstance(rule, dict):
            result[key] = _check(rule, raw[key], f"{prefix}{key}.")
        else:
            result[key] = CHECKERS[rule](f"{prefix}{key}", raw[key])
    return result


def parse(raw: Any) -> Params:
    """Validate a parsed params.yaml document and build the typed parameters."""
    v = _check(SCHEMA, raw)
    data = Data(**v["data"])
    if v["sequence"]["length"] < 5:  # the task's bump is 5 steps wide
        raise _fail("sequence.length", v["sequence"]["length"], "at least 5")
    if v["boundaries"]["resolution"] < 2:
        raise _fail("boundaries.resolution", v["boundaries"]["resolution"], "at least 2")
    if data.n_train >= data.n_samples:
        raise _fail("data.n_train", data.n_train, f"a count below data.n_samples ({data.n_samples})")
    smithing = Smithing(**v["progressive"]["smithing"])
    last_point = smithing.points[-1][0]
    if smithing.epochs <= last_point:
        raise _fail("progressive.smithing.epochs", smithing.epochs,
                    f"more epochs than the last schedule point ({last_point})")
    return Params(
        lam=v["lambda"], regularizer=v["regularizer"], data=data, model=Model(**v["model"]),
        train=Train(**v["train"]), grid=Grid(**v["grid"]), layerwise=Layerwise(**v["layerwise"]),
        decoupled=Decoupled(**v["decoupled"]),
        progressive=Progressive(smithing, Repeated(**v["progressive"]["repeated"])),
        boundaries=Boundaries(**v["boundaries"]), sequence=Sequence(**v["sequence"]),
    )


def load(path: str | Path = "params.yaml") -> Params:
    """Read and validate params.yaml."""
    try:
        text = Path(path).read_text()
    except OSError as error:
        raise ParamsError(f"cannot read {path}: {error.strerror}") from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or "unreadable"
        raise ParamsError(f"{path} is not valid YAML: {problem}{where}") from None
    return parse(raw)
