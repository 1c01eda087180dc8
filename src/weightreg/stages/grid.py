"""Stage `grid`: every lambda in `grid.values` times every seed, in one engine call."""

from weightreg import io, study
from weightreg.params import Params


def run(params: Params, data: str, metrics: str, table: str) -> None:
    split = study.load_split(data)
    values, seeds = params.grid.values, params.train.seeds
    members = [member for value in values
               for member in study.hidden_kernel_members(params, params.regularizer, value)]
    result = study.train(params, split, members, "grid")
    rows = [study.summary(result, slice(i * seeds, (i + 1) * seeds)) for i in range(len(values))]
    # The best lambda has the highest mean test accuracy; ties go to the stronger penalty
    # (the simpler model), and the order of grid.values does not matter.
    best = max(range(len(values)), key=lambda i: (rows[i]["test_acc"], values[i]))
    io.write({
        metrics: io.to_json({"best_lambda": values[best], "best_test_acc": rows[best]["test_acc"],
                             "best_test_acc_std": rows[best]["test_acc_std"]}),
        table: io.to_csv({"lambda": values,
                          **{key: [row[key] for row in rows]
                             for key in ("train_acc", "test_acc", "test_acc_std",
                                         "hidden_kernel_norm")}}),
    })
