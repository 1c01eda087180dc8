"""Keras layers as the engine computes them (`weightreg.layers`): initial weights bit for bit
those of a built Keras model, and training that matches Keras `fit` from them, for every
supported layer type."""

import numpy as np
import pytest

from weightreg import backend, data, engine, layers, models, tasks

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
             for layer in network for name, arguments in layer.items()]
    return keras.Sequential([keras.Input(input_shape), *built])


@pytest.mark.parametrize("name", NETWORKS)
@pytest.mark.parametrize("seed", [0, 7])
def test_initial_weights_are_those_of_the_keras_model(name, seed):
    keras = backend.keras()
    input_shape, network = NETWORKS[name]
    keras.utils.set_random_seed(seed)
    theirs = keras_model(input_shape, network).get_weights()
    *hidden, output = network  # the last layer, Dense(units), is the output layer
    ours = layers.Network.build([layers.parse(layer) for layer in hidden], input_shape,
                                output["Dense"]["units"]).initial_weights(seed)
    assert [w.shape for w in ours] == [w.shape for w in theirs]
    for mine, keras_weight in zip(ours, theirs, strict=True):
        np.testing.assert_array_equal(mine, keras_weight)


@pytest.mark.parametrize("layer, message", [
    ({"GRU": {"units": 3}}, "layer 'GRU' is not supported; expected one of Dense, Conv1D"),
    ({"Dense": {}, "Flatten": {}}, "expected one Keras layer name and its arguments"),
    ({"Conv2D": {"filters": 4, "kernel_size": 3, "padding": "same"}},
     "Conv2D: argument 'padding' is not supported; expected filters, kernel_size, activation"),
    ({"Dense": {"units": 0}}, r"Dense.units = 0 is not allowed; expected a whole number >= 1"),
    ({"Dense": {"units": 4, "activation": "gelu"}},
     "Dense.activation = 'gelu' is not allowed; expected one of relu, tanh, sigmoid, linear"),
    ({"LSTM": {}}, "LSTM: missing argument 'units'"),
])
def test_a_layer_or_argument_outside_the_supported_set_is_refused_by_name(layer, message):
    with pytest.raises(ValueError, match=message):
        layers.parse(layer)


@pytest.mark.parametrize("shape, network, message", [
    ((64,), [{"Conv2D": {"filters": 4, "kernel_size": 3}}],
     r"model.layers\[0\]: Conv2D takes rows of 3 axes .* shape \[64\]"),
    ((8, 8, 1), [{"Conv2D": {"filters": 4, "kernel_size": 9}}],
     r"Conv2D kernel_size \[9, 9\] is larger than its input \[8, 8\]"),
    ((8, 8, 1), [{"Conv2D": {"filters": 4, "kernel_size": 3}}],
     r"the output layer: Dense takes rows of one axis \(put Flatten before it\)"),
])
def test_a_network_whose_shapes_do_not_fit_is_refused_at_its_layer(shape, network, message):
    with pytest.raises(ValueError, match=message):
        layers.Network.build([layers.parse(layer) for layer in network], shape, 1)


def test_weights_are_named_by_layer_and_addressed_by_role():
    network = layers.Network.build(
        [layers.parse(layer) for layer in ({"Conv1D": {"filters": 2, "kernel_size": 3}},
                                           {"LSTM": {"units": 3}}, {"Dense": {"units": 4}})],
        (10, 1), 1)
    assert network.groups == ("conv1d_1_kernel", "conv1d_1_bias", "lstm_1_kernel",
                              "lstm_1_recurrent_kernel", "lstm_1_bias", "dense_1_kernel",
                              "dense_1_bias", "output_kernel", "output_bias")
    assert network.per_group({"hidden_kernel": 1.0, "recurrent_kernel": 2.0,
                              "dense_1_bias": 3.0}) == [1, 0, 1, 2, 0, 1, 3, 0, 0]
    with pytest.raises(ValueError, match="unknown weight groups"):
        network.per_group({"conv2d_1_kernel": 1.0})


