"""Stage `layerwise`: stronger decay on the first layer or the last? Every pair of strengths
from `layerwise.hidden` (hidden kernel) and `layerwise.output` (output kernel), one engine call."""

from weightreg import data as moons, io, study
from weightreg.params import Params


def run(params: Params, *, data: str, baseline: str, members: str, table: str,
        metrics: str) -> str:
    control = study.baseline(baseline)  # read first: a bad file fails before training
    kind = params.regularizer
    configurations = [
        study.Configuration(f"hidden {hidden:g} / output {output:g}",
                            {"hidden_lambda": hidden, "output_lambda": output}, kind,
                            {"hidden_kernel": hidden, "output_kernel": output})
        for hidden in params.layerwise.hidden for output in params.layerwise.output]
    outcomes = study.sweep(params, moons.load(data), configurations, "layerwise")
    rows = study.summaries(outcomes, control)
    # Ties go to the stronger total penalty.
    best = study.best(rows, [sum(c.penalties.values()) for c in configurations])
    io.write({
        members: study.members_table(outcomes), table: study.summary_table(outcomes, rows),
        metrics: io.to_json({"layerwise_test_acc": rows[best]["test_acc"]}),
    })
    return (f"{kind}, {len(outcomes)} pairs, "
            f"{study.headline(outcomes[best], rows[best], params.train.epochs)} at the best, "
            f"{configurations[best].label}")


def figures(data, tables):
    from weightreg import plots

    return {"layerwise": plots.layerwise(tables["layerwise"])}
