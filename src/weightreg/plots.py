"""Matplotlib figures from the stages' saved plot data. Never imports TensorFlow."""

from __future__ import annotations

import io as _bytes
from collections.abc import Mapping

import numpy as np

COLORS = {"train": "#1f77b4", "test": "#d62728", "lambda": "#555555"}


def _figure(ncols: int = 1, width: float = 6.0):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, ncols, figsize=(width * ncols, 4.2), squeeze=False)
    return fig, list(axes[0])


def _score(task) -> tuple[str, tuple[float, float] | None]:
    """What a task's score (the column `test_score`) is called, and the score axis' range
    (accuracy from 0.6; R² as the data fall)."""
    return task.score_name, ((0.6, 1.01) if task.classifies else None)


def _literal(text: str) -> str:
    """A label as the user wrote it (a class, a feature, a file name): `$x$` is not a formula
    (matplotlib reads text between two dollar signs as mathtext, unless they are escaped)."""
    return str(text).replace("$", r"\$")


def note(title: str, text: str):
    """A figure that says why a stage's picture does not apply to this data."""
    import textwrap

    fig, (ax,) = _figure()
    ax.axis("off")
    ax.text(0.5, 0.5, textwrap.fill(text, 60), ha="center", va="center", fontsize=10)
    ax.set(title=title)
    return fig


def png(fig) -> bytes:
    """The figure as PNG bytes, without a timestamp, so equal data give equal files."""
    import matplotlib.pyplot as plt

    buffer = _bytes.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png", dpi=110, metadata={"Software": None})
    plt.close(fig)
    return buffer.getvalue()


def data_scatter(data: Mapping[str, np.ndarray], dataset):
    """The data's first two numeric features: colour is the class (the target's quartile for
    regression), filled points train, hollow points test."""
    import matplotlib

    fig, (ax,) = _figure()
    labels = sorted(set(data["y"].astype(int)))
    colors = (["#1f77b4", "#ff7f0e"] if len(labels) <= 2
              else [matplotlib.colormaps["tab10"](i % 10) for i in range(len(labels))])
    for label, color in zip(labels, colors):
        name = (dataset.classes[label] if dataset.task.classifies
                else f"target quartile {label}")
        if dataset.source == "two moons":
            name = f"class {label}"
        for split, fill in (("train", color), ("test", "none")):
            rows = (data["y"] == label) & (data["split"] == split)
            ax.scatter(data["x1"][rows], data["x2"][rows], s=36 if len(data["y"]) <= 500 else 8,
                       facecolors=fill, edgecolors=color, label=_literal(f"{name}, {split}"))
    rows = {split: len(getattr(dataset.split, f"y_{split}")) for split in ("train", "test")}
    numeric = len(dataset.features) if dataset.numeric is None else dataset.numeric
    features = (list(dataset.features[:numeric]) + ["(none)", "(none)"])[:2]
    if dataset.source == "two moons":
        title = f"Two moons: {rows['train']} training rows, {rows['test']} test rows"
    else:
        features = [f"{name} (standardized)" for name in features]
        title = f"{dataset.source}: {rows['train']} training rows, {rows['test']} test rows"
    ax.set(xlabel=_literal(features[0]), ylabel=_literal(features[1]), title=_literal(title))
    ax.legend(fontsize=8)
    return fig


def learning_curves(runs: Mapping[str, Mapping[str, np.ndarray]], task):
    """Train and test score per epoch (means over seeds), one panel per run."""
    fig, axes = _figure(len(runs))
    for ax, (name, curves) in zip(axes, runs.items()):
        label, limits = _score(task)
        ax.plot(curves["epoch"], curves["train_score"], color=COLORS["train"], label="train")
        ax.plot(curves["epoch"], curves["test_score"], color=COLORS["test"], label="test")
        ax.set(xlabel="epoch", ylabel=f"{label} (mean over seeds)", title=name,
               ylim=limits)
        ax.grid(alpha=0.3)
        ax.legend(loc="lower right")
    return fig


def _by_kind(grid: Mapping[str, np.ndarray]):
    """Each kind's rows of the grid table, sorted by lambda."""
    for kind in dict.fromkeys(grid["kind"]):
        rows = np.flatnonzero(grid["kind"] == kind)
        yield kind, rows[np.argsort(grid["lambda"][rows])]


KIND_COLORS = {"l1": "#2ca02c", "l2": "#d62728", "l1_l2": "#9467bd",
               "l2 (coupled)": "#d62728", "decay (AdamW)": "#ff7f0e"}


