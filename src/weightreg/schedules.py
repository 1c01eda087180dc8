"""Lambda schedules: pure functions from epoch numbers to penalty strengths."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def piecewise(epochs: np.ndarray, points: Sequence[tuple[int, float]],
              interpolation: str = "step") -> np.ndarray:
    """Lambda at each epoch (0-based) from (epoch, lambda) points.

    `step` holds each point's lambda from its epoch until the next point; `linear` ramps between
    consecutive points. Both hold the last point's lambda from its epoch on.
    """
    starts = np.array([epoch for epoch, _ in points], dtype=np.float64)
    values = np.array([value for _, value in points], dtype=np.float64)
    epochs = np.asarray(epochs, dtype=np.float64)
    if interpolation == "linear":
        return np.interp(epochs, starts, values)
    if interpolation == "step":
        return values[np.searchsorted(starts, epochs, side="right") - 1]
    raise ValueError(f"interpolation = {interpolation!r}; expected step or linear")


def smithing(epochs: int, points: Sequence[tuple[int, float]], interpolation: str) -> np.ndarray:
    """The Neural Smithing schedule over `epochs` epochs."""
    return piecewise(np.arange(epochs), points, interpolation)


def repeated(trained_epochs: int, levels: Sequence[float], epochs_per_level: int) -> np.ndarray:
    """Train `trained_epochs` without a penalty, then hold each level for `epochs_per_level`."""
    points = [(0, 0.0)] + [(trained_epochs + i * epochs_per_level, level)
                           for i, level in enumerate(levels)]
    return piecewise(np.arange(trained_epochs + len(levels) * epochs_per_level), points, "step")
