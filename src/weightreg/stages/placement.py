"""Stage `placement`: where to regularize. `regularizer(placement.lambda)` on the hidden kernel
only (the tutorial), plus the hidden bias, plus the output kernel, or on every weight; one
engine call."""

from weightreg import data as prepared, io, layers, stats, study
from weightreg.params import Params

# Which weight groups carry lambda, by role (every hidden layer's kernel is a hidden kernel;
# "everything" takes an LSTM's recurrent kernel too).
# The first is the tutorial's, which the others are paired with.
PLACEMENTS = {
    "hidden_kernel": ("hidden_kernel",),
    "hidden_kernel+bias": ("hidden_kernel", "hidden_bias"),
    "hidden+output_kernels": ("hidden_kernel", "output_kernel"),
    "everything": layers.ROLES,
}


def run(params: Params, *, data: str, baseline: str, members: str, table: str,
        metrics: str) -> str:
    control = study.baseline(baseline)  # read first: a bad file fails before training
    configurations = [study.Configuration(name, {"placement": name}, params.regularizer,
                                          dict.fromkeys(groups, params.placement.lam))
                      for name, groups in PLACEMENTS.items()]
    outcomes = study.sweep(params, prepared.load(data), configurations, "placement")
    rows = study.summaries(outcomes, control)
    tutorial = outcomes[0].test_score
    for outcome, row in zip(outcomes, rows):  # paired with the tutorial's placement
        comparison = stats.paired(outcome.test_score, tutorial)
        row.update(diff_vs_hidden_kernel=comparison["diff"],
                   p_value_vs_hidden_kernel=comparison["p_value"])
    score = study.score(outcomes[0].task)
    best = study.best(rows, [len(c.penalties) for c in configurations], score)
    io.write({
        members: study.members_table(outcomes), table: study.summary_table(outcomes, rows),
        metrics: io.to_json({"best_placement": configurations[best].label,
                             f"placement_{score}": rows[best][score]}),
    })
    return (f"{study.describe(params.regularizer, params.placement.lam)} in {len(outcomes)} places, "
            f"test {outcomes[0].task.score_name}: "
            + ", ".join(f"{c.label} {row[score]:.3f}" for c, row in zip(configurations, rows)))


def figures(picture, tables):
    from weightreg import plots

    return {"placement": plots.placement(tables["placement"], picture.dataset.task)}
