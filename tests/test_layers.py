"""Keras layers as the engine will compute them (`weightreg.layers`): for now their initial
weights, bit for bit those of a built Keras model, for every supported layer type."""

import numpy as np
import pytest

from weightreg import backend, layers

NETWORKS = {
    "conv2d": ((8, 8, 1), [{"Conv2D": {"filters": 4, "kernel_size": 3, "activation": "relu"}},
                           {"MaxPooling2D": {"pool_size": 2}}, {"Flatten": {}},
                           {"Dense": {"units": 5, "activation": "relu"}}, {"Dense": {"units": 3}}]),
    "conv1d": ((30, 1), [{"Conv1D": {"filters": 4, "kernel_size": 5}},
                         {"MaxPooling1D": {"pool_size": 2}}, {"Flatten": {}},
                         {"Dense": {"units": 1}}]),
    "lstm": ((12, 2), [{"LSTM": {"units": 3}}, {"Dense": {"units": 1}}]),
    # The cell's dropout seed is drawn too: the Dense layers after it would show a missed draw.
    "dense after lstm": ((6, 1), [{"LSTM": {"units": 2}}, {"Dense": {"units": 4}},
                                  {"Dense": {"units": 1}}]),
}


def keras_model(input_shape, network):
    keras = backend.keras()
    built = [getattr(keras.layers, name)(**arguments)
             for name, arguments in (layers.parse(layer) for layer in network)]
    return keras.Sequential([keras.Input(input_shape), *built])


@pytest.mark.parametrize("name", NETWORKS)
@pytest.mark.parametrize("seed", [0, 7])
def test_initial_weights_are_those_of_the_keras_model(name, seed):
    keras = backend.keras()
    input_shape, network = NETWORKS[name]
    keras.utils.set_random_seed(seed)
    theirs = keras_model(input_shape, network).get_weights()
    ours = layers.initial_weights(seed, network, input_shape)
    assert [w.shape for w in ours] == [w.shape for w in theirs]
    for mine, keras_weight in zip(ours, theirs, strict=True):
        np.testing.assert_array_equal(mine, keras_weight)


@pytest.mark.parametrize("layer, message", [
    ({"GRU": {"units": 3}}, "layer 'GRU' is not supported; expected one of Dense, Conv1D"),
    ({"Dense": {}, "Flatten": {}}, "expected one Keras layer name and its arguments"),
])
def test_a_layer_outside_the_supported_set_is_refused_by_name(layer, message):
    with pytest.raises(ValueError, match=message):
        layers.parse(layer)
