"""The tutorial's two-moons problem and its train/test split."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from weightreg.io import BadInput
from weightreg.params import Data

COLUMNS = ("x1", "x2", "y", "split")


@dataclass(frozen=True)
class Split:
    x_train: np.ndarray  # [n_train, 2] float32
    y_train: np.ndarray  # [n_train] float32, 0 or 1
    x_test: np.ndarray
    y_test: np.ndarray


def make(settings: Data) -> Split:
    """`make_moons` as the tutorial calls it; the first `n_train` rows train, the rest test."""
    from sklearn.datasets import make_moons

    x, y = make_moons(n_samples=settings.n_samples, noise=settings.noise,
                      random_state=settings.random_state)
    x, y = x.astype(np.float32), y.astype(np.float32)
    n = settings.n_train
    return Split(x[:n], y[:n], x[n:], y[n:])


def draws(settings: Data, count: int) -> list[tuple[int, Split]]:
    """`count` draws of the same data: random_state = settings.random_state + 0, 1, ..., so
    draw 0 is `make(settings)`. Returns (random_state, split) pairs."""
    first = settings.random_state
    return [(first + i, make(dataclasses.replace(settings, random_state=first + i)))
            for i in range(count)]


def to_csv(split: Split) -> str:
    """One row per point, in the generator's order, with its split: plain data for plots."""
    lines = [",".join(COLUMNS)]
    for name, x, y in (("train", split.x_train, split.y_train), ("test", split.x_test, split.y_test)):
        lines += [f"{a!r},{b!r},{int(label)},{name}" for (a, b), label in zip(x.tolist(), y)]
    return "\n".join(lines) + "\n"


def load(path) -> Split:
    """The data stage's output, with a clear error if it is missing or damaged."""
    try:
        text = Path(path).read_text()
    except OSError as error:
        raise BadInput(f"{path}: {error.strerror}; run the data stage first "
                       "(`dvc repro data`)") from None
    return from_csv(text, str(path))


def from_csv(text: str, source: str = "data") -> Split:
    """Read `to_csv` output back; float32 values survive the round trip exactly."""
    rows = [line.split(",") for line in text.strip().splitlines()]
    if not rows or tuple(rows[0]) != COLUMNS or any(len(row) != 4 for row in rows[1:]):
        raise BadInput(f"{source}: not a two-moons split (expected columns {','.join(COLUMNS)}); "
                         "rerun the data stage with `dvc repro data`")
    try:
        x = np.array([[float(r[0]), float(r[1])] for r in rows[1:]], dtype=np.float32)
        y = np.array([float(r[2]) for r in rows[1:]], dtype=np.float32)
    except ValueError as error:
        raise BadInput(f"{source}: {error}; rerun the data stage with `dvc repro data`") from None
    train = np.array([r[3] == "train" for r in rows[1:]])
    if train.all() or not train.any():
        raise BadInput(f"{source}: needs both train and test rows; rerun the data stage with "
                       "`dvc repro data`")
    return Split(x[train], y[train], x[~train], y[~train])


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
