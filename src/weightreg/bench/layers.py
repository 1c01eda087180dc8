"""How a population of Conv2D or LSTM networks could train: the measurements that issue 28
("Your own network") asks its design to rest on, before the engine grows those layers.

`python -m weightreg.bench.layers` (about 3 minutes on 2 cores) trains, with Adam and batch 32,
one epoch at a time after a first epoch that traces and compiles:

1. Conv2D on digits as 8x8 images (1,257 training rows, 10 classes), the issue's network:
   Conv2D(16, 3, relu) -> MaxPooling2D(2) -> Flatten -> Dense(64, relu) -> Dense(10, softmax):
   - Keras `fit`, one model;
   - a population of K members in one compiled program, each member with its own batch order,
     written two ways by hand: a grouped convolution (the members as the channels of one
     `tf.nn.conv2d` whose filters have one input channel: K groups, which XLA compiles), and
     im2col (each member's 3x3 patches times its kernel, one batched matmul).
2. LSTM(16) on 30-step sequences (`data.sequences`), then Dense(1, sigmoid): Keras `fit`, one
   model, and a hand-written population whose loop over time steps is a `tf.while_loop`
   (not unrolled), with its compile time at 10 and 100 steps.

Member k starts from the weights Keras gives it after `set_random_seed(k)` (`weightreg.layers`).
Per member-epoch, medians of a few epochs, and the ratio to Keras `fit`'s model-epoch. The
population numbers are the cost of the arithmetic as the engine would compile it; they are not
yet the engine (no penalties, no records), so they bound what the engine can reach.
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

from weightreg import backend, data, engine, layers
from weightreg.bench.speed import log

BATCH = 32
LEARNING_RATE = 1e-3  # Keras' Adam default, as the Keras models below use
EPOCHS = 3  # timed epochs, after one that compiles
CNN = [{"Conv2D": {"filters": 16, "kernel_size": 3, "activation": "relu"}},
       {"MaxPooling2D": {"pool_size": 2}}, {"Flatten": {}},
       {"Dense": {"units": 64, "activation": "relu"}}, {"Dense": {"units": 10}}]


def digits_images():
    from sklearn.datasets import load_digits

    bunch = load_digits()
    x = (bunch.data / 16.0).astype(np.float32).reshape(-1, 8, 8, 1)
    return x[:1257], bunch.target[:1257].astype(np.int32)


def keras_epoch(model, x, y) -> float:
    """One model-epoch of Keras `fit` (median over EPOCHS, after a first epoch)."""
    model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0)
    times = []
    for _ in range(EPOCHS):
        started = time.perf_counter()
        model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def keras_weights(members: int, network, input_shape) -> list[np.ndarray]:
    """Member k's weights are those Keras gives the network after `set_random_seed(k)`."""
    seeded = [layers.initial_weights(seed, network, input_shape) for seed in range(members)]
    return [np.stack(weights) for weights in zip(*seeded)]


def population_epoch(loss_of, weights, x, y, members: int) -> tuple[float, float]:
    """(compile and first epoch, median epoch) of a population, each member with its own batch
    order, every batch of an epoch inside one compiled program, as the engine runs them."""
    tf = backend.tensorflow()

    rows = len(x)
    orders = np.stack([np.random.default_rng(k).permutation(rows) for k in range(members)])
    batches = rows // BATCH  # whole batches only: a bound, not the engine's padding
    orders = orders[:, :batches * BATCH].reshape(members, batches, BATCH).transpose(1, 0, 2)
    x, y, orders = tf.constant(x), tf.constant(y), tf.constant(orders)

    no_decay = tf.zeros([members, len(weights)])

    @tf.function(jit_compile=True)
    def epoch(weights, moments, velocities, step):
        def body(i, weights, moments, velocities, step):
            index = orders[i]
            with tf.GradientTape() as tape:
                tape.watch(weights)
                loss = loss_of(weights, tf.gather(x, index), tf.gather(y, index))
            grads = tape.gradient(loss, weights)
            # The engine's Adam step (Keras' Adam), without weight decay.
            return (i + 1, *engine.adam(weights, moments, velocities, grads, step, no_decay,
                                        LEARNING_RATE))

        _, *state = tf.while_loop(lambda i, *_: i < batches, body,
                                  (0, weights, moments, velocities, step))
        return state

    state = (tuple(tf.constant(w) for w in weights), tuple(tf.zeros(w.shape) for w in weights),
             tuple(tf.zeros(w.shape) for w in weights), tf.constant(0.0))
    times = []
    for _ in range(1 + EPOCHS):
        started = time.perf_counter()
        state = epoch(*state)
        state[0][0].numpy()  # waits for the epoch
        times.append(time.perf_counter() - started)
    return times[0], statistics.median(times[1:])


