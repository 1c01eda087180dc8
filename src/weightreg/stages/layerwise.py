"""Stage `layerwise`: stronger decay on the first layer or the last? Every pair of strengths
from `layerwise.hidden` (hidden kernel) and `layerwise.output` (output kernel), one engine call."""

from weightreg import engine, io, study
from weightreg.params import Params


def run(params: Params, data: str, baseline: str, metrics: str, table: str) -> None:
    split = study.load_split(data)
    seeds = params.train.seeds
    control = study.load_baseline(baseline, seeds, len(split.y_test))
    cells = [(hidden, output) for hidden in params.layerwise.hidden
             for output in params.layerwise.output]
    members = [engine.Member(seed, params.regularizer, (hidden, 0.0, output, 0.0))
               for hidden, output in cells for seed in range(seeds)]
    result = study.train(params, split, members, "layerwise")
    rows = study.summaries(result, len(cells), seeds, control)
    # Ties go to the stronger total penalty.
    best = study.best(range(len(cells)), [row["test_acc"] for row in rows],
                      [sum(cell) for cell in cells])
    io.write({
        metrics: io.to_json({
            "best_hidden_lambda": cells[best][0], "best_output_lambda": cells[best][1],
            "best_test_acc": rows[best]["test_acc"], "best_test_acc_std": rows[best]["test_acc_std"],
            "vs_baseline": rows[best]["vs_baseline"],
        }),
        table: io.to_csv({"hidden_lambda": [h for h, _ in cells],
                          "output_lambda": [o for _, o in cells], **study.table(rows)}),
    })
