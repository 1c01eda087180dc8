"""The Keras models: any `weightreg.layers.Network` (the tutorial's MLP generalized, or the
user's layers) compiled as the reference the engine matches and as the exported file."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from weightreg import backend, tasks
from weightreg.layers import Network

# The weight groups of the tutorial's MLP (one hidden layer), in `Model.get_weights()` order. A
# member's penalty strengths are given per group, so bias and output-layer regularization are
# ordinary members. With more hidden layers each has its own groups (`groups`); other networks
# name theirs after their layers (`weightreg.layers.Network.groups`).
GROUPS = ("hidden_kernel", "hidden_bias", "output_kernel", "output_bias")
# The penalty kinds, as Keras' regularizers name them: l1_l2 applies both terms at one strength.
KINDS = ("l1", "l2", "l1_l2")


def widths(hidden_units: int | Sequence[int]) -> tuple[int, ...]:
    """The hidden layers' widths: `model.hidden_units` as one width or a list of them."""
    return (hidden_units,) if isinstance(hidden_units, int) else tuple(hidden_units)


def network(hidden_units: int | Sequence[int], inputs: int = 2, outputs: int = 1) -> Network:
    """The tutorial's MLP generalized (`Network.mlp`)."""
    return Network.mlp(widths(hidden_units), inputs, outputs)


def groups(depth: int) -> tuple[str, ...]:
    """The weight groups of an MLP with `depth` hidden layers, in `get_weights()` order: the
    tutorial's four names for one hidden layer, `hidden_1_kernel`, `hidden_1_bias`,
    `hidden_2_kernel`, ... for more."""
    return network((1,) * depth).groups


def per_group(values: Mapping[str, float], depth: int) -> list[float]:
    """Per-group numbers of an MLP with `depth` hidden layers (see `Network.per_group`)."""
    return network((1,) * depth).per_group(values)


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
    output layer (the tutorial's: 2 inputs, Dense(hidden, relu), Dense(1, sigmoid)); see
    `keras_model`."""
    return keras_model(network(hidden_units, inputs, task.outputs), kind, strengths,
                       learning_rate, decay, task)


def keras_model(net: Network, kind: str = "l2", strengths: Mapping[str, float] | None = None,
                learning_rate: float = 1e-3, decay: Mapping[str, float] | None = None,
                task: tasks.Task = tasks.BINARY):
    """`net` as a compiled Keras model: its layers (`Network.keras_layers`), the task's output
    activation, Adam and the task's loss. The engine's reference.

    `strengths` are keyed by weight group or by role (see `Network.per_group`). `decay` (one
    value for some groups) switches to AdamW with that weight decay on those groups only: the
    Keras reference for the engine's decoupled decay.
    """
    keras = backend.keras()

    reg = {group: regularizer(kind, s)
           for group, s in zip(net.groups, net.per_group(strengths or {}))}
    decayed = {group for group, value in zip(net.groups, net.per_group(decay or {})) if value}
    model = keras.Sequential(net.keras_layers(reg, task.activation))
    if decayed:
        values = {value for value in (decay or {}).values() if value}
        if len(values) != 1:
            raise ValueError(f"decay = {decay}; AdamW takes one weight decay for all groups")
        optimizer = keras.optimizers.AdamW(learning_rate=learning_rate,
                                           weight_decay=values.pop())
        optimizer.exclude_from_weight_decay(var_list=[
            variable for group, variable in zip(net.groups, model.trainable_variables)
            if group not in decayed])
    else:
        optimizer = keras.optimizers.Adam(learning_rate=learning_rate)
    metrics = [] if task.name == "regression" else ["accuracy"]
    model.compile(loss=task.keras_loss, optimizer=optimizer, metrics=metrics)
    return model


def initial_weights(seed: int, hidden_units: int | tuple[int, ...], inputs: int = 2,
                    outputs: int = 1) -> tuple[np.ndarray, ...]:
    """The weights Keras gives `mlp(hidden_units, inputs=inputs)` with `outputs` output units
    after `keras.utils.set_random_seed(seed)`, drawn without importing Keras (1.4 s of every
    stage's start-up); see `weightreg.layers`."""
    return network(hidden_units, inputs, outputs).initial_weights(seed)


def keras_bytes(net: Network, weights: tuple[np.ndarray, ...], kind: str,
                strengths: dict[str, float], learning_rate: float,
                task: tasks.Task = tasks.BINARY) -> bytes:
    """One trained member as the bytes of a standard `.keras` file (`keras.models.load_model`):
    the network from its input features (`Network.keras_layers`)."""
    import tempfile
    from pathlib import Path

    model = keras_model(net, kind, strengths, learning_rate, task=task)
    model.set_weights(list(weights))
    # Build Adam's slots so the file holds the same variables a loaded model expects.
    model.optimizer.build(model.trainable_variables)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.keras"
        model.save(path)
        return path.read_bytes()
