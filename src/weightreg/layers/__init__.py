"""A network as the population engine computes it: a frozen `Network` of layers (one module per
layer type, see `base`), which names every weight, gives each its role, draws the weights Keras
draws for a seed, and computes every member's logits.

A network is written as params.yaml writes it (`model.layers`): a list of one-key mappings, a
Keras layer name and its arguments (`{"Conv2D": {"filters": 16, "kernel_size": 3}}`), with
Keras' defaults. The output layer follows from the task: Dense(outputs), its activation the
task's (applied by the loss). `model.hidden_units` is the MLP shorthand (`Network.mlp`).

The weights travel as one tuple in `get_weights()` order (the compiled program's arguments);
`Network.groups` names them (`conv2d_1_kernel`, ..., `output_bias`) and `Network.roles` says
what each is (`ROLES`), which is how penalties address them: `hidden_kernel` is the kernel of
every layer but the output's, as `kernel_regularizer=` on each of those layers puts it in Keras.

How Keras draws initial weights: `set_random_seed` seeds Python's `random`; each random
initializer, and each LSTM cell's dropout seed generator, takes a seed from it when its layer is
created (`random.randint(1, 10**9)`), layer after layer; a kernel is then
`tf.random.stateless_uniform(seed=[that, 0])` within +-sqrt(3 / mean(fan_in, fan_out)), where a
convolution's fans count its receptive field; the recurrent kernel is the Q of the QR
factorization of `tf.random.stateless_normal(seed=[that, 0])`, signs fixed by R's diagonal.
Tests check them bit for bit against built Keras models.
"""

from __future__ import annotations

import dataclasses
import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from weightreg import backend
from weightreg.layers.base import Layer, Weight
from weightreg.layers.conv import Conv1D, Conv2D
from weightreg.layers.dense import Dense
from weightreg.layers.flatten import Flatten
from weightreg.layers.lstm import LSTM
from weightreg.layers.pooling import MaxPooling1D, MaxPooling2D

# The layer types, by their Keras names. Adding one: a module with its `Layer`, and a line here.
TYPES: dict[str, type[Layer]] = {
    layer.KERAS: layer
    for layer in (Dense, Conv1D, Conv2D, MaxPooling1D, MaxPooling2D, Flatten, LSTM)}
SUPPORTED = tuple(TYPES)
# What a weight is, whatever its layer: the names penalties are given by (`per_group`).
ROLES = ("hidden_kernel", "hidden_bias", "recurrent_kernel", "output_kernel", "output_bias")


def parse(layer: Mapping, key: str = "layer") -> Layer:
    """One layer as params.yaml writes it, or a ValueError naming it and what is supported."""
    if not isinstance(layer, Mapping) or len(layer) != 1:
        raise ValueError(f"{key} = {layer!r}: expected one Keras layer name and its arguments, "
                         f"for example {{Dense: {{units: 64}}}}")
    ((name, arguments),) = layer.items()
    if name not in TYPES:
        raise ValueError(f"{key}: layer {name!r} is not supported; expected one of "
                         f"{', '.join(SUPPORTED)}")
    kind = TYPES[name]
    if arguments is None:
        arguments = {}
    if not isinstance(arguments, Mapping):
        raise ValueError(f"{key}.{name} = {arguments!r}: expected a mapping of its arguments "
                         f"({', '.join(kind.ARGUMENTS) or 'none'})")
    unknown = [argument for argument in arguments if argument not in kind.ARGUMENTS]
    if unknown:
        raise ValueError(f"{key}.{name}: argument {unknown[0]!r} is not supported; expected "
                         + (", ".join(kind.ARGUMENTS) if kind.ARGUMENTS else "no arguments"))
    missing = [argument for argument in kind.REQUIRED if argument not in arguments]
    if missing:
        raise ValueError(f"{key}.{name}: missing argument {missing[0]!r}")
    checked = {}
    for argument, value in arguments.items():
        try:
            checked[argument] = kind.ARGUMENTS[argument](value)
        except ValueError as error:
            raise ValueError(f"{key}.{name}.{argument} = {value!r} is not allowed; expected "
                             f"{error}") from None
    return kind(**checked)


