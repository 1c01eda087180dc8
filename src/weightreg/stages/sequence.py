"""Stage `sequence`: weight regularization on your own network, a Conv1D and an LSTM, on a
contrived sequence task (`data.sequences`). The tutorial's regularizer API on those layers, as
the engine trains it: l2 on every weight a layer offers (kernel, the LSTM's recurrent kernel,
bias; the output layer's left alone) at each of the grid's values, against none, the study's
seeds and training settings, each network in one engine call. The metrics: the best value's
gain over none (chosen on the test rows, as `grid` chooses: optimistic)."""

from weightreg import data, io, layers, study, tasks
from weightreg.params import Params

# The two networks, from the sequence's steps (`units` filters or units): a Conv1D of width 5
# with a max over every position (what Keras' GlobalMaxPooling1D computes), and an LSTM.
ARCHITECTURES = {
    "conv1d": lambda p: [{"Conv1D": {"filters": p.units, "kernel_size": 5, "activation": "relu"}},
                         {"MaxPooling1D": {"pool_size": p.length - 4}}, {"Flatten": {}}],
    "lstm": lambda p: [{"LSTM": {"units": p.units}}],
}
ROLES = ("hidden_kernel", "recurrent_kernel", "hidden_bias")  # what `l2(s)` goes on


def dataset(params: Params) -> data.Dataset:
    p = params.sequence
    (x_train, y_train), (x_test, y_test) = (data.sequences(rows, p.length, seed=seed)
                                            for rows, seed in ((p.n_train, 1), (p.n_test, 2)))
    split = data.Split(x_train.reshape(p.n_train, -1), y_train, x_test.reshape(p.n_test, -1),
                       y_test)
    return data.Dataset(split, tasks.BINARY, "sequences",
                        tuple(f"t{step}" for step in range(p.length)), ("0", "1"),
                        shape=(p.length, 1))


def network(params: Params, architecture: str) -> layers.Network:
    hidden = [layers.parse(layer) for layer in ARCHITECTURES[architecture](params.sequence)]
    return layers.Network.build(hidden, (params.sequence.length, 1), 1)


def configurations(params: Params, architecture: str) -> list[study.Configuration]:
    return [study.Configuration(f"{architecture} none",
                                {"architecture": architecture, "lambda": 0.0}),
            *(study.Configuration(f"{architecture} {study.describe('l2', value)}",
                                  {"architecture": architecture, "lambda": value}, "l2",
                                  dict.fromkeys(ROLES, value))
              for value in params.grid.values)]


def run(params: Params, *, members: str, table: str, metrics: str) -> str:
    rows = dataset(params)
    outcomes, summaries, differences = [], [], {}
    for architecture in ARCHITECTURES:
        mine = study.sweep(params, rows, configurations(params, architecture), "sequence",
                           epochs=params.sequence.epochs,
                           network=network(params, architecture),
                           stopping=False)  # its own rows and epochs, whatever data.source
        none = mine[0].test_score
        rows_of = [study.summary(outcome, none) for outcome in mine]
        # The best penalty against none, seed by seed (ties to the stronger), as `grid` picks.
        best = study.best(rows_of[1:], list(params.grid.values), "test_score") + 1
        differences[architecture] = (mine[best].configuration.label, rows_of[best])
        summaries += rows_of
        outcomes += mine
    columns = ("train_score", "test_score", "test_score_std", "test_score_lo", "test_score_hi",
               "diff_vs_baseline", "diff_lo", "diff_hi", "p_value")
    io.write({
        members: study.members_table(outcomes, measures=study.scores),
        # One row per configuration, named for the chart; diff_* against the same network's none.
        table: io.to_csv({"model": [o.configuration.label for o in outcomes],
                          "lambda": [o.configuration.fields["lambda"] for o in outcomes],
                          **{key: [row[key] for row in summaries] for key in columns}}),
        metrics: io.to_json({f"{architecture}_l2_diff": row["diff_vs_baseline"]
                             for architecture, (_, row) in differences.items()}),
    })
    return (f"{len(outcomes)} configurations x {params.train.seeds} seeds x "
            f"{params.sequence.epochs} epochs, the best l2 against none: "
            + ", ".join(f"{label} {row['diff_vs_baseline']:+.3f} (p = {row['p_value']:.3g})"
                        for label, row in differences.values()))


def figures(picture, tables):
    from weightreg import plots

    return {"sequence": plots.sequence(tables["sequence"])}
