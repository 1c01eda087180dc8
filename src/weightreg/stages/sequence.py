"""Stage `sequence`: the regularizer API on Conv1D and LSTM layers (kernel, recurrent and bias
regularizers), without and with l2 at each of `sequence.strengths`, on a contrived task.
Plain Keras models, trained by `fit`'s steps in one traced loop (`models.fit_full_batch`)."""

import numpy as np

from weightreg import data, io, models, stats
from weightreg.params import Params

ARCHITECTURES = ("conv1d", "lstm")


def run(params: Params, metrics: str, table: str) -> None:
    import keras
    import tensorflow as tf

    # Same params, same bytes: TensorFlow picks deterministic kernels on request.
    tf.config.experimental.enable_op_determinism()
    # Each new model traces its own train function; TensorFlow's retracing warning is noise.
    tf.get_logger().setLevel("ERROR")
    p = params.sequence
    x_train, y_train = data.sequences(p.n_train, p.length, seed=1)
    x_test, y_test = data.sequences(p.n_test, p.length, seed=2)
    settings = [(architecture, strength) for architecture in ARCHITECTURES
                for strength in (0.0, *p.strengths)]
    per_seed, train_acc = {}, {}
    for architecture, strength in settings:
        accuracies = {"train": [], "test": []}
        for seed in range(p.seeds):
            keras.utils.set_random_seed(seed)
            model = models.sequence_model(architecture, p.length, p.units, strength)
            models.fit_full_batch(model, x_train, y_train, p.epochs)
            for split, x, y in (("train", x_train, y_train), ("test", x_test, y_test)):
                predictions = model.predict(x, batch_size=len(x), verbose=0)[:, 0]
                accuracies[split].append(float(np.mean((predictions > 0.5) == y)))
            keras.backend.clear_session()
        per_seed[architecture, strength] = accuracies["test"]
        train_acc[architecture, strength] = float(np.mean(accuracies["train"]))

    def label(strength):
        return f"l2({strength:g})" if strength else "none"

    def result(architecture, strength):
        test = stats.describe(per_seed[architecture, strength])
        entry = {"train_acc": train_acc[architecture, strength], "test_acc": test["mean"],
                 "test_acc_std": test["std"], "test_acc_ci95": test["ci95"]}
        if strength:
            entry["vs_none"] = stats.paired(per_seed[architecture, strength],
                                            per_seed[architecture, 0.0])
        return entry

    results = {architecture: {label(strength): result(architecture, strength)
                              for strength in (0.0, *p.strengths)}
               for architecture in ARCHITECTURES}
    io.write({
        metrics: io.to_json(results),
        table: io.to_csv({
            "model": [f"{architecture} {label(strength)}" for architecture, strength in settings],
            "train_acc": [train_acc[s] for s in settings],
            "test_acc": [np.mean(per_seed[s]) for s in settings],
            "test_acc_std": [stats.mean_std(per_seed[s])[1] for s in settings],
        }),
    })