def lambda_curve(grid: Mapping[str, np.ndarray], task,
                 refined: Mapping[str, np.ndarray] | None = None,
                 title: str = "Grid search over lambda", xlabel: str = "lambda (hidden kernel)"):
    """The test score against lambda on a log axis, one curve per kind, with a band of one
    standard deviation over seeds; the train score dashed; a finer second pass in black."""
    fig, (ax,) = _figure(width=7.0)
    label, limits = _score(task)
    if refined is not None:
        order = np.argsort(refined["lambda"])
        ax.errorbar(refined["lambda"][order], refined["test_score"][order],
                    yerr=refined["test_score_std"][order], fmt="k.-", capsize=2,
                    linewidth=0.8, label=f"{refined['kind'][0]}: finer grid (± 1 std)", zorder=3)
    for kind, rows in _by_kind(grid):
        lam, test, std = (grid[key][rows] for key in ("lambda", "test_score",
                                                      "test_score_std"))
        color = KIND_COLORS.get(kind)
        ax.fill_between(lam, test - std, test + std, color=color, alpha=0.15)
        ax.plot(lam, test, "o-", color=color, label=f"{kind}: test (± 1 std)")
        ax.plot(lam, grid["train_score"][rows], "--", color=color, alpha=0.6,
                label=f"{kind}: train")
    ax.set_xscale("log")
    ax.set(xlabel=xlabel, ylabel=f"{label} (mean over seeds)", title=title)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8, ncol=2)
    return fig


def weight_norms(grid: Mapping[str, np.ndarray]):
    """The norm of each weight group against lambda, one panel per kind: the penalty on the
    hidden kernel shrinks it, and the output layer grows to compensate."""
    kinds = list(_by_kind(grid))
    groups = [name[:-5] for name in grid if name.endswith("_norm")]
    fig, axes = _figure(len(kinds), width=4.6)
    for ax, (kind, rows) in zip(axes, kinds):
        for group in groups:
            ax.plot(grid["lambda"][rows], grid[f"{group}_norm"][rows], "o-",
                    label=group.replace("_", " "))
        ax.set(xscale="log", yscale="log", xlabel=f"lambda ({kind} on the hidden kernel)",
               ylabel="L2 norm (mean over seeds)", title=f"Weight norms, {kind}")
        ax.grid(alpha=0.3, which="both")
    axes[0].legend(fontsize=8)
    return fig


def placement(table: Mapping[str, np.ndarray], task):
    """The test score by where the penalty goes, with 95% intervals over seeds."""
    fig, (ax,) = _figure(width=7.0)
    label, limits = _score(task)
    names = list(table["placement"])
    test = table["test_score"]
    errors = [test - table["test_score_lo"], table["test_score_hi"] - test]
    ax.bar(range(len(names)), test, yerr=errors, capsize=4, color=COLORS["test"], alpha=0.75)
    # Every row is paired with the same baseline, so test - diff is the baseline's accuracy.
    baseline = float(test[0] - table["diff_vs_baseline"][0])
    ax.axhline(baseline, color=COLORS["lambda"], linestyle="--", label="no penalty")
    ax.set_xticks(range(len(names)), [name.replace("+", "\n+ ") for name in names])
    ax.set(ylabel=f"test {label} (mean, 95% CI)", title="Where to regularize",
           ylim=(min(baseline, test.min() if task.classifies else (test - errors[0]).min())
                 - 0.05, 1.0))
    ax.legend()
    return fig


def layerwise(table: Mapping[str, np.ndarray], task):
    """The test score for every pair of strengths on the hidden and the output kernel."""
    label, limits = _score(task)
    hidden, output = (sorted(set(table[key])) for key in ("hidden_lambda", "output_lambda"))
    accuracy = np.full((len(output), len(hidden)), np.nan)
    for h, o, test in zip(table["hidden_lambda"], table["output_lambda"],
                          table["test_score"]):
        accuracy[output.index(o), hidden.index(h)] = test
    fig, (ax,) = _figure(width=6.5)
    image = ax.imshow(accuracy, origin="lower", cmap="viridis")
    for (row, column), value in np.ndenumerate(accuracy):
        ax.text(column, row, f"{value:.3f}", ha="center", va="center", fontsize=8,
                color="white" if value < np.nanmean(accuracy) else "black")
    ax.set_xticks(range(len(hidden)), [f"{value:g}" for value in hidden])
    ax.set_yticks(range(len(output)), [f"{value:g}" for value in output])
    ax.set(xlabel="lambda on the hidden kernel", ylabel="lambda on the output kernel",
           title=f"Test {label} (mean over seeds) by layer-wise strength")
    fig.colorbar(image, ax=ax)
    return fig


def sequence(table: Mapping[str, np.ndarray]):
    """Conv1D and LSTM test accuracy without and with l2 on every weight (mean ± std)."""
    names = list(table["model"])
    fig, (ax,) = _figure(width=max(6.0, 0.7 * len(names)))
    colors = [COLORS["lambda"] if name.endswith("none") else COLORS["test"] for name in names]
    ax.bar(range(len(names)), table["test_score"], yerr=table["test_score_std"], capsize=4,
           color=colors, alpha=0.8)
    ax.set_xticks(range(len(names)), names, rotation=40, ha="right", rotation_mode="anchor")
    ax.set(ylabel="test accuracy (mean ± std over seeds)", ylim=(0.5, 1.0),
           title="Regularizers on Conv1D and LSTM layers")
    return fig


