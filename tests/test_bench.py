"""The benchmark's arithmetic: the sklearn alpha conversions (classifier and regressor) and the
FLOP count."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import make_moons
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier

from weightreg.bench.speed import engine_flops_per_member_epoch, saturation, sklearn_alpha

KERAS_L2 = 1e-3
ROWS = 30  # one batch, as in the tutorial: 30 training rows, batch size 32


def fitted_classifier():
    """A small MLPClassifier whose weights are not at their initial values."""
    x, y = make_moons(n_samples=ROWS, noise=0.2, random_state=1)
    classifier = MLPClassifier(hidden_layer_sizes=(7,), solver="adam", batch_size=ROWS,
                               max_iter=3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        classifier.fit(x, y)
    return classifier, x, y


def sklearn_loss_and_kernel_gradients(classifier, x, y, alpha):
    """The loss and kernel gradients of one batch, as scikit-learn's own training computes them.

    The lists are laid out as `BaseMultilayerPerceptron._fit` lays them out before it calls
    `_backprop` for every batch.
    """
    classifier.alpha = alpha
    layers = [x.shape[1]] + [w.shape[1] for w in classifier.coefs_]
    activations = [x] + [None] * (len(layers) - 1)
    deltas = [None] * (len(activations) - 1)
    kernel_gradients = [np.empty((fan_in, fan_out)) for fan_in, fan_out in zip(layers, layers[1:])]
    bias_gradients = [np.empty(fan_out) for fan_out in layers[1:]]
    loss, kernel_gradients, _ = classifier._backprop(
        x, y[:, None], None, activations, deltas, kernel_gradients, bias_gradients)
    return loss, [g.copy() for g in kernel_gradients]


def test_sklearn_alpha_reproduces_the_keras_l2_penalty_and_its_gradient():
    classifier, x, y = fitted_classifier()
    alpha = sklearn_alpha(KERAS_L2, ROWS)
    loss, gradients = sklearn_loss_and_kernel_gradients(classifier, x, y, alpha)
    plain_loss, plain_gradients = sklearn_loss_and_kernel_gradients(classifier, x, y, 0.0)

    # Keras adds l2 * sum(W^2) to the batch's mean loss, whose gradient is 2 * l2 * W; sklearn
    # applies its penalty to every kernel, so the expected penalty sums over all of them.
    kernels = classifier.coefs_
    assert loss - plain_loss == pytest.approx(KERAS_L2 * sum(np.sum(w ** 2) for w in kernels),
                                              rel=1e-9)
    for gradient, plain_gradient, kernel in zip(gradients, plain_gradients, kernels):
        np.testing.assert_allclose(gradient - plain_gradient, 2 * KERAS_L2 * kernel,
                                   rtol=1e-9, atol=1e-15)


def test_sklearn_alpha_scales_with_the_batch_rows():
    assert sklearn_alpha(1e-3, 30) == pytest.approx(0.06)
    assert sklearn_alpha(1e-3, 60) == pytest.approx(2 * sklearn_alpha(1e-3, 30))


def test_flop_count_of_a_small_configuration():
    # 2 inputs, 4 hidden units, 3 training rows in batches of 2 (two batches, 4 padded rows),
    # 2 test rows. Per row: forward 2*2*4 + 2*4 + 2*4 = 32; backward 8 + 8 + 4 + 4 + 16 = 40.
    # Parameters: 2*4 + 4 + 4 + 1 = 17; each update costs 15 (decay and Adam) + 4 (penalty)
    # + 6 (its gradient) = 25 per parameter.
    train = 2 * (2 * (32 + 40) + 17 * 25)  # 2 * (144 + 425) = 1138
    test = 2 * 32 + 17 * 4  # 64 + 68 = 132
    assert engine_flops_per_member_epoch(n_train=3, n_test=2, hidden_units=4, batch_size=2,
                                         inputs=2) == train + test == 1270


def test_flop_count_of_the_tutorial_configuration():
    # The tutorial's configuration: one batch of the 30 training rows at 9000, 70 test rows at
    # 4000, and 2001 parameters at 25 per update plus 4 for the test penalty.
    assert engine_flops_per_member_epoch(30, 70, 500, 32) == 30 * 9000 + 70 * 4000 + 2001 * 29


def test_saturation_is_the_first_population_near_the_lowest_cost():
    costs = {"1": 0.0625, "6": 0.0266, "20": 0.0186, "60": 0.0218, "200": 0.0174}
    assert saturation(costs) == 20  # 0.0186 <= 1.2 * 0.0174; 0.0266 is not
    assert saturation({"1": 1.0}) == 1


def test_the_regressors_alpha_gives_half_of_keras_objective():
    """MLPRegressor minimizes half the mean squared error plus 0.5 * alpha * sum(W^2) / rows:
    with `real.alpha`, exactly half of Keras' MSE + l2 * sum(W^2), so the same minimum."""
    from types import SimpleNamespace

    from sklearn.neural_network import MLPRegressor

    from weightreg import tasks
    from weightreg.bench import real

    x, y = make_moons(n_samples=real.BATCH_SIZE, noise=0.2, random_state=1)
    target = x[:, 0] * 2.0 + y
    regressor = MLPRegressor(hidden_layer_sizes=(7,), solver="adam",
                             batch_size=real.BATCH_SIZE, max_iter=3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        regressor.fit(x, target)
    alpha = real.alpha(SimpleNamespace(task=tasks.regression()), KERAS_L2)
    assert alpha == sklearn_alpha(KERAS_L2, real.BATCH_SIZE) / 2
    loss, _ = sklearn_loss_and_kernel_gradients(regressor, x, target, alpha)
    plain, _ = sklearn_loss_and_kernel_gradients(regressor, x, target, 0.0)
    mse = np.mean((regressor.predict(x) - target) ** 2)
    assert plain == pytest.approx(mse / 2, rel=1e-9)
    assert loss - plain == pytest.approx(
        KERAS_L2 * sum(np.sum(w ** 2) for w in regressor.coefs_) / 2, rel=1e-9)


def test_the_benchmark_runs_to_its_closing_table_and_json_line(monkeypatch):
    """Every measurement of `python -m weightreg.bench`, on tiny settings, then what it prints
    at its end (the closing table once read keys that params no longer has)."""
    import json

    from weightreg.bench import real, speed

    monkeypatch.setattr(speed, "SINGLE_MODEL_EPOCHS", 3)
    monkeypatch.setattr(speed, "MATMUL_SIZE", 64)
    monkeypatch.setattr(speed, "FORWARD_PASSES", 3)
    monkeypatch.setattr(speed, "DASK_MEMBERS", 4)
    monkeypatch.setattr(real, "DATASETS", {"iris": 10})
    monkeypatch.setattr(real, "ROWS", (300,))
    monkeypatch.setattr(real, "ROW_EPOCHS", {"quick": 600})
    tiny = speed.Config(name="quick", repeats=1, keras_epochs=2, sklearn_epochs=2,
                        engine_epochs={1: 3, speed.REFERENCE_MEMBERS: 3}, dask_epochs=3)
    results = speed.measure(tiny, lambda line: None)
    printed = speed.report(results).splitlines()
    assert printed[0].startswith("weightreg benchmark (quick): two moons, 30 train / 70 test rows")
    assert any(line.startswith("iris") for line in printed)
    assert json.loads(printed[-1])["real_data"]["iris"]["grid_epochs"] == 2