# Short-horizon training against Keras `fit` from the same weights, each layer type: several
# batches, with a penalty on every weight role the network has.
TRAINED = {
    "conv2d": ("digits", (8, 8, 1), [
        {"Conv2D": {"filters": 4, "kernel_size": 3, "activation": "relu"}},
        {"MaxPooling2D": {"pool_size": 2}}, {"Flatten": {}},
        {"Dense": {"units": 8, "activation": "relu"}}]),
    "conv1d": ("sequences", (16, 1), [
        {"Conv1D": {"filters": 3, "kernel_size": 5, "activation": "tanh"}},
        {"MaxPooling1D": {"pool_size": 2}}, {"Flatten": {}}]),
    "lstm": ("sequences", (16, 1), [{"LSTM": {"units": 4}}]),
}


def rows_of(source):
    if source == "digits":
        from sklearn.datasets import load_digits

        bunch = load_digits()
        x = (bunch.data / 16).astype(np.float32)
        y = bunch.target.astype(np.float32)
        return data.Split(x[:96], y[:96], x[96:160], y[96:160]), tasks.of("multiclass", 10)
    x, y = data.sequences(160, 16, seed=3)
    x, y = x.reshape(160, -1).astype(np.float32), y.astype(np.float32)
    return data.Split(x[:96], y[:96], x[96:], y[96:]), tasks.BINARY


@pytest.mark.parametrize("name", TRAINED)
def test_training_matches_keras_fit_for_each_layer_type(name):
    keras = backend.keras()
    source, shape, hidden = TRAINED[name]
    split, task = rows_of(source)
    network = layers.Network.build([layers.parse(layer) for layer in hidden], shape,
                                   task.outputs)
    penalties = {"hidden_kernel": 1e-3, "hidden_bias": 1e-3, "recurrent_kernel": 1e-2,
                 "output_kernel": 1e-3}
    members = [engine.Member(0), engine.Member(5, "l2", penalties),
               engine.Member(9, "l1", penalties)]
    epochs = 4  # 3 batches of 32 each: 12 steps
    result = engine.train(split, members, network=network, task=task, epochs=epochs,
                          batch_size=32, learning_rate=1e-2, shuffle=False, progress=False)
    for k, member in enumerate(members):
        keras.utils.set_random_seed(member.seed)
        model = models.keras_model(network, member.kind, member.penalties, 1e-2, task=task)
        for ours, theirs in zip(network.initial_weights(member.seed), model.get_weights(),
                                strict=True):
            np.testing.assert_array_equal(ours, theirs)
        history = model.fit(split.x_train, split.y_train, epochs=epochs, batch_size=32,
                            shuffle=False, verbose=0,
                            validation_data=(split.x_test, split.y_test)).history
        for group, theirs, ours in zip(network.groups, model.get_weights(), result.weights,
                                       strict=True):
            np.testing.assert_allclose(ours[k], theirs, atol=2e-5, rtol=0,
                                       err_msg=f"{name}, member {k}, {group}")
        np.testing.assert_allclose(result.history["train_total"][:, k], history["loss"],
                                   rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(result.history["test_total"][:, k], history["val_loss"],
                                   rtol=1e-5, atol=1e-5)
        for ours, theirs, rows in (("train_score", "accuracy", len(split.y_train)),
                                   ("test_score", "val_accuracy", len(split.y_test))):
            np.testing.assert_array_equal(np.rint(result.history[ours][:, k] * rows),
                                          np.rint(np.array(history[theirs]) * rows))


def test_an_exported_cnn_takes_flat_rows_and_predicts_like_the_engine(tmp_path):
    keras = backend.keras()
    split, task = rows_of("digits")
    source, shape, hidden = TRAINED["conv2d"]
    network = layers.Network.build([layers.parse(layer) for layer in hidden], shape, 10)
    result = engine.train(split, [engine.Member(2, "l2", {"hidden_kernel": 1e-3})],
                          network=network, task=task, epochs=2, batch_size=32,
                          learning_rate=1e-3, progress=False)
    path = tmp_path / "cnn.keras"
    path.write_bytes(models.keras_bytes(network, tuple(w[0] for w in result.weights), "l2",
                                        {"hidden_kernel": 1e-3}, 1e-3, task))
    loaded = keras.models.load_model(path)
    theirs = loaded.predict(split.x_test, verbose=0)  # rows of 64 features, as the data has them
    ours = engine.predict(network, result.weights, split.x_test, task)[0]
    np.testing.assert_allclose(theirs, ours, atol=1e-6)
    assert loaded.layers[1].kernel_regularizer.l2 == pytest.approx(1e-3)  # after the Reshape


def test_the_study_trains_your_own_network_from_params_yaml(tmp_path):
    """model.layers and data.shape, from params to the prepared split (which keeps the shape)
    to a sweep whose members are that network: weights named after its layers."""
    from test_params import CNN, with_network

    from weightreg import data as prepared, params, study

    raw = with_network(CNN)
    raw["train"] = {**raw["train"], "epochs": 2, "seeds": 2}
    p = params.parse(raw)
    path = tmp_path / "split.npz"
    path.write_bytes(prepared.to_bytes(prepared.prepare(p.data)))
    dataset = prepared.load(path)
    assert dataset.shape == (8, 8, 1)
    (none, l2) = study.sweep(p, dataset, [study.Configuration("none"),
                                          study.hidden_kernel("l2", "l2", 1e-2)], "test")
    assert list(none.norms) == ["conv2d_1_kernel", "conv2d_1_bias", "dense_1_kernel",
                                "dense_1_bias", "output_kernel", "output_bias"]
    # The penalty shrinks the penalized kernels, seed by seed, and leaves the scores sane.
    assert (l2.norms["conv2d_1_kernel"] < none.norms["conv2d_1_kernel"]).all()
    assert (none.test_score > 0.5).all()


def test_a_model_saved_with_keras_gives_its_architecture_for_params_yaml(tmp_path):
    from test_params import with_network

    from weightreg import io, params
    from weightreg.layers import from_keras

    keras = backend.keras()
    saved = keras.Sequential([
        keras.Input((64,)), keras.layers.Reshape((8, 8, 1)),
        keras.layers.Conv2D(4, 3, activation="relu",
                            kernel_regularizer=keras.regularizers.L2(1e-3)),
        keras.layers.MaxPooling2D(2), keras.layers.Flatten(),
        keras.layers.Dense(8, activation="tanh"), keras.layers.Dense(10, activation="softmax")])
    saved.save(tmp_path / "cnn.keras")
    found = from_keras.architecture(str(tmp_path / "cnn.keras"))
    assert found["data"]["shape"] == [8, 8, 1]
    p = params.parse(with_network(found["model"]["layers"], shape=found["data"]["shape"]))
    network = params.network(p.model, p.data.shape, 10)
    # The same layers and weights as the saved model's (its output layer the task's).
    assert [w.shape for w in network.initial_weights(0)] == [w.shape for w in saved.get_weights()]
    same = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(4, 3, padding="same"),
                             keras.layers.Flatten(), keras.layers.Dense(1)])
    same.save(tmp_path / "same.keras")
    with pytest.raises(io.BadInput, match=r"layer 0 \(.*, Conv2D\) has padding = 'same'; the "
                                          "engine computes 'valid' only"):
        from_keras.architecture(str(tmp_path / "same.keras"))


