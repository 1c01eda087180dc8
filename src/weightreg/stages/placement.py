"""Stage `placement`: where to regularize. `regularizer(lambda)` on the hidden kernel only (the
tutorial), plus the hidden bias, plus the output kernel, or on every weight; one engine call."""

from weightreg import engine, io, stats, study
from weightreg.params import Params

# Which weight groups (hidden kernel, hidden bias, output kernel, output bias) carry lambda.
PLACEMENTS = {
    "hidden_kernel": (1, 0, 0, 0),
    "hidden_kernel+bias": (1, 1, 0, 0),
    "hidden+output_kernels": (1, 0, 1, 0),
    "everything": (1, 1, 1, 1),
}


def run(params: Params, data: str, baseline: str, metrics: str, table: str) -> None:
    split = study.load_split(data)
    seeds = params.train.seeds
    control = study.load_baseline(baseline, seeds, len(split.y_test))
    members = [engine.Member(seed, params.regularizer, tuple(params.lam * on for on in where))
               for where in PLACEMENTS.values() for seed in range(seeds)]
    result = study.train(params, split, members, "placement")
    rows = dict(zip(PLACEMENTS, study.summaries(result, len(PLACEMENTS), seeds, control)))
    tutorial = rows["hidden_kernel"]["test_acc_per_seed"]
    for row in rows.values():  # paired with the tutorial's placement, seed by seed
        row["vs_hidden_kernel"] = stats.paired(row["test_acc_per_seed"], tutorial)
    io.write({
        metrics: io.to_json(rows),
        table: io.to_csv({"placement": list(rows), **study.table(list(rows.values()))}),
    })
