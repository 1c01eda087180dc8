"""`MaxPooling1D` and `MaxPooling2D(pool_size)`: the largest value of each window, windows as
wide as their stride (Keras' default), valid padding (a remainder is dropped)."""

from __future__ import annotations

from dataclasses import dataclass

from weightreg import backend
from weightreg.layers.base import Layer, leading, rank_error, unmerge, window


@dataclass(frozen=True)
class _Pooling(Layer):
    pool_size: tuple[int, ...]

    RANK = 0

    def output_shape(self, shape):
        if len(shape) != self.RANK + 1:
            raise rank_error(self, shape, f"rows of {self.RANK + 1} axes")
        if any(p > n for p, n in zip(self.pool_size, shape)):
            raise ValueError(f"{self.KERAS} pool_size {list(self.pool_size)} is larger than "
                             f"its input {list(shape[:-1])}")
        return (*(n // p for n, p in zip(shape, self.pool_size)), shape[-1])

    def __call__(self, w, x, shape, first):
        tf = backend.tensorflow()

        lead, merged = leading(x, len(shape))  # tf.nn.max_pool takes [images, ..., channels]
        pooled = tf.nn.max_pool(merged, self.pool_size, self.pool_size, "VALID")
        return unmerge(lead, pooled, len(shape))

    def keras(self, regularizers):
        return getattr(backend.keras().layers, self.KERAS)(self.pool_size)


@dataclass(frozen=True)
class MaxPooling1D(_Pooling):
    KERAS = "MaxPooling1D"
    RANK = 1
    ARGUMENTS = {"pool_size": window(1)}


@dataclass(frozen=True)
class MaxPooling2D(_Pooling):
    KERAS = "MaxPooling2D"
    RANK = 2
    ARGUMENTS = {"pool_size": window(2)}
