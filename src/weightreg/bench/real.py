"""The engine on real data, beside what users would run instead: scikit-learn and Keras.

Part of `python -m weightreg.bench` (its `real_data` and `rows_scaling` keys); alone,
`python -m weightreg.bench.real [--quick]`. On breast_cancer ([64, 64], 100 epochs), digits
([64, 64], 30 epochs) and diabetes ([64, 64], 200 epochs, a regression), split and scaled as
the study does it (`train_test_split(test_size=0.3, random_state=1)`, stratified, then
`StandardScaler`), with Adam 1e-3, batch 32 and l2 at the grid's six values:

1. The cost of one model-epoch: the engine at 60 members; scikit-learn's `MLPClassifier` or
   `MLPRegressor` ((64, 64), solver adam, batch 32, tol 0, no early stop; `alpha = 2 x lambda x
   32`, Keras' l2 in its terms); Keras `fit`, one model, tracing excluded.
2. The 5-fold l2 grid, each side in its own process, timed after its imports, compile
   included: `GridSearchCV(..., cv=5, n_jobs=2)` (30 fits), and the engine with the same folds
   (`StratifiedKFold(5)`, or `KFold(5)` for regression, GridSearchCV's own) as members' own
   rows, 30 members in one call, without XLA's persistent cache (so its compile counts), and
   again with the cache a first run filled (a later run's time, compile loaded). Both report
   the mean CV score per lambda (accuracy or R²).
3. Growth with rows: `make_classification` with 20 features, 300 to 30,000 training rows, 64
   members of [64, 64], each size in its own process: microseconds per member-row-epoch, the
   compile time (the first call minus a steady one) and the peak memory.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import replace

from weightreg.bench.speed import log, median_seconds as median, seconds

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

HIDDEN = (64, 64)
BATCH_SIZE = 32
LEARNING_RATE = 1e-3
LAMBDAS = (1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6)  # the study's grid.values
FOLDS = 5
MEMBERS = 60
DATASETS = {"breast_cancer": 100, "digits": 30, "diabetes": 200}  # epochs each
ROWS = (300, 3000, 30000)
ROWS_MEMBERS = 64
# Row-epochs per size: enough epochs that a call's fixed cost (scoring, threads) does not count.
ROW_EPOCHS = {"full": 600_000, "quick": 200_000}


def dataset(name: str):
    from weightreg import data, params

    return data.prepare(replace(params.moons(), source=name), FOLDS)


def folds(prepared):
    """GridSearchCV's own folds of the training rows: StratifiedKFold(5), KFold(5) for
    regression (no shuffling)."""
    from sklearn.model_selection import KFold, StratifiedKFold

    split = prepared.split
    splitter = (StratifiedKFold if prepared.task.classifies else KFold)(n_splits=FOLDS)
    return list(splitter.split(split.x_train, split.y_train))


def sklearn_model(prepared, epochs: int, lam: float = 1e-3):
    from sklearn.neural_network import MLPClassifier, MLPRegressor

    kind = MLPClassifier if prepared.task.classifies else MLPRegressor
    return kind(hidden_layer_sizes=HIDDEN, activation="relu", solver="adam",
                learning_rate_init=LEARNING_RATE, batch_size=BATCH_SIZE,
                alpha=alpha(prepared, lam), max_iter=epochs, early_stopping=False,
                tol=0.0, n_iter_no_change=10**9, shuffle=True, random_state=0)


def alpha(prepared, lam: float) -> float:
    """scikit-learn's alpha for Keras' l2(lam) (`speed.sklearn_alpha`). MLPRegressor minimizes
    half the squared error, so its penalty weighs twice as much against the loss: half the
    classifier's alpha."""
    from weightreg.bench.speed import sklearn_alpha

    return sklearn_alpha(lam, BATCH_SIZE) / (1 if prepared.task.classifies else 2)


def quietly_fit(model, x, y):
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(x, y)


def engine_members(prepared, lam_values, with_folds: bool):
    """One member per lambda (and per fold, with the fold's rows as its own)."""
    from weightreg import data, engine

    split = prepared.split
    if not with_folds:
        return [engine.Member(k % 10, "l2", {"hidden_kernel": lam_values[k % len(lam_values)]})
                for k in range(MEMBERS)]
    members = []
    for train, held in folds(prepared):
        rows = data.Split(split.x_train[train], split.y_train[train], split.x_train[held],
                          split.y_train[held])
        members += [engine.Member(0, "l2", {"hidden_kernel": lam}, data=rows)
                    for lam in lam_values]
    return members


