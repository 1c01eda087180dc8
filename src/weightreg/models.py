"""The Keras models: the tutorial's MLP generalized (any inputs, hidden layers and task), used for
initial weights and as the reference the engine matches; the Conv1D and LSTM examples."""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from functools import lru_cache

import numpy as np

from weightreg import backend, tasks

# The weight groups of the tutorial's MLP (one hidden layer), in `Model.get_weights()` order. A
# member's penalty strengths are given per group, so bias and output-layer regularization are
# ordinary members. With more hidden layers each has its own groups (`groups`).
GROUPS = ("hidden_kernel", "hidden_bias", "output_kernel", "output_bias")
# What a group is, whatever its layer: the names penalties are given by (`per_group`).
ROLES = GROUPS
# The penalty kinds, as Keras' regularizers name them: l1_l2 applies both terms at one strength.
KINDS = ("l1", "l2", "l1_l2")


def widths(hidden_units: int | Sequence[int]) -> tuple[int, ...]:
    """The hidden layers' widths: `model.hidden_units` as one width or a list of them."""
    return (hidden_units,) if isinstance(hidden_units, int) else tuple(hidden_units)


def groups(depth: int) -> tuple[str, ...]:
    """The weight groups of an MLP with `depth` hidden layers, in `get_weights()` order: the
    tutorial's four names for one hidden layer, `hidden_1_kernel`, `hidden_1_bias`,
    `hidden_2_kernel`, ... for more."""
    if depth == 1:
        return GROUPS
    hidden = [f"hidden_{i}_{part}" for i in range(1, depth + 1) for part in ("kernel", "bias")]
    return (*hidden, "output_kernel", "output_bias")


def role(group: str) -> str:
    """A group's role (one of ROLES): `hidden_2_kernel` is a hidden kernel."""
    if group.startswith("hidden_") and group not in GROUPS:
        return "hidden_" + group.rsplit("_", 1)[1]
    return group


def per_group(values: Mapping[str, float], depth: int) -> list[float]:
    """Per-group numbers, in `groups(depth)` order, from a mapping keyed by group or by role (a
    role applies to every group of that role: `hidden_kernel` to every hidden layer's kernel,
    the way `kernel_regularizer=` on each hidden Dense puts it in Keras); 0 where absent."""
    names = groups(depth)
    unknown = set(values) - set(names) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown weight groups {sorted(unknown)}; expected {', '.join(names)}"
                         f" or a role ({', '.join(ROLES)})")
    return [float(values.get(group, values.get(role(group), 0.0))) for group in names]


def regularizer(kind: str, strength: float):
    """The Keras regularizer of `kind` at `strength`, or None when the strength is zero."""
    keras = backend.keras()

    if strength == 0:
        return None
    if kind == "l1":
        return keras.regularizers.L1(strength)
    if kind == "l2":
        return keras.regularizers.L2(strength)
    if kind == "l1_l2":
        return keras.regularizers.L1L2(l1=strength, l2=strength)
    raise ValueError(f"regularizer = {kind!r}; expected one of {', '.join(KINDS)}")


def mlp(hidden_units: int | Sequence[int], kind: str = "l2",
        strengths: Mapping[str, float] | None = None, learning_rate: float = 1e-3,
        decay: Mapping[str, float] | None = None, inputs: int = 2,
        task: tasks.Task = tasks.BINARY):
    """The tutorial's MLP, generalized: Dense(width, relu) per hidden layer, then the task's
    output layer, Adam, the task's loss (the tutorial's: 2 inputs, Dense(hidden, relu),
    Dense(1, sigmoid), binary cross-entropy).

    `strengths` are keyed by weight group or by role (see `per_group`). `decay` (one value for
    some groups) switches to AdamW with that weight decay on those groups only: the Keras
    reference for the engine's decoupled decay.
    """
    keras = backend.keras()

    hidden = widths(hidden_units)
    names = groups(len(hidden))
    reg = dict(zip(names, (regularizer(kind, s) for s in per_group(strengths or {}, len(hidden)))))
    decayed = {group for group, value in zip(names, per_group(decay or {}, len(hidden))) if value}
    layers = [keras.Input((inputs,))]
    for (kernel, bias), width in zip(zip(names[0::2], names[1::2]), hidden):
        layers.append(keras.layers.Dense(width, activation="relu", kernel_regularizer=reg[kernel],
                                         bias_regularizer=reg[bias]))
    layers.append(keras.layers.Dense(task.outputs, activation=task.activation,
                                     kernel_regularizer=reg["output_kernel"],
                                     bias_regularizer=reg["output_bias"]))
    model = keras.Sequential(layers)
    if decayed:
        values = {value for value in (decay or {}).values() if value}
        if len(values) != 1:
            raise ValueError(f"decay = {decay}; AdamW takes one weight decay for all groups")
        optimizer = keras.optimizers.AdamW(learning_rate=learning_rate,
                                           weight_decay=values.pop())
        optimizer.exclude_from_weight_decay(var_list=[
            variable for group, variable in zip(names, model.trainable_variables)
            if group not in decayed])
    else:
        optimizer = keras.optimizers.Adam(learning_rate=learning_rate)
    metrics = [] if task.name == "regression" else ["accuracy"]
    model.compile(loss=task.keras_loss, optimizer=optimizer, metrics=metrics)
    return model


