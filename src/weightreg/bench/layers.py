"""Your own network in the engine against Keras `fit` (issue 28): speed and agreement.

`python -m weightreg.bench.layers` (about 3 minutes on 2 cores):

1. Speed per model-epoch, batch 32, Adam, after a first call that compiles:
   - Conv2D on digits as 8x8 images (1,257 training rows, 10 classes), the issue's network:
     Conv2D(16, 3, relu) -> MaxPooling2D(2) -> Flatten -> Dense(64, relu) -> Dense(10,
     softmax): one Keras `fit`, and a population of K members in one `engine.train` call
     (members per epoch from the difference of two lengths, so the call's own work is left
     out);
   - LSTM(16) -> Dense(1, sigmoid) on 64 sequences of 30 steps (`data.sequences`), the same
     two ways, and the engine's compile time at 10 and 100 steps.
2. Agreement: the same CNN on digits split as the study splits them (1,257 training rows, 540
   test), 30 epochs, 10 seeds, without a penalty and with l2(1e-3) on the hidden kernels: the
   engine's mean test accuracy beside Keras `fit`'s (its own shuffling), each with its seeds'
   standard deviation, and Welch's t-test (SciPy) of the two.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import argparse
import json
import statistics
import sys
import time

import numpy as np

from weightreg import backend, data, engine, layers, models, tasks
from weightreg.bench.speed import log

BATCH = 32
LEARNING_RATE = 1e-3  # Keras' Adam default, as the Keras models below use
EPOCHS = 3  # timed epochs, after one that compiles
SEEDS = 10  # seeds of the agreement check
CNN = [{"Conv2D": {"filters": 16, "kernel_size": 3, "activation": "relu"}},
       {"MaxPooling2D": {"pool_size": 2}}, {"Flatten": {}},
       {"Dense": {"units": 64, "activation": "relu"}}]  # then the task's Dense(10)


def keras_epoch(model, x, y) -> float:
    """One model-epoch of Keras `fit` (median over EPOCHS, after a first epoch)."""
    model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0)
    times = []
    for _ in range(EPOCHS):
        started = time.perf_counter()
        model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def engine_epoch(network, split, task, members: int, epochs: int = EPOCHS
                 ) -> tuple[float, float]:
    """(compile, per member-epoch) of `members` members in one engine call: the first call
    compiles; the difference of a call of 1 + `epochs` epochs and one of 1 leaves the call's own
    work (initial weights, final scores) out."""
    population = [engine.Member(seed) for seed in range(members)]

    def call(n: int) -> float:
        started = time.perf_counter()
        engine.train(split, population, network=network, task=task, epochs=n,
                     batch_size=BATCH, learning_rate=LEARNING_RATE, progress=False,
                     curves=False, members_per_call=members)
        return time.perf_counter() - started

    first = call(1)
    one = statistics.median(call(1) for _ in range(3))
    call(1 + epochs)  # another chunk length: another program, compiled here, not timed
    longer = statistics.median(call(1 + epochs) for _ in range(3))
    return max(first - one, 0.0), (longer - one) / (epochs * members)


def cnn(hidden=CNN):
    return layers.Network.build([layers.parse(layer) for layer in hidden], (8, 8, 1), 10)


def lstm(length: int):
    return layers.Network.build([layers.parse({"LSTM": {"units": 16}})], (length, 1), 1)


def digits_split() -> data.Split:
    """Digits as the study splits them by size: 1,257 training rows, 540 test rows."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    x, y = (bunch.data / 16.0).astype(np.float32), bunch.target.astype(np.float32)
    return data.Split(x[:1257], y[:1257], x[1257:], y[1257:])


def agreement(log) -> dict:
    """Test accuracy of SEEDS seeds, 30 epochs, engine and Keras fit, none and l2(1e-3)."""
    keras = backend.keras()
    split, task, network = digits_split(), tasks.of("multiclass", 10), cnn()
    seeds, epochs = range(SEEDS), 30
    results = {}
    for name, penalties in (("none", {}), ("l2", {"hidden_kernel": 1e-3})):
        log(f"agreement: {name}, engine")
        trained = engine.train(split, [engine.Member(s, "l2", penalties) for s in seeds],
                               network=network, task=task, epochs=epochs, batch_size=BATCH,
                               learning_rate=LEARNING_RATE, progress=False, curves=False)
        results[f"agree_{name}_engine"] = trained.final_test_score.tolist()
        log(f"agreement: {name}, Keras fit")
        scores = []
        for seed in seeds:
            keras.utils.set_random_seed(seed)
            model = models.keras_model(network, "l2", penalties, LEARNING_RATE, task=task)
            model.fit(split.x_train, split.y_train, batch_size=BATCH, epochs=epochs, verbose=0)
            scores.append(model.evaluate(split.x_test, split.y_test, verbose=0,
                                         return_dict=True)["accuracy"])
        results[f"agree_{name}_keras"] = scores
    return results


