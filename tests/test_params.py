"""params.yaml validation: good values parse, every bad one names its key, value and rule."""

import copy
import re
from pathlib import Path

import pytest
import yaml

from weightreg import params

ROOT = Path(__file__).resolve().parents[1]
RAW = yaml.safe_load((ROOT / "params.yaml").read_text())


def with_value(key: str, value):
    raw = copy.deepcopy(RAW)
    *parents, last = key.split(".")
    node = raw
    for part in parents:
        node = node[part]
    node[last] = value
    return raw


def test_project_params_parse():
    p = params.load(ROOT / "params.yaml")
    assert p.lam == 1e-3 and p.regularizer == "l2"
    assert p.train.epochs == 4000 and p.train.seeds == 10
    assert p.grid.values == (1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6)
    assert p.progressive.smithing.points[1] == (1200, 1e-5)
    assert p.data.source == "moons" and p.data.n_train is None and p.model.hidden_units == 500


def test_auto_is_the_tutorials_network_on_moons_and_a_smaller_budget_elsewhere():
    p = params.parse(RAW)
    assert (p.model.hidden_units, p.train.epochs) == (500, 4000)
    other = params.parse(with_value("data.source", "breast_cancer"))
    assert (other.model.hidden_units, other.train.epochs) == ((64, 64), 100)
    chosen = with_value("train.epochs", 30)
    chosen["data"]["source"] = "digits"
    assert params.parse(chosen).train.epochs == 30


def test_hidden_units_take_a_list_of_widths():
    assert params.parse(with_value("model.hidden_units", [64, 32])).model.hidden_units == (64, 32)


@pytest.mark.parametrize("text, expected", [
    ("1e-3", 1e-3), ("1.0e-3", 1e-3), ("0.001", 1e-3), ("1e-05", 1e-5), ("0", 0.0),
    ("5e-4", 5e-4), ("'1e-05'", 1e-5),
])
def test_lambda_in_every_form_a_user_types(text, expected):
    # `dvc exp run -S lambda=1e-05` writes YAML that PyYAML reads as the string '1e-05'.
    raw = with_value("lambda", yaml.safe_load(f"v: {text}")["v"])
    assert params.parse(raw).lam == expected


@pytest.mark.parametrize("key, value, allowed", [
    ("lambda", -1.0, ">= 0"),
    ("lambda", "abc", "a number"),
    ("lambda", True, "a number"),
    ("lambda", float("nan"), "finite"),
    ("regularizer", "l3", "l1, l2, l1_l2"),
    ("train.epochs", 0, ">= 1"),
    ("train.epochs", 2.5, "whole number"),
    ("train.seeds", -3, ">= 1"),
    ("train.learning_rate", 0, "> 0"),
    ("data.moons.n_train", 100, "below data.moons.n_samples"),
    ("data.moons.noise", -0.1, ">= 0"),
    ("data.source", "mnist", "moons, breast_cancer, digits, wine, iris, diabetes, csv"),
    ("data.task", "ranking", "auto, binary, multiclass, regression"),
    ("data.task", "regression", "auto or binary for data.source moons"),
    ("data.test_fraction", 1.5, "between 0 and 1"),
    ("data.n_train", 0, ">= 1"),
    ("data.path", "", "a non-empty text"),
    ("model.hidden_units", [64, 0], "model.hidden_units[1] = 0 is not allowed; expected a whole"),
    ("model.hidden_units", [], "a non-empty list of widths"),
    ("grid.values", [], "non-empty list"),
    ("grid.values", [1e-3, -1e-2], "grid.values[1] = -0.01 is not allowed; expected a number >= 0"),
    ("grid.values", 0.1, "non-empty list"),
    ("grid.kinds", ["l2", "l2"], "distinct kinds"),
    ("grid.kinds", ["l2", "L1"], "grid.kinds[1] = 'L1' is not allowed; expected one of l1, l2"),
    ("boundaries.resolution", 1, "at least 2"),
    ("progressive.smithing.interpolation", "cubic", "step, linear"),
    ("progressive.smithing.points", [[5, 0.0]], "epochs rising from 0"),
    ("progressive.smithing.points", [[0, 0.0], [0, 1e-3]], "epochs rising from 0"),
    ("progressive.smithing.epochs", 4000, "more epochs than the last schedule point"),
    ("model.hidden_units", "many", "a number"),
    ("train.epochs", "automatic", "a number"),
    ("selection.folds", 1, "a count from 2 to data.moons.n_train (30)"),
    ("grid.values", [1e-3, 1e-3], "distinct numbers"),
    ("data.random_state", -1, "a seed from 0"),
    ("selection.draws", 1000, "at most replication.draws (100)"),
    ("train.early_stopping", "on", "{patience: 10, min_delta: 0}"),
    ("train.early_stopping", 10, "null for none, or auto"),
    ("train.validation_split", 1.0, "between 0 and 1"),
])
def test_bad_values_name_key_value_and_rule(key, value, allowed):
    with pytest.raises(params.ParamsError) as error:
        params.parse(with_value(key, value))
    message = str(error.value)
    assert message.startswith(f"params.yaml: {key}")
    if isinstance(value, list) and value:  # a list names its offending element instead
        assert allowed in message
    else:
        assert f"= {value!r}" in message and allowed in message


