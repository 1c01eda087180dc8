"""Stage `sequence`: the regularizer API on Conv1D and LSTM layers (kernel, recurrent and bias
regularizers), with and without l2, trained with plain Keras `fit` on a contrived task."""

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
                for strength in (0.0, p.strength)]
    per_seed = {}
    for architecture, strength in settings:
        accuracies = []
        for seed in range(p.seeds):
            keras.utils.set_random_seed(seed)
            model = models.sequence_model(architecture, p.length, p.units, strength)
            # One batch per epoch: the whole training set, as the two-moons study does.
            model.fit(x_train, y_train, epochs=p.epochs, batch_size=p.n_train, verbose=0)
            predictions = model.predict(x_test, batch_size=p.n_test, verbose=0)[:, 0]
            accuracies.append(float(np.mean((predictions > 0.5) == y_test)))
            keras.backend.clear_session()
        per_seed[architecture, strength] = accuracies
    results = {architecture: {
        "none": stats.describe(per_seed[architecture, 0.0]),
        "l2": stats.describe(per_seed[architecture, p.strength]),
        "l2_vs_none": stats.paired(per_seed[architecture, p.strength],
                                   per_seed[architecture, 0.0]),
    } for architecture in ARCHITECTURES}
    io.write({
        metrics: io.to_json(results),
        table: io.to_csv({
            "model": [f"{architecture} {'l2' if strength else 'none'}"
                      for architecture, strength in settings],
            "test_acc": [np.mean(per_seed[s]) for s in settings],
            "test_acc_std": [stats.mean_std(per_seed[s])[1] for s in settings],
        }),
    })