def conv_population(members: int, way: str):
    """The issue's CNN for `members` members: (initial weights, loss of the summed batch)."""
    tf = backend.tensorflow()

    k = members
    weights = keras_weights(k, CNN, (8, 8, 1))

    def features(kernel, bias, xb):  # xb [K, B, 8, 8, 1] -> [K, B, 6, 6, 16]
        if way == "grouped":
            images = tf.transpose(xb[..., 0], [1, 2, 3, 0])  # [B, 8, 8, K]: members as channels
            filters = tf.transpose(kernel[:, :, :, 0, :], [1, 2, 0, 3])  # [3, 3, K, 16]
            filters = tf.reshape(filters, [3, 3, 1, k * 16])  # one input channel per group
            out = tf.nn.conv2d(images, filters, strides=1, padding="VALID")  # grouped: K groups
            out = tf.reshape(out, [-1, 6, 6, k, 16])
            out = tf.transpose(out, [3, 0, 1, 2, 4])
        else:  # im2col: each member's 3x3 patches times its kernel, one batched matmul
            patches = tf.stack([xb[:, :, i:i + 6, j:j + 6, 0] for i in range(3)
                                for j in range(3)], axis=-1)  # [K, B, 6, 6, 9]
            out = tf.einsum("kbhwp,kpf->kbhwf", patches, tf.reshape(kernel, [k, 9, 16]))
        return tf.nn.relu(out + bias[:, None, None, None, :])

    def loss_of(w, xb, yb):
        h = features(w[0], w[1], xb)
        h = tf.nn.max_pool2d(tf.reshape(h, [-1, 6, 6, 16]), 2, 2, "VALID")
        h = tf.reshape(h, [k, -1, 144])
        h = tf.nn.relu(tf.matmul(h, w[2]) + w[3][:, None, :])
        logits = tf.matmul(h, w[4]) + w[5][:, None, :]
        return tf.reduce_sum(tf.reduce_mean(
            tf.nn.sparse_softmax_cross_entropy_with_logits(yb, logits), axis=1))

    return weights, loss_of


def lstm_population(members: int, units: int = 16):
    """A hand-written LSTM(units) -> Dense(1, sigmoid) population, its time loop a while loop."""
    tf = backend.tensorflow()

    k = members
    weights = keras_weights(k, [{"LSTM": {"units": units}}, {"Dense": {"units": 1}}], (None, 1))

    def loss_of(w, xb, yb):  # xb [K, B, T, 1]
        steps = tf.shape(xb)[2]
        h = tf.zeros([k, tf.shape(xb)[1], units])
        c = tf.zeros_like(h)

        def body(t, h, c):
            z = (tf.matmul(xb[:, :, t, :], w[0]) + tf.matmul(h, w[1]) + w[2][:, None, :])
            i, f, g, o = tf.split(z, 4, axis=-1)
            c = tf.sigmoid(f) * c + tf.sigmoid(i) * tf.tanh(g)
            h = tf.sigmoid(o) * tf.tanh(c)
            return t + 1, h, c

        # A fixed trip count: XLA differentiates a while loop only when it knows its bound.
        _, h, c = tf.while_loop(lambda t, h, c: t < steps, body, (0, h, c),
                                maximum_iterations=xb.shape[2])
        logits = tf.matmul(h, w[3])[..., 0] + w[4]
        return tf.reduce_sum(tf.reduce_mean(
            tf.nn.sigmoid_cross_entropy_with_logits(tf.cast(yb, tf.float32), logits), axis=1))

    return weights, loss_of


