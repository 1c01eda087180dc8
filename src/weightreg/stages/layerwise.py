"""Stage `layerwise`: stronger decay on the first layer or the last? Every pair of strengths
from `layerwise.hidden` (the hidden kernels) and `layerwise.output` (the output kernel), one
engine call."""

from weightreg import data as prepared, io, study
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
    outcomes = study.search(params, prepared.load(data), configurations, "layerwise",
                            params.study.search)
    rows = study.summaries(outcomes, control)
    # Ties go to the stronger total penalty.
    score = study.score(outcomes[0].task)
    best = study.best(rows, [sum(c.penalties.values()) for c in configurations], score)
    io.write({
        members: study.members_table(outcomes), table: study.summary_table(outcomes, rows),
        metrics: io.to_json({f"layerwise_{score}": rows[best][score]}),
    })
    return (f"{kind}, {len(outcomes)} pairs, "
            f"{study.headline(outcomes[best], rows[best], params.train.epochs)} at the best, "
            f"{configurations[best].label}{study.pruned(outcomes)}")


def figures(picture, tables):
    from weightreg import plots

    return {"layerwise": plots.layerwise(tables["layerwise"], picture.dataset.task)}
