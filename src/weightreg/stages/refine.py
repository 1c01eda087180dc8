"""Stage `refine`: a finer grid, `grid.refine` points per decade, inside the best decade of the
coarse grid for its best kind: between the best lambda and its better neighbour."""

import numpy as np

from weightreg import data as prepared, io, study
from weightreg.params import Params


def run(params: Params, *, data: str, baseline: str, grid: str, members: str, table: str,
        metrics: str) -> str:
    control = study.baseline(baseline)  # read first: a bad file fails before training
    coarse = study.Members(grid, "grid", needs=("kind", "lambda", "test"))
    kind, low, high = decade(coarse)
    # Points evenly spaced on the log axis; linearly when the decade starts at lambda 0.
    spacing = np.geomspace if low > 0 else np.linspace
    values = spacing(low, high, params.grid.refine + 1)
    outcomes = study.search(params, prepared.load(data),
                            [study.hidden_kernel(study.describe(kind, v), kind, float(v))
                             for v in values], "refine", params.study.search)
    rows = study.summaries(outcomes, control)
    score = study.score(outcomes[0].task)
    best = study.best(rows, values, score)
    io.write({
        members: study.members_table(outcomes), table: study.summary_table(outcomes, rows),
        metrics: io.to_json({f"refined_{score}": rows[best][score]}),
    })
    return (f"{kind} in [{low:g}, {high:g}], {len(values)} values, "
            f"{study.headline(outcomes[best], rows[best], params.train.epochs)} at the best, "
            f"{values[best]:.3g}{study.pruned(outcomes)}")


def decade(coarse: study.Members) -> tuple[str, float, float]:
    """The grid's best kind, and its best lambda and better neighbour in increasing order (ties:
    the larger lambda); with a single value, that value and a tenth of it."""
    winner = study.best_label(coarse)
    kind = str(coarse.field(winner, "kind"))
    mine = [label for label in coarse.labels if str(coarse.field(label, "kind")) == kind]
    mine.sort(key=lambda label: float(coarse.field(label, "lambda")))
    strength = float(coarse.field(winner, "lambda"))
    i = mine.index(winner)
    neighbours = [mine[j] for j in (i - 1, i + 1) if 0 <= j < len(mine)]
    if not neighbours:
        return kind, strength / 10, strength
    other = float(coarse.field(study.best_label(coarse, neighbours), "lambda"))
    low, high = sorted((strength, other))
    return kind, low, high


def figures(picture, tables):
    from weightreg import plots

    return {"lambda_curve": plots.lambda_curve(tables["grid"], picture.dataset.task,
                                                     tables["refine"])}