def engine_grid(prepared, epochs: int) -> dict[str, float]:
    """The engine's 5-fold grid, in one call: the mean CV score per lambda."""
    from weightreg import engine

    members = engine_members(prepared, LAMBDAS, with_folds=True)
    result = engine.train(prepared.split, members, hidden_units=HIDDEN, task=prepared.task,
                          epochs=epochs, batch_size=BATCH_SIZE, learning_rate=LEARNING_RATE,
                          progress=False, curves=False)
    scores = {lam: [] for lam in LAMBDAS}
    for member, score in zip(members, result.final_test_score):
        scores[member.penalties["hidden_kernel"]].append(float(score))
    return {str(lam): statistics.fmean(values) for lam, values in scores.items()}


def sklearn_grid(prepared, epochs: int) -> dict[str, float]:
    from sklearn.model_selection import GridSearchCV

    search = GridSearchCV(sklearn_model(prepared, epochs),
                          {"alpha": [alpha(prepared, lam) for lam in LAMBDAS]},
                          cv=folds(prepared), n_jobs=2)
    quietly_fit(search, prepared.split.x_train, prepared.split.y_train)
    means = search.cv_results_["mean_test_score"]
    return {str(lam): float(score) for lam, score in zip(LAMBDAS, means)}


def grid_in_a_process(side: str, name: str, epochs: int, cache: str = "off"
                      ) -> dict[str, object]:
    """One side of the grid comparison in a fresh process, timed there after its imports.
    Without XLA's persistent cache (`cache` off), the engine's time includes its compile, as a
    first run's does; with a cache folder that an earlier run filled, it is a later run's."""
    done = subprocess.run([sys.executable, "-m", "weightreg.bench.real", "grid", side, name,
                           str(epochs)], capture_output=True, text=True, check=True,
                          env={**os.environ, "WEIGHTREG_QUIET": "1", "WEIGHTREG_XLA_CACHE": cache})
    return json.loads(done.stdout.strip().splitlines()[-1])