def measure(members: int, log) -> dict:
    keras = backend.keras()
    keras.utils.set_random_seed(0)
    split = digits_split()
    results = {"members": members}
    log("Conv2D: Keras fit, one model")
    model = models.keras_model(cnn(), task=tasks.of("multiclass", 10))
    results["conv_keras_model_epoch_s"] = keras_epoch(model, split.x_train, split.y_train)
    log(f"Conv2D: the engine, {members} members")
    results["conv_compile_s"], results["conv_member_epoch_s"] = engine_epoch(
        cnn(), split, tasks.of("multiclass", 10), members)
    sx, sy = data.sequences(64, 30, seed=1)
    log("LSTM: Keras fit, one model")
    model = models.keras_model(lstm(30))
    results["lstm_keras_model_epoch_s"] = keras_epoch(model, sx.reshape(64, -1), sy)
    for length in (10, 30, 100):
        log(f"LSTM: the engine, {members} members, {length} steps")
        sx, sy = data.sequences(64, length, seed=1)
        rows = data.Split(sx.reshape(64, -1), sy, sx[:8].reshape(8, -1), sy[:8])
        results[f"lstm_{length}_compile_s"], results[f"lstm_{length}_member_epoch_s"] = \
            engine_epoch(lstm(length), rows, tasks.BINARY, members)
    results.update(agreement(log))
    return results


def table(r: dict) -> str:
    k = r["members"]
    conv, lstm_cost = r["conv_keras_model_epoch_s"], r["lstm_keras_model_epoch_s"]
    cost = r["conv_member_epoch_s"]
    lines = [f"the engine with {k} members against one Keras fit, per member- or model-epoch",
             f"  Conv2D, digits 8x8, Keras fit        {conv * 1e3:9.2f} ms",
             f"  Conv2D, engine                       {cost * 1e3:9.3f} ms  = 1/{conv / cost:.0f}"
             f" of Keras (target 1/50); compile {r['conv_compile_s']:.1f} s",
             f"  LSTM(16), 30 steps, Keras fit        {lstm_cost * 1e3:9.2f} ms  (64 rows)"]
    for length in (10, 30, 100):
        cost = r[f"lstm_{length}_member_epoch_s"]
        ratio = f"  = 1/{lstm_cost / cost:.0f} of Keras (target 1/20)" if length == 30 else ""
        lines.append(f"  LSTM(16), engine, {length:>3} steps         {cost * 1e3:9.3f} ms"
                     f"{ratio}; compile {r[f'lstm_{length}_compile_s']:.1f} s")
    lines.append(f"  LSTM compile at 100 steps / at 10: "
                 f"{r['lstm_100_compile_s'] / r['lstm_10_compile_s']:.2f} (target <= 1.5)")
    from scipy.stats import ttest_ind

    lines.append(f"digits CNN, 30 epochs, {SEEDS} seeds: mean test accuracy (sd over seeds); "
                 "Welch's t-test of the two")
    for name in ("none", "l2"):
        ours, theirs = r[f"agree_{name}_engine"], r[f"agree_{name}_keras"]
        lines.append(f"  {name:<5} engine {statistics.mean(ours):.4f} "
                     f"({statistics.stdev(ours):.4f})   Keras fit {statistics.mean(theirs):.4f} "
                     f"({statistics.stdev(theirs):.4f})   difference "
                     f"{statistics.mean(ours) - statistics.mean(theirs):+.4f}, "
                     f"p = {ttest_ind(ours, theirs, equal_var=False).pvalue:.2f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m weightreg.bench.layers",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=60, help="the population's size")
    args = parser.parse_args(argv)
    results = measure(args.members, log)
    print(table(results))
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
