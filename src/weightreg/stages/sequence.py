"""Stage `sequence`: the regularizer API on Conv1D and LSTM layers (kernel, recurrent and bias
regularizers), without and with l2 at each of `sequence.strengths`, on a contrived task.
Plain Keras models, trained by `fit`'s steps in one traced loop (`models.fit_full_batch`)."""

import numpy as np

from weightreg import backend, data, io, models, stats
from weightreg.params import Params

ARCHITECTURES = ("conv1d", "lstm")


def run(params: Params, *, members: str, table: str, metrics: str) -> str:
    keras = backend.keras()
    tf = backend.tensorflow()

    # Same params, same bytes: TensorFlow picks deterministic kernels on request.
    tf.config.experimental.enable_op_determinism()
    # Each new model traces its own train function; TensorFlow's retracing warning is noise.
    tf.get_logger().setLevel("ERROR")
    p = params.sequence
    x_train, y_train = data.sequences(p.n_train, p.length, seed=1)
    x_test, y_test = data.sequences(p.n_test, p.length, seed=2)
    strengths = (0.0, *p.strengths)
    rows = {"configuration": [], "model": [], "lambda": [], "seed": [], "train_score": [],
            "test_score": []}
    for architecture in ARCHITECTURES:
        for strength in strengths:
            for seed in range(p.seeds):
                keras.utils.set_random_seed(seed)
                model = models.sequence_model(architecture, p.length, p.units, strength)
                models.fit_full_batch(model, x_train, y_train, p.epochs)
                accuracy = {}
                for split, x, y in (("train", x_train, y_train), ("test", x_test, y_test)):
                    # One call on all rows: `predict` would trace a function per model.
                    predictions = np.asarray(model(x, training=False))[:, 0]
                    accuracy[split] = float(np.mean((predictions > 0.5) == y))
                label = f"{architecture} l2({strength:g})" if strength else f"{architecture} none"
                for key, value in (("configuration", label), ("model", architecture),
                                   ("lambda", strength), ("seed", seed),
                                   ("train_score", accuracy["train"]),
                                   ("test_score", accuracy["test"])):
                    rows[key].append(value)

    columns = {key: np.array(values) for key, values in rows.items()}
    labels = list(dict.fromkeys(rows["configuration"]))
    summaries = {}
    for label in labels:
        mine = columns["configuration"] == label
        described = stats.describe(columns["test_score"][mine])
        summaries[label] = {"train_score": float(np.mean(columns["train_score"][mine])),
                            "test_score": described["mean"], "test_score_std": described["std"],
                            "test_score_lo": described["lo"], "test_score_hi": described["hi"]}
    # The strongest penalty against none, seed by seed, per architecture.
    differences = {}
    for architecture in ARCHITECTURES:
        none, strongest = (columns["test_score"][(columns["model"] == architecture)
                                               & (columns["lambda"] == value)]
                           for value in (0.0, max(strengths)))
        differences[architecture] = stats.paired(strongest, none)
    io.write({
        members: io.to_csv(rows, exact=True),
        table: io.to_csv({"model": labels,
                          **{key: [summaries[label][key] for label in labels]
                             for key in summaries[labels[0]]}}),
        metrics: io.to_json({f"{architecture}_l2_diff": differences[architecture]["diff"]
                             for architecture in ARCHITECTURES}),
    })
    return (f"{len(labels)} models x {p.seeds} seeds x {p.epochs} epochs, "
            f"l2({max(strengths):g}) against none: "
            + ", ".join(f"{a} {d['diff']:+.3f} (p = {d['p_value']:.3g})"
                        for a, d in differences.items()))


def figures(picture, tables):
    from weightreg import plots

    return {"sequence": plots.sequence(tables["sequence"])}
