"""Stage `selection`: lambda chosen without the test rows.

The tutorial picks lambda by test accuracy, on the same 70 rows that then report it. Here, on
each of the first `selection.draws` draws of the replication, `selection.folds`-fold
cross-validation on the training rows picks the l2 value of `grid.values` (every fold x value
x seed is a member, all in one engine call); the model refit on all training rows at
that value is the replication's member, tested once. Its test score, against that of the value
the test rows would have picked, is the optimism of choosing on the test set.
"""

import numpy as np

from weightreg import data, io, stats, study
from weightreg.params import Params


def run(params: Params, *, replication: str, members: str, table: str, metrics: str) -> str:
    refits = refit_accuracy(study.Members(replication, "replication",
                                          needs=("random_state", "kind", "lambda", "test")),
                            params)
    values = sorted(params.grid.values, reverse=True)
    drawn = data.draws(params.data, params.selection.draws, params.selection.folds)
    configurations = [
        study.Configuration(f"l2({value:g}), random_state {r}, fold {f}",
                            {"random_state": r, "fold": f, "lambda": value}, "l2",
                            {"hidden_kernel": value}, data=fold)
        for r, dataset in drawn for f, fold in enumerate(dataset.folds(params.selection.folds))
        for value in values]
    outcomes = study.sweep(params, drawn[0][1], configurations, "selection",
                           seeds=range(params.replication.seeds))
    # The cross-validated score per draw and value. Accuracy: held-out rows classified right,
    # over all folds and seeds, divided by the rows held out. R²: the mean over folds and seeds
    # of each fold's R² (as GridSearchCV scores a fold).
    task = outcomes[0].task
    hits, rows = {}, {}
    for outcome in outcomes:
        fields = outcome.configuration.fields
        key = (fields["random_state"], fields["lambda"])
        if task.classifies:
            hits[key] = hits.get(key, 0.0) + outcome.test_rows.sum()
            rows[key] = rows.get(key, 0) + outcome.test_rows.size
        else:
            hits[key] = hits.get(key, 0.0) + outcome.test_score.sum()
            rows[key] = rows.get(key, 0) + outcome.test_score.size
    per_draw = []
    for r, _ in drawn:
        cv = {value: round(hits[r, value] / rows[r, value], 12) for value in values}
        chosen = max(values, key=lambda v: (cv[v], v))  # ties: the stronger penalty
        oracle = max(values, key=lambda v: (refits[r, v], v))
        per_draw.append({"random_state": r, "cv_lambda": chosen, "cv_score": cv[chosen],
                         "cv_test_score": refits[r, chosen], "oracle_lambda": oracle,
                         "oracle_test_score": refits[r, oracle],
                         "optimism": refits[r, oracle] - refits[r, chosen]})
    optimism = stats.paired([d["oracle_test_score"] for d in per_draw],
                            [d["cv_test_score"] for d in per_draw])
    io.write({
        members: study.members_table(outcomes, measures=study.scores),
        table: io.to_csv({key: [d[key] for d in per_draw] for key in per_draw[0]}),
        metrics: io.to_json({"optimism": optimism["diff"], "optimism_lo": optimism["lo"],
                             "optimism_hi": optimism["hi"]}),
    })
    tutorial = per_draw[0]
    return (f"{params.selection.folds}-fold CV over {len(values)} values on {len(drawn)} draws: "
            f"test {task.score_name} {np.mean([d['cv_test_score'] for d in per_draw]):.3f} at the CV choice, "
            f"{np.mean([d['oracle_test_score'] for d in per_draw]):.3f} at the test rows' choice "
            f"(optimism {optimism['diff']:+.3f} [{optimism['lo']:+.3f}, {optimism['hi']:+.3f}]);"
            f" draw 0 (the study's data): CV picks {tutorial['cv_lambda']:g}, test "
            f"{tutorial['cv_test_score']:.3f}")


def refit_accuracy(table: study.Members, params: Params) -> dict[tuple[int, float], float]:
    """The replication's l2 members: the test score (mean over seeds) by (random_state, lambda)."""
    columns = table.columns
    found = {}
    for r, kind, value, accuracy in zip(columns["random_state"], columns["kind"],
                                        columns["lambda"], columns["test_score"]):
        if kind == "l2":
            found.setdefault((int(r), float(value)), []).append(accuracy)
    needed = {(params.data.random_state + i, v) for i in range(params.selection.draws)
              for v in params.grid.values}
    if not needed <= set(found):
        raise io.BadInput(f"{table.path}: lacks l2 members for some draws or grid values; rerun "
                          "the replication stage (`dvc repro replication`)")
    return {key: round(float(np.mean(values)), 12) for key, values in found.items()}