def test_unknown_key_suggests_the_close_one():
    raw = copy.deepcopy(RAW)
    raw["train"]["epoch"] = raw["train"].pop("epochs")
    with pytest.raises(params.ParamsError, match="unknown key train.epoch.*did you mean 'epochs'"):
        params.parse(raw)


def test_missing_key_is_named():
    raw = copy.deepcopy(RAW)
    del raw["lambda"]
    with pytest.raises(params.ParamsError, match="missing key lambda"):
        params.parse(raw)


def test_malformed_yaml_and_missing_file(tmp_path):
    bad = tmp_path / "params.yaml"
    bad.write_text("lambda: [1e-3\n")
    with pytest.raises(params.ParamsError, match="not valid YAML"):
        params.load(bad)
    with pytest.raises(params.ParamsError, match="cannot read"):
        params.load(tmp_path / "absent.yaml")


def test_params_are_read_as_dvc_reads_them(tmp_path):
    """YAML 1.2 with DVC's own reader: the value trained is the value DVC records."""
    from dvc.utils.serialize._yaml import parse_yaml

    text = (ROOT / "params.yaml").read_text()
    path = tmp_path / "params.yaml"
    path.write_text(text.replace("  seeds: 10 ", "  seeds: 010 "))
    assert parse_yaml(path.read_text(), "p")["train"]["seeds"] == 10
    assert params.load(path).train.seeds == 10  # PyYAML (YAML 1.1) reads octal 8
    path.write_text(text.replace("  seeds: 10 ", "  seeds: 1:30 "))
    with pytest.raises(params.ParamsError, match=r"train.seeds = '1:30' is not allowed"):
        params.load(path)  # a text to DVC; sexagesimal 90 to PyYAML
    path.write_text(text.replace("lambda: 1.0e-3\n", "lambda: 1e400\n", 1))
    with pytest.raises(params.ParamsError, match="lambda = inf is not allowed; expected a finite "
                                                 r"number \(YAML reads a number beyond"):
        params.load(path)


def test_a_yaml_merge_key_is_valid_as_dvc_reads_it(tmp_path):
    path = tmp_path / "params.yaml"
    text = (ROOT / "params.yaml").read_text()
    anchored = text.replace("train:                 #", "train: &train\n  #", 1)
    path.write_text(anchored.replace("  seeds: 10 ", "  seeds: 10\nsame: {<<: *train}\n#", 1))
    with pytest.raises(params.ParamsError, match="unknown key same"):  # read, then judged
        params.load(path)


def test_progressive_follows_the_run_length_except_on_two_moons():
    moons = params.parse(copy.deepcopy(RAW))
    assert moons.progressive.smithing.epochs == 5000  # the tutorial's schedule, as written
    assert moons.progressive.smithing.points[1] == (1200, 1e-5)
    raw = copy.deepcopy(RAW)
    raw["data"]["source"] = "diabetes"  # train.epochs: auto is 100 there
    other = params.parse(raw).progressive
    assert [epoch for epoch, _ in other.smithing.points] == [0, 30, 62, 100]
    assert (other.smithing.epochs, other.repeated.epochs_per_level) == (125, 12)
    raw["train"]["epochs"] = 2
    short = params.parse(raw).progressive  # points stay apart, and end before the run
    assert [epoch for epoch, _ in short.smithing.points] == [0, 1, 2, 3]
    assert short.smithing.epochs == 4 and short.repeated.epochs_per_level == 1


CNN = [{"Conv2D": {"filters": 16, "kernel_size": 3, "activation": "relu"}},
       {"MaxPooling2D": {"pool_size": 2}}, {"Flatten": {}},
       {"Dense": {"units": 64, "activation": "relu"}}]


