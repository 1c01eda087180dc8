"""Stage `grid`: every kind in `grid.kinds` times every lambda in `grid.values` times every
seed, in one engine call; each row paired with the baseline's seeds."""

from weightreg import io, models, study
from weightreg.params import Params


def run(params: Params, data: str, baseline: str, metrics: str, table: str) -> None:
    split = study.load_split(data)
    seeds = params.train.seeds
    control = study.load_baseline(baseline, seeds, len(split.y_test))
    cells = [(kind, value) for kind in params.grid.kinds for value in params.grid.values]
    members = [member for kind, value in cells
               for member in study.hidden_kernel_members(params, kind, value)]
    result = study.train(params, split, members, "grid")
    rows = study.summaries(result, len(cells), seeds, control)
    io.write({metrics: io.to_json(best(cells, rows)), table: io.to_csv(columns(cells, rows))})


def best(cells, rows) -> dict:
    """The best lambda of each kind and overall."""
    def pick(indexes):
        i = study.best(indexes, [row["test_acc"] for row in rows], [v for _, v in cells])
        return {"kind": cells[i][0], "lambda": cells[i][1], "test_acc": rows[i]["test_acc"],
                "test_acc_std": rows[i]["test_acc_std"],
                "vs_baseline": rows[i]["vs_baseline"]}

    kinds = dict.fromkeys(kind for kind, _ in cells)
    overall = pick(range(len(cells)))
    return {"best_kind": overall["kind"], "best_lambda": overall["lambda"],
            "best_test_acc": overall["test_acc"], "best_test_acc_std": overall["test_acc_std"],
            "by_kind": {kind: pick([i for i, (k, _) in enumerate(cells) if k == kind])
                        for kind in kinds}}


def columns(cells, rows) -> dict[str, list]:
    """One row per (kind, lambda): accuracies, the paired difference to the baseline, norms."""
    return {"kind": [kind for kind, _ in cells], "lambda": [value for _, value in cells],
            **study.table(rows),
            **{f"{group}_norm": [row[f"{group}_norm"] for row in rows] for group in models.GROUPS}}
