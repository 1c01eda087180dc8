"""Stage `regularized`: the tutorial's model with `regularizer(lambda)` on the hidden kernel,
paired seed by seed with the baseline: the study's headline."""

from weightreg import data as moons, io, study
from weightreg.params import Params


def run(params: Params, *, data: str, baseline: str, members: str, curves: str,
        metrics: str) -> str:
    control = study.baseline(baseline)  # read first: a bad file fails before training
    name = study.describe(params.regularizer, params.lam)
    (outcome,) = study.sweep(params, moons.load(data),
                             [study.hidden_kernel(name, params.regularizer, params.lam)],
                             "regularized", curves=True)
    (result,) = study.summaries([outcome], control)
    baseline_acc = result["test_acc"] - result["diff_vs_baseline"]
    io.write({
        # With its test rows: the headline's McNemar test can be checked from the tables.
        members: study.members_table([outcome], test_rows=True),
        curves: io.to_csv(study.curves(outcome)),
        # The study's headline, first in `dvc exp show`: fixed names, scalars only.
        metrics: io.to_json({key: result[key] for key in (
            "test_acc", "test_acc_lo", "test_acc_hi", "diff_vs_baseline", "p_value",
            "mcnemar_p")}
            | {"baseline_test_acc": baseline_acc, "train_acc": result["train_acc"],
               # The test cross-entropy moves with lambda where 70 rows of accuracy may not.
               "test_loss": float(outcome.test_loss.mean())}),
    })
    return (f"{name} on the hidden kernel, {study.headline(outcome, result, params.train.epochs)}"
            f" (baseline {baseline_acc:.3f}, p = {result['p_value']:.3g})")


def figures(data, tables):
    from weightreg import plots

    return {"learning_curves": plots.learning_curves({"baseline": tables["baseline"],
                                                      "regularized": tables["regularized"]})}
