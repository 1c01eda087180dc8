"""The figures, drawn from small made-up data: they render, and they show what they claim."""

import matplotlib
import numpy as np
import pytest

from weightreg import data as prepared, plots, tasks

matplotlib.use("Agg")


def moons(train: int, test: int) -> prepared.Dataset:
    """A two-moons dataset of these sizes (the picture reads its counts and names)."""
    split = prepared.Split(np.zeros((train, 2)), np.zeros(train), np.zeros((test, 2)),
                           np.zeros(test))
    return prepared.Dataset(split, tasks.BINARY, "two moons", ("x1", "x2"), ("0", "1"))

GRID = {
    "kind": np.array(["l1", "l1", "l2", "l2"]), "lambda": np.array([1e-3, 1e-2, 1e-3, 1e-2]),
    "train_score": np.array([1.0, 0.9, 1.0, 1.0]), "test_score": np.array([0.9, 0.8, 0.94, 0.93]),
    "test_score_std": np.array([0.01, 0.0, 0.0, 0.02]),
    **{f"{group}_norm": np.array([3.0, 1.0, 4.0, 2.0])
       for group in ("hidden_kernel", "hidden_bias", "output_kernel", "output_bias")},
}


def test_every_figure_renders_to_png():
    data = {"x1": np.array([0.0, 1.0, 0.5]), "x2": np.array([0.0, 1.0, 0.2]),
            "y": np.array([0.0, 1.0, 1.0]), "split": np.array(["train", "test", "test"])}
    curves = {"epoch": np.arange(1, 4), "train_score": np.array([0.5, 0.7, 1.0]),
              "test_score": np.array([0.5, 0.6, 0.9]), "lambda": np.array([0.0, 1e-4, 1e-3])}
    side = np.linspace(0, 1, 3)
    x1, x2 = (a.ravel() for a in np.meshgrid(side, side))
    figures = [
        plots.data_scatter(data, moons(1, 2)),
        plots.learning_curves({"baseline": curves, "regularized": curves}, tasks.BINARY),
        plots.lambda_curve(GRID, tasks.BINARY, {"kind": np.array(["l2"] * 2), "lambda": np.array([1e-3, 2e-3]),
                                  "test_score": np.array([0.9, 0.95]),
                                  "test_score_std": np.array([0.0, 0.01])}),
        plots.weight_norms(GRID),
        plots.layerwise({"hidden_lambda": np.array([0.0, 0.0, 1e-3, 1e-3]),
                         "output_lambda": np.array([0.0, 1e-3, 0.0, 1e-3]),
                         "test_score": np.array([0.9, 0.92, 0.94, 0.8])}, tasks.BINARY),
        plots.progressive(curves, {"lambda": np.array([0.0, 1e-3]),
                                   "test_score": np.array([0.9, 0.94]),
                                   "test_score_std": np.array([0.0, 0.01])}, tasks.BINARY),
        plots.boundaries({"model": np.array(["a"] * 9), "x1": x1, "x2": x2, "p": x1}, data),
    ]
    for figure in figures:
        assert plots.png(figure)[:8] == b"\x89PNG\r\n\x1a\n"


def test_scatter_title_counts_the_rows():
    data = {"x1": np.zeros(5), "x2": np.zeros(5), "y": np.array([0.0, 1, 0, 1, 1]),
            "split": np.array(["train", "train", "test", "test", "test"])}
    figure = plots.data_scatter(data, moons(2, 3))
    assert figure.axes[0].get_title() == "Two moons: 2 training rows, 3 test rows"


def test_regression_figures_name_r2():
    curves = {"epoch": np.arange(1, 4), "train_score": np.array([0.1, 0.5, 0.9]),
              "test_score": np.array([-0.2, 0.1, 0.3]), "lambda": np.array([0.0, 1e-4, 1e-3])}
    regression = tasks.regression()
    figure = plots.learning_curves({"baseline": curves}, regression)
    assert figure.axes[0].get_ylabel() == "R² (mean over seeds)"
    assert plots.lambda_curve(GRID, regression).axes[0].get_ylabel() == "R² (mean over seeds)"
    levels = {"lambda": np.array([0.0, 1e-3]), "test_score": np.array([0.2, 0.3]),
              "test_score_std": np.array([0.0, 0.01])}
    assert plots.progressive(curves, levels, regression).axes[1].get_ylabel() == \
        "test R² (mean ± std)"
    split = prepared.Split(np.zeros((4, 3)), np.array([-1.0, 0, 1, 2]), np.zeros((2, 3)),
                           np.array([0.5, 1.5]))
    diabetes = prepared.Dataset(split, tasks.regression(), "diabetes", ("age", "sex", "bmi"))
    points = {"x1": np.zeros(6), "x2": np.zeros(6), "y": np.array([1, 2, 3, 4, 3, 4]),
              "split": np.array(["train"] * 4 + ["test"] * 2)}
    axes = plots.data_scatter(points, diabetes).axes[0]
    assert axes.get_xlabel() == "age (standardized)"
    assert "target quartile 1, train" in [t.get_text() for t in axes.get_legend().get_texts()]


def test_sequence_bars_tell_regularized_from_plain():
    figure = plots.sequence({"model": np.array(["conv1d none", "conv1d l2(0.001)", "lstm none"]),
                             "test_score": np.array([0.8, 0.82, 0.7]),
                             "test_score_std": np.array([0.01, 0.0, 0.02])})
    colours = [tuple(bar.get_facecolor()) for bar in figure.axes[0].patches]
    assert colours[0] == colours[2] != colours[1]


def test_placement_draws_the_baseline_from_the_paired_difference():
    figure = plots.placement({"placement": np.array(["hidden_kernel", "everything"]),
                              "test_score": np.array([0.94, 0.93]),
                              "test_score_lo": np.array([0.94, 0.92]),
                              "test_score_hi": np.array([0.94, 0.94]),
                              "diff_vs_baseline": np.array([0.03, 0.02])}, tasks.BINARY)
    (line,) = figure.axes[0].get_lines()[-1:]
    assert line.get_ydata()[0] == pytest.approx(0.91)
