"""`Flatten()`: a row's axes as one, in row-major order (channels last), as Keras does."""

from __future__ import annotations

import math
from dataclasses import dataclass

from weightreg import backend
from weightreg.layers.base import Layer


@dataclass(frozen=True)
class Flatten(Layer):
    KERAS = "Flatten"

    def output_shape(self, shape):
        return (math.prod(shape),)

    def __call__(self, w, x, shape, first):
        tf = backend.tensorflow()

        lead = tf.shape(x)[:x.shape.rank - len(shape)]
        return tf.reshape(x, tf.concat([lead, [math.prod(shape)]], 0))

    def keras(self, regularizers):
        return backend.keras().layers.Flatten()