def test_a_saved_model_the_engine_cannot_take_is_refused_in_one_line(tmp_path):
    from weightreg import io
    from weightreg.layers import from_keras

    keras = backend.keras()
    models_ = {
        "elu": keras.Sequential([keras.Input((6,)), keras.layers.Dense(4, activation="elu"),
                                 keras.layers.Dense(1)]),
        "steps": keras.Sequential([keras.Input((None, 1)), keras.layers.LSTM(3),
                                   keras.layers.Dense(1)]),
    }
    messages = {"elu": r"layer 0 \(.*\).Dense.activation = 'elu' is not allowed; expected one "
                       "of relu, tanh, sigmoid, linear",
                "steps": r"its input is \(None, None, 1\); expected one input of fixed sizes"}
    for name, model in models_.items():
        model.save(tmp_path / f"{name}.keras")
        with pytest.raises(io.BadInput, match=messages[name]):
            from_keras.architecture(str(tmp_path / f"{name}.keras"))
    inputs = keras.Input((8, 8, 1))  # a functional model lists its input as a layer
    outputs = keras.layers.Dense(1)(keras.layers.Flatten()(keras.layers.Conv2D(2, 3)(inputs)))
    keras.Model(inputs, outputs).save(tmp_path / "functional.keras")
    found = from_keras.architecture(str(tmp_path / "functional.keras"))
    assert found["data"]["shape"] == [8, 8, 1]
    assert [list(layer) for layer in found["model"]["layers"]] == [["Conv2D"], ["Flatten"]]