def per_model_epoch(name: str, epochs: int, repeats: int) -> dict[str, float]:
    """ms per model-epoch: the engine at MEMBERS members, scikit-learn, Keras `fit`."""
    from weightreg import backend, engine, models

    prepared = dataset(name)
    split = prepared.split
    members = engine_members(prepared, (1e-3,), with_folds=False)
    kwargs = dict(hidden_units=HIDDEN, task=prepared.task, batch_size=BATCH_SIZE,
                  learning_rate=LEARNING_RATE, progress=False, curves=False)
    engine.train(split, members, epochs=2, **kwargs)  # compiles

    def engine_run():
        engine.train(split, members, epochs=epochs, **kwargs)

    engine_ms = median(engine_run, repeats) / (MEMBERS * epochs) * 1e3
    sklearn_epochs = max(epochs // 4, 5)
    quietly_fit(sklearn_model(prepared, 1), split.x_train, split.y_train)  # lazy imports
    sklearn_ms = median(lambda: quietly_fit(sklearn_model(prepared, sklearn_epochs),
                                            split.x_train, split.y_train),
                        repeats) / sklearn_epochs * 1e3
    backend.keras()
    model = models.mlp(HIDDEN, "l2", {"hidden_kernel": 1e-3}, LEARNING_RATE,
                       inputs=split.x_train.shape[1], task=prepared.task)
    y = split.y_train if prepared.task.classifies else split.y_train[:, None]

    def fit(n):
        model.fit(split.x_train, y, epochs=n, batch_size=BATCH_SIZE, verbose=0)

    fit(1)  # traces
    keras_epochs = max(epochs // 10, 3)
    keras_ms = statistics.median(
        (seconds(lambda: fit(keras_epochs)) - seconds(lambda: fit(1))) / (keras_epochs - 1)
        for _ in range(repeats)) * 1e3
    return {"engine_ms": engine_ms, "sklearn_ms": sklearn_ms, "keras_ms": keras_ms}


def rows_in_a_process(rows: int, epochs: int) -> dict[str, float]:
    done = subprocess.run([sys.executable, "-m", "weightreg.bench.real", "rows", str(rows),
                           str(epochs)], capture_output=True, text=True, check=True,
                          env={**os.environ, "WEIGHTREG_QUIET": "1", "WEIGHTREG_XLA_CACHE": "off"})
    return json.loads(done.stdout.strip().splitlines()[-1])


def rows_scaling(rows: int, epochs: int) -> dict[str, float]:
    """One size of the growth with rows, in this (fresh) process."""
    import numpy as np
    from sklearn.datasets import make_classification

    from weightreg import data, engine

    x, y = make_classification(n_samples=rows + 1000, n_features=20, random_state=0)
    split = data.Split(x[:rows].astype(np.float32), y[:rows].astype(np.float32),
                       x[rows:].astype(np.float32), y[rows:].astype(np.float32))
    members = [engine.Member(k % 10, "l2", {"hidden_kernel": 1e-3}) for k in range(ROWS_MEMBERS)]
    kwargs = dict(hidden_units=HIDDEN, batch_size=BATCH_SIZE, learning_rate=LEARNING_RATE,
                  progress=False, curves=False)
    first = seconds(lambda: engine.train(split, members, epochs=1, **kwargs))
    steady = seconds(lambda: engine.train(split, members, epochs=epochs, **kwargs)) / epochs
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    return {"rows": rows, "us_per_member_row_epoch": steady / (ROWS_MEMBERS * rows) * 1e6,
            "compile_s": max(first - steady, 0.0), "peak_mb": peak_kb / 1024}


def measure(quick: bool, log) -> dict[str, object]:
    """`real_data` and `rows_scaling`, as the benchmark's JSON line reports them."""
    repeats = 2 if quick else 3
    real = {}
    for name, epochs in DATASETS.items():
        grid_epochs = epochs // 5 if quick else epochs
        log(f"real data, {name}: per model-epoch")
        costs = per_model_epoch(name, max(epochs // (5 if quick else 1), 10), repeats)
        log(f"real data, {name}: 5-fold l2 grid, GridSearchCV(n_jobs=2) and the engine")
        theirs = grid_in_a_process("sklearn", name, grid_epochs)
        ours = grid_in_a_process("engine", name, grid_epochs)
        with tempfile.TemporaryDirectory() as cache:
            grid_in_a_process("engine", name, grid_epochs, cache)  # fills XLA's cache
            warm = grid_in_a_process("engine", name, grid_epochs, cache)
        real[name] = {**costs, "epochs": epochs, "grid_epochs": grid_epochs,
                      "sklearn_grid_s": theirs["seconds"], "engine_grid_s": ours["seconds"],
                      "grid_search_ratio": ours["seconds"] / theirs["seconds"],
                      "engine_grid_warm_s": warm["seconds"],
                      "grid_search_ratio_warm": warm["seconds"] / theirs["seconds"],
                      "sklearn_cv": theirs["scores"], "engine_cv": ours["scores"],
                      "keras_over_engine": costs["keras_ms"] / costs["engine_ms"]}
    scaling = []
    for rows in ROWS:
        log(f"growth with rows: {rows:,} training rows")
        epochs = max(2, ROW_EPOCHS["quick" if quick else "full"] // rows)
        scaling.append(rows_in_a_process(rows, epochs))
    return {"real_data": real, "rows_scaling": scaling}


def table(results: dict[str, object]) -> str:
    lines = ["real data: [64, 64], Adam 1e-3, batch 32; engine at 60 members; scikit-learn "
             "MLP (solver adam, tol 0, alpha = 2 x lambda x 32, regressor lambda x 32); Keras "
             "fit, one model; grids without XLA's cache (compile included)",
             f"{'dataset':<14}{'engine ms':>10}{'sklearn ms':>11}{'Keras ms':>10}"
             f"{'Keras/engine':>13}{'grid: engine s':>15}{'GridSearchCV s':>15}{'ratio':>7}"
             f"{'warm s':>8}{'ratio':>7}"]
    for name, row in results["real_data"].items():
        lines.append(f"{name:<14}{row['engine_ms']:>10.3f}{row['sklearn_ms']:>11.3f}"
                     f"{row['keras_ms']:>10.2f}{row['keras_over_engine']:>12.0f}x"
                     f"{row['engine_grid_s']:>15.1f}{row['sklearn_grid_s']:>15.1f}"
                     f"{row['grid_search_ratio']:>7.2f}{row['engine_grid_warm_s']:>8.1f}"
                     f"{row['grid_search_ratio_warm']:>7.2f}")
        lines.append("    mean CV score per lambda, engine / GridSearchCV: " + ", ".join(
            f"{float(lam):g}: {row['engine_cv'][lam]:.3f} / {row['sklearn_cv'][lam]:.3f}"
            for lam in row["engine_cv"]))
    lines.append("growth with rows: make_classification, 20 features, 64 members of [64, 64]")
    for row in results["rows_scaling"]:
        lines.append(f"  {row['rows']:>6,} rows: {row['us_per_member_row_epoch']:.3f} us per "
                     f"member-row-epoch, compile {row['compile_s']:.1f} s, peak "
                     f"{row['peak_mb']:,.0f} MB")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["grid"]:  # one side of the grid, in its own process
        side, name, epochs = argv[1], argv[2], int(argv[3])
        prepared = dataset(name)
        if side == "engine":
            from weightreg import backend

            backend.tensorflow()
        else:
            import sklearn.model_selection  # noqa: F401
            import sklearn.neural_network  # noqa: F401
        started = time.perf_counter()  # after the imports
        scores = (engine_grid if side == "engine" else sklearn_grid)(prepared, epochs)
        print(json.dumps({"seconds": time.perf_counter() - started, "scores": scores}))
        return 0
    if argv[:1] == ["rows"]:
        print(json.dumps(rows_scaling(int(argv[1]), int(argv[2]))))
        return 0
    parser = argparse.ArgumentParser(prog="python -m weightreg.bench.real",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer epochs and repeats")
    args = parser.parse_args(argv)
    results = measure(args.quick, log)
    print(table(results))
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
