"""Stage `regularized`: the tutorial's model with `regularizer(lambda)` on the hidden kernel
(every hidden layer's), paired seed by seed with the baseline: the study's headline."""

from weightreg import data as prepared, io, study
from weightreg.params import Params


def run(params: Params, *, data: str, baseline: str, members: str, curves: str,
        metrics: str) -> str:
    control = study.baseline(baseline)  # read first: a bad file fails before training
    name = study.describe(params.regularizer, params.lam)
    (outcome,) = study.sweep(params, prepared.load(data),
                             [study.hidden_kernel(name, params.regularizer, params.lam)],
                             "regularized", curves=True)
    (result,) = study.summaries([outcome], control)
    score, rows_p = study.score(outcome.task), study.rows_p(outcome.task)
    baseline_score = result[score] - result["diff_vs_baseline"]
    io.write({
        # With its test rows: the headline's row-level test can be checked from the tables.
        members: study.members_table([outcome], test_rows=True),
        curves: io.to_csv(study.curves(outcome)),
        # The study's headline, first in `dvc exp show`: fixed names (per task), scalars only.
        metrics: io.to_json({key: result[key] for key in (
            score, f"{score}_lo", f"{score}_hi", "diff_vs_baseline", "p_value", rows_p)}
            | {f"baseline_{score}": baseline_score,
               study.score(outcome.task, "train"): result[study.score(outcome.task, "train")],
               # The test loss moves with lambda where a few rows of accuracy may not.
               "test_loss": float(outcome.test_loss.mean())}),
    })
    return (f"{name} on the hidden kernel, {study.headline(outcome, result, params.train.epochs)}"
            f" (baseline {baseline_score:.3f}, p = {result['p_value']:.3g})")


def figures(picture, tables):
    from weightreg import plots

    return {"learning_curves": plots.learning_curves({"baseline": tables["baseline"],
                                                      "regularized": tables["regularized"]})}