@lru_cache(maxsize=None)
def initial_weights(seed: int, hidden_units: int | tuple[int, ...], inputs: int = 2,
                    outputs: int = 1) -> tuple[np.ndarray, ...]:
    """The weights Keras gives `mlp(hidden_units, inputs=inputs)` with `outputs` output units
    after `keras.utils.set_random_seed(seed)`, drawn without importing Keras (1.4 s of every
    stage's start-up).

    `set_random_seed` seeds Python's `random`; each Dense layer's `glorot_uniform` initializer
    draws its own seed from it when it is created (`random.randint(1, 10**9)`), layer after
    layer, then its kernel with `tf.random.stateless_uniform(seed=[that, 0])` within
    +-sqrt(3 / mean(fan_in, fan_out)); biases start at zero. Tests check this bit for bit
    against built Keras models.
    """
    tf = backend.tensorflow()

    draws = random.Random(seed)

    def glorot_uniform(fan_in: int, fan_out: int) -> np.ndarray:
        seed_pair = tf.constant([draws.randint(1, int(1e9)), 0], tf.int32)
        limit = math.sqrt(3.0 * (1.0 / max(1.0, (fan_in + fan_out) / 2.0)))  # Keras' order
        return tf.random.stateless_uniform((fan_in, fan_out), seed_pair,
                                           minval=tf.cast(-limit, tf.float32),
                                           maxval=tf.cast(limit, tf.float32)).numpy()

    sizes = (inputs, *widths(hidden_units), outputs)
    weights = []
    for fan_in, fan_out in zip(sizes, sizes[1:]):
        weights += [glorot_uniform(fan_in, fan_out), np.zeros(fan_out, np.float32)]
    return tuple(weights)


def keras_bytes(weights: tuple[np.ndarray, ...], kind: str, strengths: dict[str, float],
                learning_rate: float, task: tasks.Task = tasks.BINARY) -> bytes:
    """One trained member as the bytes of a standard `.keras` file (`keras.models.load_model`)."""
    import tempfile
    from pathlib import Path

    kernels = weights[0::2]
    model = mlp(tuple(w.shape[1] for w in kernels[:-1]), kind, strengths, learning_rate,
                inputs=kernels[0].shape[0], task=task)
    model.set_weights(list(weights))
    # Build Adam's slots so the file holds the same variables a loaded model expects.
    model.optimizer.build(model.trainable_variables)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.keras"
        model.save(path)
        return path.read_bytes()


def sequence_model(architecture: str, length: int, units: int, strength: float):
    """A small Conv1D or LSTM classifier with l2(strength) on every weight the layer offers:
    kernel and bias (Conv1D), kernel, recurrent kernel and bias (LSTM). Strength 0: none."""
    keras = backend.keras()

    reg = {name: regularizer("l2", strength)
           for name in ("kernel_regularizer", "bias_regularizer")}
    if architecture == "conv1d":
        layers = [keras.layers.Conv1D(units, 5, activation="relu", **reg),
                  keras.layers.GlobalMaxPooling1D()]
    elif architecture == "lstm":
        layers = [keras.layers.LSTM(units, recurrent_regularizer=regularizer("l2", strength),
                                    **reg)]
    else:
        raise ValueError(f"architecture = {architecture!r}; expected conv1d or lstm")
    model = keras.Sequential([keras.Input((length, 1)), *layers,
                              keras.layers.Dense(1, activation="sigmoid")])
    model.compile(loss="binary_crossentropy", optimizer=keras.optimizers.Adam(1e-3),
                  metrics=["accuracy"])
    return model


def fit_full_batch(model, x: np.ndarray, y: np.ndarray, epochs: int) -> None:
    """`model.fit(x, y, epochs=epochs, batch_size=len(x), shuffle=False)`, step for step, as one
    traced loop: fit's per-epoch overhead (about 55 ms here) would dominate these small models.

    Each epoch is one full batch: Keras' loss (with the layers' regularization penalties) and
    one optimizer step; tests check the weights against `fit`.
    """
    tf = backend.tensorflow()

    model.optimizer.build(model.trainable_variables)
    inputs, targets = tf.constant(x), tf.constant(y.reshape(len(y), -1))

    @tf.function
    def run():
        for _ in tf.range(epochs):
            with tf.GradientTape() as tape:
                predictions = model(inputs, training=True)
                loss = model.compute_loss(x=inputs, y=targets, y_pred=predictions)
            gradients = tape.gradient(loss, model.trainable_variables)
            model.optimizer.apply(gradients, model.trainable_variables)

    run()
