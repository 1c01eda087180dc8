"""Stage `grid`: every kind in `grid.kinds` times every lambda in `grid.values` times every
seed, in one engine call; each configuration paired with the baseline's seeds."""

from weightreg import data as prepared, io, study
from weightreg.params import Params


def configurations(params: Params) -> list[study.Configuration]:
    return [study.hidden_kernel(study.describe(kind, value), kind, value)
            for kind in params.grid.kinds for value in params.grid.values]


def run(params: Params, *, data: str, baseline: str, members: str, table: str,
        metrics: str) -> str:
    control = study.baseline(baseline)  # read first: a bad file fails before training
    outcomes = study.search(params, prepared.load(data), configurations(params), "grid",
                            params.study.search)
    rows = study.summaries(outcomes, control)
    score = study.score(outcomes[0].task)
    best = study.best(rows, [o.configuration.fields["lambda"] for o in outcomes], score)
    winner = outcomes[best].configuration
    io.write({
        members: study.members_table(outcomes), table: study.summary_table(outcomes, rows),
        metrics: io.to_json({"best_kind": winner.kind, "best_lambda": winner.fields["lambda"],
                             f"best_{score}": rows[best][score]}),
    })
    return (f"{len(outcomes)} configurations, "
            f"{study.headline(outcomes[best], rows[best], params.train.epochs)} at the best, "
            f"{winner.label}{study.pruned(outcomes)}")


def figures(picture, tables):
    from weightreg import plots

    return {"weight_norms": plots.weight_norms(tables["grid"])}