def boundaries(table: Mapping[str, np.ndarray], data: Mapping[str, np.ndarray]):
    """Decision functions side by side, over the data (filled: train, hollow: test)."""
    names = list(dict.fromkeys(table["model"]))
    fig, axes = _figure(len(names), width=4.6)
    for ax, name in zip(axes, names):
        rows = table["model"] == name
        side = int(round(np.sqrt(rows.sum())))
        grid = {key: table[key][rows].reshape(side, side) for key in ("x1", "x2", "p")}
        ax.contourf(grid["x1"], grid["x2"], grid["p"], levels=np.linspace(0, 1, 11),
                    cmap="RdBu_r", alpha=0.7)
        ax.contour(grid["x1"], grid["x2"], grid["p"], levels=[0.5], colors="k", linewidths=1)
        for split, fill in (("train", True), ("test", False)):
            points = data["split"] == split
            colors = np.where(data["y"][points] == 1, "#b2182b", "#2166ac")
            ax.scatter(data["x1"][points], data["x2"][points], s=18, edgecolors=colors,
                       facecolors=colors if fill else "none")
        ax.set(title=name, xlabel="x1", ylabel="x2")
    return fig


def progressive(curves: Mapping[str, np.ndarray], levels: Mapping[str, np.ndarray], task):
    """Left: the score under the Neural Smithing schedule, with lambda(t) on a second axis.
    Right: the test score after each level of repeated regularization."""
    fig, (left, right) = _figure(2)
    label, limits = _score(task)
    left.plot(curves["epoch"], curves["train_score"], color=COLORS["train"], label="train")
    left.plot(curves["epoch"], curves["test_score"], color=COLORS["test"], label="test")
    left.set(xlabel="epoch", ylabel=f"{label} (mean over seeds)",
             ylim=limits, title="Neural Smithing schedule")
    left.legend(loc="lower left")
    twin = left.twinx()
    twin.plot(curves["epoch"], curves["lambda"], color=COLORS["lambda"], linestyle="--")
    twin.set_yscale("symlog", linthresh=1e-6)
    twin.set_ylabel("lambda (dashed)")
    labels = [f"{value:g}" for value in levels["lambda"]]
    right.errorbar(range(len(labels)), levels["test_score"],
                   yerr=levels["test_score_std"],
                   fmt="o-", color=COLORS["test"], capsize=3)
    right.set_xticks(range(len(labels)), labels)
    right.set(xlabel="lambda of the level (0: the trained baseline)",
              ylabel=f"test {label} (mean ± std)", title="Repeated regularization")
    right.grid(alpha=0.3)
    return fig


def replication(names: list[str], accuracy: np.ndarray, best: np.ndarray,
                score_name: str = "accuracy"):
    """Left: each setting's test score minus the first's (no penalty), draw by draw: one
    point per draw, a box over draws. Right: how often each setting is the best of a draw."""
    fig, (left, right) = _figure(2)
    differences = [row - accuracy[0] for row in accuracy[1:]]
    positions = np.arange(1, len(names))
    left.boxplot(differences, positions=positions, widths=0.6, showfliers=False)
    jitter = np.random.default_rng(0).uniform(-0.15, 0.15, accuracy.shape[1])
    for position, difference in zip(positions, differences):
        left.scatter(position + jitter, difference, s=8, alpha=0.4, color=COLORS["test"])
    left.axhline(0, color=COLORS["lambda"], linestyle="--", linewidth=1)
    left.set_xticks(positions, names[1:], rotation=30)
    left.set(ylabel=f"test {score_name} minus {names[0]}", xlabel="setting",
             title=f"Gain over {names[0]} on {accuracy.shape[1]} draws of the data")
    right.bar(range(len(names)), np.bincount(best, minlength=len(names)), color=COLORS["test"],
              alpha=0.75)
    right.set_xticks(range(len(names)), names, rotation=30)
    right.set(ylabel="draws", title="Best setting of each draw (ties: the stronger penalty)")
    return fig


def benchmark(results: Mapping):
    """Engine cost per member-epoch against the population size K, beside the flat per-model
    costs of Keras `fit` and scikit-learn (from `python -m weightreg.bench`)."""
    fig, (ax,) = _figure(width=7.0)
    sizes = [int(k) for k in results["engine_ms_per_model_epoch"]]
    costs = list(results["engine_ms_per_model_epoch"].values())
    ax.plot(sizes, costs, "o-", color=COLORS["test"], label="engine, curves every epoch")
    for key, label, style in (("keras_val_ms_per_epoch", "Keras fit + validation_data", "-"),
                              ("keras_ms_per_epoch", "Keras fit", "--"),
                              ("sklearn_ms_per_model_epoch", "scikit-learn MLPClassifier", ":")):
        ax.axhline(results[key], color=COLORS["lambda"], linestyle=style, label=label)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set(xlabel="members trained together (K)", ylabel="ms per model-epoch",
           title=f"Cost of one model-epoch ({results['machine']['cpus_usable']} CPU cores)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    return fig
