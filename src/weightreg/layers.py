"""Keras layers as the population engine will compute them (issue 28, "Your own network"): for
now, the weights Keras gives a `keras.Sequential` of Dense, Conv1D, Conv2D, MaxPooling1D,
MaxPooling2D, Flatten and LSTM layers after `keras.utils.set_random_seed(seed)`, drawn without
building the model. `weightreg.bench.layers` trains its hand-written populations from them;
tests check them bit for bit against built Keras models.

A network is written as params.yaml will write it: a list of one-key mappings, a Keras layer
name and its arguments (`{"Conv2D": {"filters": 16, "kernel_size": 3}}`), with Keras' defaults:
valid padding, stride 1, pools as wide as their stride, glorot-uniform kernels, zero biases, an
LSTM's orthogonal recurrent kernel and `unit_forget_bias`.

How Keras draws them: `set_random_seed` seeds Python's `random`; each random initializer, and
each LSTM cell's dropout seed generator, takes a seed from it when its layer is created
(`random.randint(1, 10**9)`), layer after layer; a kernel is then
`tf.random.stateless_uniform(seed=[that, 0])` within +-sqrt(3 / mean(fan_in, fan_out)), where a
convolution's fans count its receptive field; the recurrent kernel is the Q of the QR
factorization of `tf.random.stateless_normal(seed=[that, 0])`, signs fixed by R's diagonal.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence

import numpy as np

from weightreg import backend

SUPPORTED = ("Dense", "Conv1D", "Conv2D", "MaxPooling1D", "MaxPooling2D", "Flatten", "LSTM")


def parse(layer: Mapping) -> tuple[str, dict]:
    """(name, arguments) of one layer, or a ValueError naming it and what is supported."""
    if not isinstance(layer, Mapping) or len(layer) != 1:
        raise ValueError(f"layer {layer!r}: expected one Keras layer name and its arguments, "
                         f"for example {{Dense: {{units: 64}}}}")
    ((name, arguments),) = layer.items()
    if name not in SUPPORTED:
        raise ValueError(f"layer {name!r} is not supported; expected one of "
                         f"{', '.join(SUPPORTED)}")
    return name, dict(arguments or {})


def _pair(value, rank: int) -> tuple[int, ...]:
    return tuple(value) if isinstance(value, (list, tuple)) else (value,) * rank


def initial_weights(seed: int, network: Sequence[Mapping],
                    input_shape: Sequence[int]) -> tuple[np.ndarray, ...]:
    """The weights, in `get_weights()` order, of `keras.Sequential([keras.Input(input_shape),
    *network])` after `keras.utils.set_random_seed(seed)`."""
    tf = backend.tensorflow()

    draws = random.Random(seed)
    shape = tuple(input_shape)
    planned = []  # (kind, weight shape, its seed), as the layers are created, in order
    for layer in network:
        name, arguments = parse(layer)
        if name in ("Conv1D", "Conv2D"):
            rank = 1 if name == "Conv1D" else 2
            size = _pair(arguments["kernel_size"], rank)
            filters = arguments["filters"]
            planned += [("glorot", (*size, shape[-1], filters), draws.randint(1, int(1e9))),
                        ("zeros", (filters,), None)]
            shape = (*(n - k + 1 for n, k in zip(shape[:-1], size)), filters)
        elif name in ("MaxPooling1D", "MaxPooling2D"):
            rank = 1 if name == "MaxPooling1D" else 2
            pool = _pair(arguments.get("pool_size", 2), rank)
            shape = (*((n - p) // p + 1 for n, p in zip(shape[:-1], pool)), shape[-1])
        elif name == "Flatten":
            shape = (math.prod(shape),)
        elif name == "Dense":
            units = arguments["units"]
            planned += [("glorot", (shape[-1], units), draws.randint(1, int(1e9))),
                        ("zeros", (units,), None)]
            shape = (*shape[:-1], units)
        else:  # LSTM: the kernel's seed, the recurrent kernel's, then the cell's dropout seed
            units = arguments["units"]
            kernel, recurrent = draws.randint(1, int(1e9)), draws.randint(1, int(1e9))
            draws.randint(1, int(1e9))
            planned += [("glorot", (shape[-1], 4 * units), kernel),
                        ("orthogonal", (units, 4 * units), recurrent),
                        ("forget_bias", (4 * units,), None)]
            shape = (units,)
    weights = []
    for kind, weight_shape, drawn in planned:
        if kind == "glorot":
            weights.append(_glorot_uniform(tf, weight_shape, drawn))
        elif kind == "orthogonal":
            weights.append(_orthogonal(tf, weight_shape, drawn))
        elif kind == "forget_bias":  # unit_forget_bias: the forget gate's quarter starts at 1
            units = weight_shape[0] // 4
            weights.append(np.concatenate([np.zeros(units, np.float32),
                                           np.ones(units, np.float32),
                                           np.zeros(2 * units, np.float32)]))
        else:
            weights.append(np.zeros(weight_shape, np.float32))
    return tuple(weights)


def _glorot_uniform(tf, shape: tuple[int, ...], seed: int) -> np.ndarray:
    receptive = math.prod(shape[:-2])
    fan_in, fan_out = shape[-2] * receptive, shape[-1] * receptive
    limit = math.sqrt(3.0 * (1.0 / max(1.0, (fan_in + fan_out) / 2.0)))  # Keras' order
    return tf.random.stateless_uniform(shape, tf.constant([seed, 0], tf.int32),
                                       minval=tf.cast(-limit, tf.float32),
                                       maxval=tf.cast(limit, tf.float32)).numpy()


def _orthogonal(tf, shape: tuple[int, int], seed: int) -> np.ndarray:
    rows, cols = math.prod(shape[:-1]), shape[-1]
    normal = tf.random.stateless_normal((max(rows, cols), min(rows, cols)),
                                        tf.constant([seed, 0], tf.int32))
    q, r = tf.linalg.qr(normal)
    q = q * tf.sign(tf.linalg.diag_part(r))
    if rows < cols:
        q = tf.transpose(q)
    return tf.reshape(q, shape).numpy()