def with_network(layers, shape=(8, 8, 1), hidden_units="auto"):
    raw = with_value("model.layers", layers)
    raw["model"]["hidden_units"] = hidden_units
    raw["data"]["shape"] = None if shape is None else list(shape)
    raw["data"]["source"] = "digits"
    return raw


def test_your_own_network_is_read_as_keras_layers_on_the_rows_shape():
    p = params.parse(with_network(CNN))
    assert p.data.shape == (8, 8, 1)
    assert [layer.describe() for layer in p.model.layers] == [
        {"Conv2D": {"filters": 16, "kernel_size": (3, 3), "activation": "relu"}},
        {"MaxPooling2D": {"pool_size": (2, 2)}}, {"Flatten": {}},
        {"Dense": {"units": 64, "activation": "relu"}}]
    network = params.network(p.model, p.data.shape, 10)
    assert network.groups[:2] == ("conv2d_1_kernel", "conv2d_1_bias")


@pytest.mark.parametrize("raw, message", [
    (with_network([*CNN, {"GRU": {"units": 4}}]),
     "params.yaml: model.layers[4]: layer 'GRU' is not supported; expected one of Dense, "
     "Conv1D, Conv2D, MaxPooling1D, MaxPooling2D, Flatten, LSTM"),
    (with_network([{"Conv2D": {"filters": 16, "kernel_size": 3, "strides": 2}}]),
     "params.yaml: model.layers[0].Conv2D: argument 'strides' is not supported; expected "
     "filters, kernel_size, activation"),
    (with_network([]), "params.yaml: model.layers = [] is not allowed; expected a non-empty"),
    (with_network(CNN, hidden_units=[32]),
     "params.yaml: model.layers and model.hidden_units = [32] both give the network"),
    (with_network(CNN, shape=(64,)),
     r"params.yaml: model.layers[0]: Conv2D takes rows of 3 axes (height, width, channels), "
     "and gets rows of shape [64]"),
    (with_network(CNN[:2], shape=(8, 8, 1)),
     "params.yaml: the output layer: Dense takes rows of one axis (put Flatten before it), and "
     "gets rows of shape [3, 3, 16]"),
    (with_network(CNN, shape=(8, 0, 1)),
     "params.yaml: data.shape[1] = 0 is not allowed; expected a whole number >= 1"),
])
def test_a_network_users_cannot_train_is_refused_in_one_line(raw, message):
    with pytest.raises(params.ParamsError) as error:
        params.parse(raw)
    assert str(error.value).startswith(message)
    assert "\n" not in str(error.value)


def test_a_shape_that_does_not_hold_the_rows_features_is_refused_when_the_data_is_read():
    from weightreg import data, io

    p = params.parse(with_network(CNN, shape=(8, 4, 1)))
    with pytest.raises(io.BadInput, match=r"data.shape = \[8, 4, 1\] holds 32 features per "
                                          r"row; digits has 64"):
        data.prepare(p.data)


def test_a_flat_row_under_a_layer_that_needs_axes_says_data_shape_is_null():
    p = params.parse(with_network(CNN, shape=None))  # checked when the features are counted
    with pytest.raises(params.ParamsError, match=r"model.layers\[0\]: Conv2D takes rows of 3 "
                                                 r"axes .*; data.shape is null, so a row is a "
                                                 "flat list of its features"):
        params.network(p.model, p.data.shape, 10, features=64)


def test_early_stopping_is_off_on_two_moons_and_on_elsewhere_unless_set():
    assert params.parse(copy.deepcopy(RAW)).train.early_stopping is None
    chosen = with_value("data.source", "breast_cancer")
    assert params.parse(chosen).train.early_stopping == params.Stopping(10, 0.0)
    chosen["train"]["early_stopping"] = None
    assert params.parse(chosen).train.early_stopping is None
    chosen = with_value("train.early_stopping", {"patience": 3, "min_delta": 1e-4})
    assert params.parse(chosen).train.early_stopping == params.Stopping(3, 1e-4)


@pytest.mark.parametrize("value, message", [
    ({"patience": -1, "min_delta": 0}, "train.early_stopping.patience = -1 is not allowed; "
                                       "expected a whole number >= 0"),
    ({"patience": 10, "min_delta": -0.1}, "train.early_stopping.min_delta = -0.1"),
    ({"patience": 10}, "missing key train.early_stopping.min_delta"),
    ({"patience": 10, "min_delta": 0, "baseline": 1}, "unknown key train.early_stopping.baseline"),
])
def test_early_stopping_settings_are_checked_by_name(value, message):
    with pytest.raises(params.ParamsError, match=re.escape(message)):
        params.parse(with_value("train.early_stopping", value))
