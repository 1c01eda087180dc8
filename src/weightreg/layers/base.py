"""What every layer type is: its Keras name and arguments, the shape it gives, the weights it
holds (with their initializers, in `get_weights()` order), and its forward pass over a
population's stacked weights. Each layer type is one module of this package (`dense`, `conv`,
`pooling`, `flatten`, `lstm`), registered in `weightreg.layers.TYPES`.

The forward pass takes `x` as [rows, ...] (rows shared by all members, before the first layer
with weights) or [K, rows, ...] (each member's own), and weights stacked as [K, ...].
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from weightreg import backend

# Keras' activations the layers take (`activation: relu`), by their Keras names; None and
# linear are the identity, every layer's default but LSTM's.
ACTIVATIONS = ("relu", "tanh", "sigmoid", "linear")


def activate(name: str | None, x):
    tf = backend.tensorflow()

    if name in (None, "linear"):
        return x
    return {"relu": tf.nn.relu, "tanh": tf.nn.tanh, "sigmoid": tf.nn.sigmoid}[name](x)


@dataclass(frozen=True)
class Weight:
    """One weight of a layer: its part (`kernel`, `recurrent_kernel`, `bias`), shape and
    initializer (`glorot` draws a seed, `orthogonal` too; `zeros` and `forget_bias` do not)."""

    part: str
    shape: tuple[int, ...]
    initializer: str = "zeros"


# Argument checkers: each returns the value as the layer keeps it, or raises ValueError with
# what is allowed.
def count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError("a whole number >= 1")
    return value


def window(rank: int) -> Callable[[Any], tuple[int, ...]]:
    """A size per spatial axis: one number for all, or a list of `rank` numbers."""
    allowed = "a whole number >= 1" + (f" or a list of {rank} of them" if rank > 1 else "")

    def check(value: Any) -> tuple[int, ...]:
        values = value if isinstance(value, (list, tuple)) else [value] * rank
        try:
            if len(values) != rank:
                raise ValueError
            return tuple(count(v) for v in values)
        except ValueError:
            raise ValueError(allowed) from None

    return check


def activation_name(value: Any) -> str | None:
    if value is not None and value not in ACTIVATIONS:
        raise ValueError("one of " + ", ".join(ACTIVATIONS))
    return value


@dataclass(frozen=True)
class Layer:
    """A layer type. Subclasses are frozen dataclasses whose fields are the Keras arguments
    they take (`ARGUMENTS`: name -> checker; `REQUIRED` of them have no default)."""

    KERAS: ClassVar[str]
    ARGUMENTS: ClassVar[Mapping[str, Callable[[Any], Any]]] = {}
    REQUIRED: ClassVar[tuple[str, ...]] = ()
    # Seeds Keras draws from Python's `random` after the weights' own (an LSTM cell's dropout
    # seed generator).
    EXTRA_DRAWS: ClassVar[int] = 0

    def output_shape(self, shape: tuple[int, ...]) -> tuple[int, ...]:
        """The shape of a row after this layer, or ValueError saying what input it needs."""
        raise NotImplementedError

    def weights(self, shape: tuple[int, ...]) -> tuple[Weight, ...]:
        return ()

    def values(self, shape: tuple[int, ...]) -> int:
        """The values a row of `shape` makes in this layer's forward pass, for `sizes`: its
        input, and what the layer holds beyond it."""
        return math.prod(shape)

    def __call__(self, w: Mapping[str, Any], x, shape: tuple[int, ...], first: bool):
        """The layer's output for `x` (rows of `shape`), weights `w` by part."""
        raise NotImplementedError

    def keras(self, regularizers: Mapping[str, Any]):
        """The Keras layer, with the regularizer of each part (`kernel`, ...) or None."""
        raise NotImplementedError

    def describe(self) -> dict:
        """The layer as params.yaml writes it."""
        return {self.KERAS: {name: getattr(self, name) for name in self.ARGUMENTS}}


def rank_error(layer: Layer, shape: tuple[int, ...], needs: str) -> ValueError:
    return ValueError(f"{layer.KERAS} takes {needs}, and gets rows of shape {list(shape)}")
