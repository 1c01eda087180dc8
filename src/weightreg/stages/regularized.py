"""Stage `regularized`: the tutorial's model with `regularizer(lambda)` on the hidden kernel
(every hidden layer's), paired seed by seed with the baseline: the study's headline.

The headline does not flatter: the gain over the baseline comes with its 95% interval beside
its p-value, and a model that scores no better than a predictor that ignores the features (the
majority class; for regression the mean, R² 0) is said to, in the result line and in the
metrics (`beats_trivial`, `baseline_beats_trivial`), whatever the penalty does to it."""

import numpy as np

from weightreg import data as prepared, io, study
from weightreg.params import Params


def run(params: Params, *, data: str, baseline: str, members: str, curves: str,
        metrics: str) -> str:
    control = study.baseline(baseline)  # read first: a bad file fails before training
    name = study.describe(params.regularizer, params.lam)
    dataset = prepared.load(data)
    (outcome,) = study.sweep(params, dataset,
                             [study.hidden_kernel(name, params.regularizer, params.lam)],
                             "regularized", curves=True)
    trivial, predicting = outcome.task.trivial(dataset.split.y_train, dataset.split.y_test)
    (result,) = study.summaries([outcome], control)
    score, rows_p = study.score(outcome.task), study.rows_p(outcome.task)
    baseline_score = result[score] - result["diff_vs_baseline"]
    io.write({
        # With its test rows: the headline's row-level test can be checked from the tables.
        members: study.members_table([outcome], test_rows=True),
        curves: io.to_csv(study.curves(outcome)),
        # The study's headline, first in `dvc exp show` after the data's name: fixed names
        # (the same for every task), scalars only.
        metrics: io.to_json({key: result[key] for key in (
            score, f"{score}_lo", f"{score}_hi", "diff_vs_baseline")}
            | {"diff_vs_baseline_lo": result["diff_lo"],
               "diff_vs_baseline_hi": result["diff_hi"], "p_value": result["p_value"],
               rows_p: result[rows_p], f"baseline_{score}": baseline_score,
               study.score(outcome.task, "train"): result[study.score(outcome.task, "train")],
               # The test loss moves with lambda where a few rows of accuracy may not.
               "test_loss": float(outcome.test_loss.mean()),
               f"trivial_{score}": trivial, "beats_trivial": result[score] > trivial,
               "baseline_beats_trivial": baseline_score > trivial}
            # With early stopping: how long the headline's members trained, in epochs.
            | ({} if outcome.epochs_run is None else
               {"epochs_run": float(np.median(outcome.epochs_run))})),
    })
    # Said whatever the penalty does: a gain between two models that explain nothing is none.
    below = [who for who, value in (("the baseline", baseline_score), (name, result[score]))
             if value <= trivial]
    warning = (f"; WARNING: {' and '.join(below)} no better than predicting {predicting} (test "
               f"{outcome.task.score_name} {trivial:.3f})" if below else "")
    return (f"{name} on the hidden kernel, {study.headline(outcome, result, params.train.epochs)};"
            f" minus the baseline's {baseline_score:.3f}: {result['diff_vs_baseline']:+.3f} "
            f"[{result['diff_lo']:+.3f}, {result['diff_hi']:+.3f}], p = "
            f"{result['p_value']:.3g}{warning}")


def figures(picture, tables):
    from weightreg import plots

    return {"learning_curves": plots.learning_curves({"baseline": tables["baseline"],
                                                      "regularized": tables["regularized"]},
                                                     picture.dataset.task)}
