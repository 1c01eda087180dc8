"""Stage `refine`: a finer grid, `grid.refine` points per decade, inside the best decade of the
coarse grid for its best kind: between the best lambda and its better neighbour."""

import numpy as np

from weightreg import io, stats, study
from weightreg.params import Params


def run(params: Params, data: str, baseline: str, grid: str, coarse: str, metrics: str,
        table: str) -> None:
    split = study.load_split(data)
    seeds = params.train.seeds
    control = study.load_baseline(baseline, seeds, len(split.y_test))
    (kind,) = study.read_json(grid, ("best_kind",), "grid")
    rows = io.read_csv(coarse)
    mine = rows["kind"] == kind
    coarse_best, neighbour = best_and_neighbour(rows["lambda"][mine], rows["test_acc"][mine])
    low, high = sorted((coarse_best, neighbour))
    # Points evenly spaced on the log axis; linearly when the decade starts at lambda 0.
    spacing = np.geomspace if low > 0 else np.linspace
    values = spacing(low, high, params.grid.refine + 1)
    members = [m for value in values for m in study.hidden_kernel_members(params, kind, value)]
    result = study.train(params, split, members, "refine")
    summaries = study.summaries(result, len(values), seeds, control)
    best = study.best(range(len(values)), [row["test_acc"] for row in summaries], values)
    # The decade's ends are coarse-grid values, so the coarse best is trained here too.
    coarse = 0 if coarse_best == low else len(values) - 1
    io.write({
        metrics: io.to_json({
            "kind": kind, "decade": [low, high], "best_lambda": values[best],
            "best_test_acc": summaries[best]["test_acc"],
            "best_test_acc_std": summaries[best]["test_acc_std"],
            "vs_baseline": summaries[best]["vs_baseline"],
            "vs_coarse_best": stats.paired(summaries[best]["test_acc_per_seed"],
                                           summaries[coarse]["test_acc_per_seed"]),
        }),
        table: io.to_csv({"kind": [kind] * len(values), "lambda": values,
                          **study.table(summaries)}),
    })


def best_and_neighbour(values: np.ndarray, test_acc: np.ndarray) -> tuple[float, float]:
    """The best lambda of the coarse grid and its better neighbour (ties: the larger lambda);
    with a single value, that value and a tenth of it."""
    order = np.argsort(values)
    values, test_acc = values[order], test_acc[order]
    best = study.best(range(len(values)), test_acc, values)
    neighbours = [i for i in (best - 1, best + 1) if 0 <= i < len(values)]
    if not neighbours:
        return float(values[best]), float(values[best] / 10)
    other = study.best(neighbours, test_acc, values)
    return float(values[best]), float(values[other])