@dataclass(frozen=True)
class Network:
    """The layers of a network, the output layer last, and the shape of a row at its input.
    Frozen and hashable: it is part of the compiled program's key."""

    input_shape: tuple[int, ...]
    layers: tuple[Layer, ...]
    names: tuple[str, ...]  # each layer's name ("" for one without weights); the last "output"

    @classmethod
    def build(cls, layers: Sequence[Layer], input_shape: Sequence[int], outputs: int,
              key: str = "model.layers") -> Network:
        """The network of `layers` on rows of `input_shape`, then the task's output layer of
        `outputs` units; a ValueError, naming the layer, where a shape does not fit."""
        unnamed = cls(tuple(input_shape), (*layers, Dense(outputs)), ("",) * len(layers)
                      + ("output",))
        counts: dict[str, int] = {}
        names = []
        for layer, shape in zip(layers, unnamed.shapes(key)):
            if layer.weights(shape):
                counts[layer.KERAS] = counts.get(layer.KERAS, 0) + 1
                names.append(f"{layer.KERAS.lower()}_{counts[layer.KERAS]}")
            else:
                names.append("")
        return dataclasses.replace(unnamed, names=(*names, "output"))

    @classmethod
    def mlp(cls, widths: Sequence[int], inputs: int, outputs: int) -> Network:
        """The tutorial's MLP generalized: Dense(width, relu) per hidden layer, named as the
        tutorial's (`hidden` for one, `hidden_1`, `hidden_2`, ... for more)."""
        names = (("hidden",) if len(widths) == 1
                 else tuple(f"hidden_{i}" for i in range(1, len(widths) + 1)))
        return cls((inputs,), (*(Dense(w, "relu") for w in widths), Dense(outputs)),
                   (*names, "output"))

    def shapes(self, key: str = "model.layers") -> tuple[tuple[int, ...], ...]:
        """The shape of a row at each layer's input."""
        shape, shapes = self.input_shape, []
        for i, layer in enumerate(self.layers):
            shapes.append(shape)
            try:
                shape = layer.output_shape(shape)
            except ValueError as error:
                where = "the output layer" if i == len(self.layers) - 1 else f"{key}[{i}]"
                raise ValueError(f"{where}: {error}") from None
        return tuple(shapes)

    def weights(self) -> tuple[tuple[int, Weight], ...]:
        """(layer index, weight) of every weight, in `get_weights()` order."""
        return tuple((i, weight) for i, (layer, shape) in enumerate(zip(self.layers,
                                                                         self.shapes()))
                     for weight in layer.weights(shape))

    @property
    def groups(self) -> tuple[str, ...]:
        return tuple(f"{self.names[i]}_{w.part}" for i, w in self.weights())

    @property
    def roles(self) -> tuple[str, ...]:
        last = len(self.layers) - 1
        return tuple(w.part if w.part == "recurrent_kernel"
                     else f"{'output' if i == last else 'hidden'}_{w.part}"
                     for i, w in self.weights())

    def per_group(self, values: Mapping[str, float]) -> list[float]:
        """Per-group numbers, in `groups` order, from a mapping keyed by group or by role (a
        role applies to every group of that role); 0 where absent."""
        groups = self.groups
        unknown = set(values) - set(groups) - set(ROLES)
        if unknown:
            raise ValueError(f"unknown weight groups {sorted(unknown)}; expected "
                             f"{', '.join(groups)} or a role ({', '.join(ROLES)})")
        return [float(values.get(group, values.get(role, 0.0)))
                for group, role in zip(groups, self.roles)]

    def initial_weights(self, seed: int) -> tuple[np.ndarray, ...]:
        """The weights Keras gives this network after `keras.utils.set_random_seed(seed)`."""
        return _initial_weights(self, seed)

    def forward(self, weights, x):
        """Every member's logits for rows x ([rows, features], or [K, rows, features] per
        member): [K, rows] for one output unit, [K, rows, outputs] for more. `weights` are
        stacked per member, in `groups` order."""
        tf = backend.tensorflow()

        if len(self.input_shape) > 1:  # a row's features viewed as an image or a sequence
            x = tf.reshape(x, tf.concat([tf.shape(x)[:-1], self.input_shape], 0))
        taken = iter(weights)
        last = len(self.layers) - 1
        for i, (layer, shape) in enumerate(zip(self.layers, self.shapes())):
            w = {weight.part: next(taken) for weight in layer.weights(shape)}
            x = layer.logits(w, x) if i == last else layer(w, x, shape, first=i == 0)
        return x

    def summary(self) -> str:
        """The layers but the output's in one line: `Conv2D(16, 3, relu) > Flatten > ...`."""
        def short(value):
            if isinstance(value, tuple) and len(set(value)) == 1:
                return str(value[0])
            return "x".join(map(str, value)) if isinstance(value, tuple) else str(value)

        return " > ".join(
            layer.KERAS + (f"({', '.join(short(v) for v in arguments.values() if v)})"
                           if any(arguments.values()) else "")
            for layer in self.layers[:-1] for arguments in layer.describe().values())

    def describe(self) -> list[dict]:
        """The layers but the output's, as params.yaml writes them."""
        return [layer.describe() for layer in self.layers[:-1]]

    def keras_layers(self, regularizers: Mapping[str, object], output_activation: str) -> list:
        """Keras layers of this network, from its input features (a Reshape first where rows
        are viewed as images or sequences), the regularizer of each group or None, the output
        layer's activation the task's."""
        keras = backend.keras()

        built = [keras.Input((math.prod(self.input_shape),))]
        if len(self.input_shape) > 1:
            built.append(keras.layers.Reshape(self.input_shape))
        by_layer: dict[int, dict[str, object]] = {}
        for (i, weight), group in zip(self.weights(), self.groups):
            by_layer.setdefault(i, {})[weight.part] = regularizers.get(group)
        *hidden, output = self.layers
        layers = (*hidden, dataclasses.replace(output, activation=output_activation))
        return built + [layer.keras(by_layer.get(i, {})) for i, layer in enumerate(layers)]


@lru_cache(maxsize=None)
def _initial_weights(network: Network, seed: int) -> tuple[np.ndarray, ...]:
    tf = backend.tensorflow()

    draws = random.Random(seed)
    planned = []  # (weight, its seed), as the layers are created
    for layer, shape in zip(network.layers, network.shapes()):
        for weight in layer.weights(shape):
            random_init = weight.initializer in ("glorot", "orthogonal")
            planned.append((weight, draws.randint(1, int(1e9)) if random_init else None))
        for _ in range(layer.EXTRA_DRAWS):
            draws.randint(1, int(1e9))
    weights = []
    for weight, drawn in planned:
        if weight.initializer == "glorot":
            weights.append(_glorot_uniform(tf, weight.shape, drawn))
        elif weight.initializer == "orthogonal":
            weights.append(_orthogonal(tf, weight.shape, drawn))
        elif weight.initializer == "forget_bias":  # the forget gate's quarter starts at 1
            units = weight.shape[0] // 4
            weights.append(np.concatenate([np.zeros(units, np.float32),
                                           np.ones(units, np.float32),
                                           np.zeros(2 * units, np.float32)]))
        else:
            weights.append(np.zeros(weight.shape, np.float32))
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


__all__ = ["ROLES", "SUPPORTED", "TYPES", "Layer", "Network", "Weight", "parse"]