def measure(members: int, log) -> dict:
    keras = backend.keras()
    keras.utils.set_random_seed(0)
    x, y = digits_images()
    results = {"members": members}
    log("Conv2D: Keras fit, one model")
    model = keras.Sequential([keras.Input((8, 8, 1)),
                              keras.layers.Conv2D(16, 3, activation="relu"),
                              keras.layers.MaxPooling2D(2), keras.layers.Flatten(),
                              keras.layers.Dense(64, activation="relu"),
                              keras.layers.Dense(10, activation="softmax")])  # = CNN
    model.compile(loss="sparse_categorical_crossentropy", optimizer="adam")
    results["conv_keras_model_epoch_s"] = keras_epoch(model, x, y)
    for way in ("grouped", "im2col"):
        log(f"Conv2D: a population of {members}, {way}")
        weights, loss_of = conv_population(members, way)
        first, epoch = population_epoch(loss_of, weights, x, y, members)
        results[f"conv_{way}_compile_s"] = first - epoch
        results[f"conv_{way}_member_epoch_s"] = epoch / members
    sx, sy = data.sequences(60, 30, seed=1)
    log("LSTM: Keras fit, one model")
    model = keras.Sequential([keras.Input((30, 1)), keras.layers.LSTM(16),
                              keras.layers.Dense(1, activation="sigmoid")])
    model.compile(loss="binary_crossentropy", optimizer="adam")
    results["lstm_keras_model_epoch_s"] = keras_epoch(model, sx, sy)
    for length in (10, 30, 100):
        log(f"LSTM: a population of {members}, {length} steps")
        sx, sy = data.sequences(64, length, seed=1)
        weights, loss_of = lstm_population(members)
        first, epoch = population_epoch(loss_of, weights, sx.astype(np.float32),
                                        sy.astype(np.int32), members)
        results[f"lstm_{length}_compile_s"] = first - epoch
        results[f"lstm_{length}_member_epoch_s"] = epoch / members
    return results


def table(r: dict) -> str:
    k = r["members"]
    conv, lstm = r["conv_keras_model_epoch_s"], r["lstm_keras_model_epoch_s"]
    lines = [f"a population of {k} members against one Keras fit, per (member- or model-) epoch",
             f"  Conv2D, digits 8x8, Keras fit          {conv * 1e3:9.2f} ms"]
    for way in ("grouped", "im2col"):
        cost = r[f"conv_{way}_member_epoch_s"]
        lines.append(f"  Conv2D, population, {way:<8}          {cost * 1e3:9.3f} ms  = 1/"
                     f"{conv / cost:.0f} of Keras (target 1/50); compile "
                     f"{r[f'conv_{way}_compile_s']:.1f} s")
    lines.append(f"  LSTM(16), 30 steps, Keras fit          {lstm * 1e3:9.2f} ms  (60 rows)")
    for length in (10, 30, 100):
        cost = r[f"lstm_{length}_member_epoch_s"]
        lines.append(f"  LSTM(16), population, {length:>3} steps     {cost * 1e3:9.3f} ms  "
                     f"(64 rows); compile {r[f'lstm_{length}_compile_s']:.1f} s")
    lines.append(f"  LSTM compile at 100 steps / at 10: "
                 f"{r['lstm_100_compile_s'] / r['lstm_10_compile_s']:.2f} (target <= 1.5)")
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
