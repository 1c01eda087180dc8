"""The tutorial's Keras model, used for initial weights and as the reference the engine matches."""

from __future__ import annotations

import math
import random
from functools import lru_cache

import numpy as np

from weightreg import backend

# The four weight groups of the MLP, in `Model.get_weights()` order. A member's penalty
# strengths are given per group, so bias and output-layer regularization are ordinary members.
GROUPS = ("hidden_kernel", "hidden_bias", "output_kernel", "output_bias")
# The penalty kinds, as Keras' regularizers name them: l1_l2 applies both terms at one strength.
KINDS = ("l1", "l2", "l1_l2")


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


def mlp(hidden_units: int, kind: str = "l2", strengths: dict[str, float] | None = None,
        learning_rate: float = 1e-3, decay: dict[str, float] | None = None):
    """The tutorial's MLP: Dense(hidden, relu), Dense(1, sigmoid), Adam, binary cross-entropy.

    `decay` (one value for some weight groups) switches to AdamW with that weight decay on
    those groups only: the Keras reference for the engine's decoupled decay.
    """
    keras = backend.keras()

    strengths = strengths or {}
    decay = {group: value for group, value in (decay or {}).items() if value}
    reg = {group: regularizer(kind, strengths.get(group, 0.0)) for group in GROUPS}
    model = keras.Sequential([
        keras.Input((2,)),
        keras.layers.Dense(hidden_units, activation="relu",
                           kernel_regularizer=reg["hidden_kernel"],
                           bias_regularizer=reg["hidden_bias"]),
        keras.layers.Dense(1, activation="sigmoid", kernel_regularizer=reg["output_kernel"],
                           bias_regularizer=reg["output_bias"]),
    ])
    if decay:
        if len(set(decay.values())) != 1:
            raise ValueError(f"decay = {decay}; AdamW takes one weight decay for all groups")
        optimizer = keras.optimizers.AdamW(learning_rate=learning_rate,
                                           weight_decay=next(iter(decay.values())))
        optimizer.exclude_from_weight_decay(var_list=[
            variable for group, variable in zip(GROUPS, model.trainable_variables)
            if group not in decay])
    else:
        optimizer = keras.optimizers.Adam(learning_rate=learning_rate)
    model.compile(loss="binary_crossentropy", optimizer=optimizer, metrics=["accuracy"])
    return model


@lru_cache(maxsize=None)
def initial_weights(seed: int, hidden_units: int) -> tuple[np.ndarray, ...]:
    """The weights Keras gives the tutorial's model after `keras.utils.set_random_seed(seed)`,
    drawn without importing Keras (1.4 s of every stage's start-up).

    `set_random_seed` seeds Python's `random`; each Dense layer's `glorot_uniform` initializer
    draws its own seed from it when it is created (`random.randint(1, 10**9)`), then its kernel
    with `tf.random.stateless_uniform(seed=[that, 0])` within +-sqrt(3 / mean(fan_in, fan_out));
    biases start at zero. Tests check this bit for bit against a built Keras model.
    """
    tf = backend.tensorflow()

    draws = random.Random(seed)

    def glorot_uniform(fan_in: int, fan_out: int) -> np.ndarray:
        seed_pair = tf.constant([draws.randint(1, int(1e9)), 0], tf.int32)
        limit = math.sqrt(3.0 * (1.0 / max(1.0, (fan_in + fan_out) / 2.0)))  # Keras' order
        return tf.random.stateless_uniform((fan_in, fan_out), seed_pair,
                                           minval=tf.cast(-limit, tf.float32),
                                           maxval=tf.cast(limit, tf.float32)).numpy()

    hidden, output = glorot_uniform(2, hidden_units), glorot_uniform(hidden_units, 1)
    return hidden, np.zeros(hidden_units, np.float32), output, np.zeros(1, np.float32)


def keras_bytes(weights: tuple[np.ndarray, ...], kind: str, strengths: dict[str, float],
                learning_rate: float) -> bytes:
    """One trained member as the bytes of a standard `.keras` file (`keras.models.load_model`)."""
    import tempfile
    from pathlib import Path

    model = mlp(weights[0].shape[1], kind, strengths, learning_rate)
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
