"""`Conv1D` and `Conv2D(filters, kernel_size, activation)`, as Keras computes them by default:
valid padding, stride 1, channels last; glorot-uniform kernels whose fans count the receptive
field, zero biases.

A population's convolution is im2col: every window of a row, flattened, times each member's
kernel flattened the same way, one batched matmul (`weightreg.bench.layers` measured it at 2.6x
less than a grouped convolution with the members as groups)."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

from weightreg import backend
from weightreg.layers.base import (Layer, Weight, activate, activation_name, count, rank_error,
                                   window)


@dataclass(frozen=True)
class _Conv(Layer):
    filters: int
    kernel_size: tuple[int, ...]
    activation: str | None = None

    RANK = 0
    REQUIRED = ("filters", "kernel_size")

    def output_shape(self, shape):
        if len(shape) != self.RANK + 1:
            raise rank_error(self, shape, f"rows of {self.RANK + 1} axes "
                             f"({'steps' if self.RANK == 1 else 'height, width'}, channels)")
        if any(k > n for k, n in zip(self.kernel_size, shape)):
            raise ValueError(f"{self.KERAS} kernel_size {list(self.kernel_size)} is larger "
                             f"than its input {list(shape[:-1])}")
        return (*(n - k + 1 for n, k in zip(shape, self.kernel_size)), self.filters)

    def values(self, shape):  # the input, its windows (im2col) and the output
        out = self.output_shape(shape)
        windows = math.prod(out[:-1]) * math.prod(self.kernel_size) * shape[-1]
        return math.prod(shape) + windows + math.prod(out)

    def weights(self, shape):
        return (Weight("kernel", (*self.kernel_size, shape[-1], self.filters), "glorot"),
                Weight("bias", (self.filters,)))

    def __call__(self, w, x, shape, first):
        tf = backend.tensorflow()

        out = self.output_shape(shape)[:-1]
        window_size = math.prod(self.kernel_size) * shape[-1]
        # Every window, the kernel's offsets in row-major order (as the kernel's axes are).
        patches = tf.stack([x[(..., *(slice(o, o + n) for o, n in zip(offset, out)), slice(None))]
                            for offset in itertools.product(*map(range, self.kernel_size))],
                           axis=-2)  # [..., *out, kernel offsets, channels]
        lead = tf.shape(x)[:x.shape.rank - len(shape)]
        patches = tf.reshape(patches, tf.concat([lead, [math.prod(out), window_size]], 0))
        kernel = tf.reshape(w["kernel"], [-1, window_size, self.filters])
        shared = x.shape.rank == len(shape) + 1  # rows shared by all members
        pre = tf.einsum("rpw,kwf->krpf" if shared else "krpw,kwf->krpf", patches, kernel)
        pre = pre + w["bias"][:, None, None, :]
        pre = tf.reshape(pre, tf.concat([tf.shape(pre)[:2], [*out, self.filters]], 0))
        return activate(self.activation, pre)

    def keras(self, regularizers):
        keras = backend.keras()

        return getattr(keras.layers, self.KERAS)(
            self.filters, self.kernel_size, activation=self.activation,
            kernel_regularizer=regularizers.get("kernel"),
            bias_regularizer=regularizers.get("bias"))


@dataclass(frozen=True)
class Conv1D(_Conv):
    KERAS = "Conv1D"
    RANK = 1
    ARGUMENTS = {"filters": count, "kernel_size": window(1), "activation": activation_name}


@dataclass(frozen=True)
class Conv2D(_Conv):
    KERAS = "Conv2D"
    RANK = 2
    ARGUMENTS = {"filters": count, "kernel_size": window(2), "activation": activation_name}
