"""Stage `decoupled`: with Adam, an L2 penalty in the loss is not weight decay (Loshchilov and
Hutter, "Decoupled Weight Decay Regularization", 2019). The tutorial's coupled l2 and AdamW's
decoupled decay, both on the hidden kernel, over `decoupled.values`, in one engine call."""

from weightreg import engine, io, study
from weightreg.params import Params

# Method name -> the member for a strength: a loss term, or decay outside the loss.
METHODS = {
    "l2 (coupled)": lambda seed, value: engine.Member(seed, "l2", (value, 0.0, 0.0, 0.0)),
    "decay (AdamW)": lambda seed, value: engine.Member(seed, decay=(value, 0.0, 0.0, 0.0)),
}


def run(params: Params, data: str, baseline: str, metrics: str, table: str) -> None:
    split = study.load_split(data)
    seeds = params.train.seeds
    control = study.load_baseline(baseline, seeds, len(split.y_test))
    cells = [(method, value) for method in METHODS for value in params.decoupled.values]
    members = [METHODS[method](seed, value) for method, value in cells for seed in range(seeds)]
    result = study.train(params, split, members, "decoupled")
    rows = study.summaries(result, len(cells), seeds, control)

    def best(method):
        i = study.best([i for i, (m, _) in enumerate(cells) if m == method],
                       [row["test_acc"] for row in rows], [value for _, value in cells])
        return {"strength": cells[i][1], "test_acc": rows[i]["test_acc"],
                "test_acc_std": rows[i]["test_acc_std"], "vs_baseline": rows[i]["vs_baseline"]}

    io.write({
        metrics: io.to_json({method: best(method) for method in METHODS}),
        # `kind` names the method, so the per-kind lambda plot draws one line for each.
        table: io.to_csv({"kind": [m for m, _ in cells], "lambda": [v for _, v in cells],
                          **study.table(rows),
                          "hidden_kernel_norm": [row["hidden_kernel_norm"] for row in rows]}),
    })
