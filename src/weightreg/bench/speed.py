"""Benchmark the population engine against Keras `fit` and scikit-learn on the tutorial problem.

`python -m weightreg.bench [--quick]` measures, in one run, the cost of one model-epoch on two
moons (30 train rows, 70 test rows), Dense(500, relu) -> Dense(1, sigmoid), Adam 1e-3, batch 32,
with l2(1e-3) on the hidden kernel:

1. Keras `fit` as the tutorial writes it, with and without `validation_data`. Each model is fit
   for one epoch before the clock starts, so tracing is not timed, and each timed fit has a
   one-epoch fit subtracted, so the per-call set-up is not counted either.
2. scikit-learn's `MLPClassifier` with the equivalent L2 strength (see `sklearn_alpha`).
3. The engine at K = 1, 6, 20, 60, 200 and 600 members (1, 6, 60 and 600 with --quick). The
   first call with a new shape traces and compiles; later calls with the same shape reuse the
   compiled program, so the steady cost is the median of later calls and the compile cost is
   the first call minus that median.
4. The machine's limit: dense float32 matmul throughput, against the engine's FLOP rate at K = 60
   (FLOPs counted by `engine_flops_per_member_epoch`); and XLA's rate on the engine's forward
   pass alone (`Network.forward` in a compiled loop, the same groups in threads), the part of an
   epoch that XLA compiles best.
5. One 4000-epoch model with curves, compile included: engine versus Keras with validation.
6. Real data (`weightreg.bench.real`): breast_cancer, digits and diabetes beside
   scikit-learn and Keras, the 5-fold l2 grid against `GridSearchCV(n_jobs=2)`, and the growth
   of the engine's cost, compile time and memory with rows.
7. With Dask's `distributed` installed: a stage-sized population (180 members, the grid's, in
   4 groups of 45) in this process against a local Dask cluster of one worker per CPU
   (WEIGHTREG_BACKEND=dask): the cluster's start, the first call (workers import TensorFlow and
   compile), and the steady cost, as a ratio. The README turns them into an estimate for N
   machines.

Every measurement is repeated and the median kept. The timings go to stdout only (a table, then
one JSON line): they describe this machine, so no DVC file records them.
"""

from __future__ import annotations

import os

# TensorFlow reads this when it is first imported; its start-up chatter would bury the table.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import argparse
import json
import platform
import statistics
import sys
import time
import warnings
from dataclasses import dataclass
from typing import Callable

from weightreg import data, engine, models, params

DATA = params.moons()  # the tutorial's: 100 points, noise 0.2, random_state 1, 30 train
HIDDEN_UNITS = 500
BATCH_SIZE = 32
LEARNING_RATE = 1e-3
STRENGTH = 1e-3  # the tutorial's l2(0.001) on the hidden kernel
SEEDS = 10  # members cycle through the first ten seeds, like the study's populations
SINGLE_MODEL_EPOCHS = 4000
MATMUL_SIZE = 2048
INPUTS = 2  # two-moons points have two coordinates

# Floating-point operations per parameter in one engine update, read off engine.py.
# AdamW's decoupled decay w -= w * decay * learning_rate is 3 (computed for every member, zero
# or not); Adam: m += (g - m) * (1 - beta_1) is 3; v += (g^2 - v) * (1 - beta_2) is 4;
# w -= (m * alpha) / (sqrt(v) + epsilon) is 5.
ADAM_FLOPS_PER_PARAMETER = 15
# The penalty is computed for every weight group (its coefficients are runtime inputs, so XLA
# cannot drop the zero ones): |w|, its sum, w^2 and its sum.
PENALTY_FLOPS_PER_PARAMETER = 4
# Its gradient: sign(w) * l1, 2 * l2 * w, and two additions into the gradient.
PENALTY_GRADIENT_FLOPS_PER_PARAMETER = 6


@dataclass(frozen=True)
class Config:
    """How long each measurement runs. `engine_epochs` maps a member count K to its epochs."""

    name: str
    repeats: int
    keras_epochs: int
    sklearn_epochs: int
    engine_epochs: dict[int, int]
    dask_epochs: int


QUICK = Config(name="quick", repeats=3, keras_epochs=80, sklearn_epochs=100,
               engine_epochs={1: 500, 6: 500, 60: 500, 600: 100}, dask_epochs=500)
FULL = Config(name="full", repeats=5, keras_epochs=300, sklearn_epochs=300,
              engine_epochs={1: 2000, 6: 2000, 20: 2000, 60: 2000, 200: 1000, 600: 500},
              dask_epochs=2000)
REFERENCE_MEMBERS = 60  # the K at which the speedups and the matmul fraction are reported
DASK_MEMBERS = 180  # a stage's population: the grid's 18 configurations x 10 seeds


def sklearn_alpha(keras_l2: float, batch_rows: int) -> float:
    """scikit-learn's `alpha` that gives each batch the penalty of Keras' `l2(keras_l2)`.

    Keras adds `keras_l2 * sum(W^2)` to the mean loss of every batch. scikit-learn adds
    `0.5 * alpha * sum(W^2) / batch_rows` (and `alpha * W / batch_rows` to the gradient), so
    alpha = 2 * keras_l2 * batch_rows. The match is exact only when every batch has
    `batch_rows` rows: here one batch of 30 rows, since 30 < 32. scikit-learn penalizes the
    kernels of BOTH layers, whereas the tutorial penalizes the hidden kernel only; the output
    kernel has 500 of the 1500 kernel weights, so the sklearn model is regularized slightly more.
    That changes what it learns, not what an epoch costs.
    """
    return 2.0 * keras_l2 * batch_rows


def engine_flops_per_member_epoch(n_train: int, n_test: int, hidden_units: int,
                                  batch_size: int, inputs: int = INPUTS) -> int:
    """Floating-point operations one member needs for one engine epoch.

    A [m, k] x [k, n] matmul counts 2*m*k*n; an elementwise operation or a reduction counts one
    per element. Per row, the forward pass is the hidden matmul (2*inputs*H), the hidden bias
    and relu (2*H) and the output matmul (2*H); the backward pass is the output kernel's
    gradient (2*H), the hidden activations' gradient (2*H), the relu mask (H), the hidden bias'
    gradient (H) and the hidden kernel's gradient (2*inputs*H). A batch holds
    min(batch_size, n_train) rows; with several batches the engine pads the last one to a
    whole batch and computes the padded rows too, so they count. Each batch then
    updates every parameter (penalty, its gradient and Adam), and each epoch ends with a forward
    pass and the penalty on the test rows. A few scalar operations per row (the loss, its
    derivative, the accuracy, the output bias) are left out: well under 1% of the total.
    """
    h = hidden_units
    parameters = inputs * h + h + h + 1
    forward_per_row = forward_flops_per_row(hidden_units, inputs)
    backward_per_row = 2 * h + 2 * h + h + h + 2 * inputs * h
    n_batches = -(-n_train // batch_size)
    update = parameters * (ADAM_FLOPS_PER_PARAMETER + PENALTY_FLOPS_PER_PARAMETER
                           + PENALTY_GRADIENT_FLOPS_PER_PARAMETER)
    batch_rows = min(batch_size, n_train)
    train = n_batches * (batch_rows * (forward_per_row + backward_per_row) + update)
    test = n_test * forward_per_row + parameters * PENALTY_FLOPS_PER_PARAMETER
    return train + test


def forward_flops_per_row(hidden_units: int, inputs: int = INPUTS) -> int:
    """The forward pass of one row: the hidden matmul, the hidden bias and relu, the output
    matmul (see `engine_flops_per_member_epoch`)."""
    return 2 * inputs * hidden_units + 2 * hidden_units + 2 * hidden_units


def seconds(run: Callable[[], object]) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def median_seconds(run: Callable[[], object], repeats: int) -> float:
    return statistics.median(seconds(run) for _ in range(repeats))


def matmul_flops_per_second(repeats: int) -> float:
    """Dense float32 matmul throughput: the most this machine's TensorFlow does per second."""
    import tensorflow as tf

    a = tf.random.normal([MATMUL_SIZE, MATMUL_SIZE])
    b = tf.random.normal([MATMUL_SIZE, MATMUL_SIZE])
    tf.matmul(a, b).numpy()  # The first call pays for thread pools and kernel selection.
    return 2 * MATMUL_SIZE ** 3 / median_seconds(lambda: tf.matmul(a, b).numpy(), repeats)


FORWARD_PASSES = 2000


def forward_flops_per_second(split: data.Split, repeats: int) -> float:
    """XLA's FLOP rate on the engine's forward pass alone (`Network.forward` over the training
    rows) for REFERENCE_MEMBERS members, split into groups that run in threads as the engine
    runs them. Each pass shrinks the hidden kernel a little, so XLA cannot hoist the passes out
    of the loop; that multiply is not counted."""
    from concurrent.futures import ThreadPoolExecutor

    import numpy as np
    import tensorflow as tf

    from weightreg import cluster

    groups, size = engine.group_sizes(REFERENCE_MEMBERS, engine.CPU_GROUP, engine.SPLIT)
    network = models.network(HIDDEN_UNITS)
    seeded = [network.initial_weights(seed % SEEDS) for seed in range(size)]
    weights = tuple(tf.constant(np.stack(ws)) for ws in zip(*seeded))
    x = tf.constant(split.x_train)

    @tf.function(jit_compile=True, autograph=False)
    def passes(weights, x):
        def one(i, total, weights):
            total += tf.reduce_sum(network.forward(weights, x), axis=1)
            return i + 1, total, (weights[0] * 0.999999, *weights[1:])

        return tf.while_loop(lambda i, *_: i < FORWARD_PASSES, one,
                             (tf.constant(0), tf.zeros([size]), weights))[1]

    with ThreadPoolExecutor(cluster.cpus()) as pool:
        def run():
            return list(pool.map(lambda _: passes(weights, x).numpy(), range(groups)))

        run()  # compiles
        elapsed = median_seconds(run, repeats)
    rows = groups * size * len(split.y_train)
    return rows * forward_flops_per_row(HIDDEN_UNITS) * FORWARD_PASSES / elapsed


def keras_ms_per_epoch(split: data.Split, epochs: int, repeats: int, validation: bool) -> float:
    """Milliseconds per epoch of the tutorial's `model.fit`, tracing and per-call set-up excluded.

    The model carries the tutorial's l2(1e-3) on the hidden kernel, so Keras, scikit-learn and
    the engine all train the same regularized model.
    """
    model = models.mlp(HIDDEN_UNITS, "l2", {"hidden_kernel": STRENGTH}, LEARNING_RATE)
    model.set_weights(models.initial_weights(0, HIDDEN_UNITS))
    extra = {"validation_data": (split.x_test, split.y_test)} if validation else {}

    def fit(n_epochs):
        model.fit(split.x_train, split.y_train, epochs=n_epochs, batch_size=BATCH_SIZE,
                  verbose=0, **extra)

    def marginal_seconds_per_epoch():
        # Subtracting a one-epoch fit removes each call's set-up (data adapter, callbacks),
        # which a 4000-epoch run pays once, and leaves the cost of the other epochs.
        return (seconds(lambda: fit(epochs)) - seconds(lambda: fit(1))) / (epochs - 1)

    fit(1)  # Traces the train (and test) functions so the timed fits do not pay for it.
    return statistics.median(marginal_seconds_per_epoch() for _ in range(repeats)) * 1e3


def sklearn_ms_per_epoch(split: data.Split, epochs: int, repeats: int) -> float:
    """Milliseconds per epoch of the equivalent `MLPClassifier`, which records no test curve."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    batch_rows = min(BATCH_SIZE, len(split.y_train))

    def fit(n_epochs):
        # n_iter_no_change = max_iter keeps the stopping rule from ending the run early.
        classifier = MLPClassifier(
            hidden_layer_sizes=(HIDDEN_UNITS,), activation="relu", solver="adam",
            learning_rate_init=LEARNING_RATE, batch_size=BATCH_SIZE,
            alpha=sklearn_alpha(STRENGTH, batch_rows), max_iter=n_epochs, early_stopping=False,
            tol=0.0, n_iter_no_change=n_epochs, shuffle=True, random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            # scikit-learn clips batch_size 32 to the 30 rows, as Keras makes one batch of 30.
            warnings.filterwarnings("ignore", "Got `batch_size`", UserWarning)
            classifier.fit(split.x_train, split.y_train)

    fit(1)  # The first fit pays for scikit-learn's lazy imports.
    return median_seconds(lambda: fit(epochs), repeats) / epochs * 1e3


def population(size: int) -> list[engine.Member]:
    return [engine.Member(seed % SEEDS, "l2", {"hidden_kernel": STRENGTH}) for seed in range(size)]


def train_engine(split: data.Split, members: list[engine.Member], epochs: int) -> None:
    engine.train(split, members, hidden_units=HIDDEN_UNITS, epochs=epochs,
                 batch_size=BATCH_SIZE, learning_rate=LEARNING_RATE, progress=False)


def first_call_seconds(split: data.Split, members: list[engine.Member], epochs: int) -> float:
    """Seconds of an engine call that traces and compiles, as the first call of a process does.

    The engine keeps its compiled programs in a module-level cache; emptying it makes the next
    call build, trace and compile again whatever ran before.
    """
    import tensorflow as tf

    # Rebuilding the programs on purpose makes TensorFlow warn about retracing: only noise here.
    tf.get_logger().setLevel("ERROR")
    engine._PROGRAMS.clear()
    return seconds(lambda: train_engine(split, members, epochs))


@dataclass(frozen=True)
class EngineTiming:
    members: int
    epochs: int
    first_call_s: float  # measured once: compiling every shape several times costs too much
    steady_s: float  # median of the later calls with the same shape

    @property
    def compile_s(self) -> float:
        return self.first_call_s - self.steady_s

    @property
    def ms_per_model_epoch(self) -> float:
        return self.steady_s / (self.members * self.epochs) * 1e3


def engine_timing(split: data.Split, size: int, epochs: int, repeats: int) -> EngineTiming:
    members = population(size)
    first = first_call_seconds(split, members, epochs)
    steady = median_seconds(lambda: train_engine(split, members, epochs), repeats)
    return EngineTiming(size, epochs, first, steady)


def dask_timing(split: data.Split, epochs: int, repeats: int) -> dict[str, float] | None:
    """A stage-sized population in this process and on a local Dask cluster (None without
    Dask's distributed package)."""
    try:
        import distributed  # noqa: F401 (WEIGHTREG_BACKEND=dask needs it)
    except ImportError:
        return None
    from weightreg import cluster

    members = population(DASK_MEMBERS)
    train_engine(split, members, epochs)  # compiles in this process
    here = median_seconds(lambda: train_engine(split, members, epochs), repeats)
    os.environ[cluster.VARIABLE] = "dask"
    try:
        start = seconds(cluster.connect)
        workers = len(cluster.connect().scheduler_info(n_workers=-1)["workers"])
        first = seconds(lambda: train_engine(split, members, epochs))
        there = median_seconds(lambda: train_engine(split, members, epochs), repeats)
    finally:
        del os.environ[cluster.VARIABLE]
        cluster.close()
    groups, size = engine.group_sizes(DASK_MEMBERS, engine.CPU_GROUP, engine.SPLIT)
    return {"members": DASK_MEMBERS, "epochs": epochs, "groups": groups, "group_size": size,
            "workers": workers, "in_process_s": here, "cluster_start_s": start,
            "first_call_s": first, "steady_s": there, "ratio": there / here,
            "group_s": here / groups}


def machine_info() -> dict[str, object]:
    import keras
    import numpy
    import sklearn
    import tensorflow as tf

    return {
        "cpu_count": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)),
        "cpu_model": cpu_model(),
        "python": platform.python_version(),
        "tensorflow": tf.__version__,
        "keras": keras.__version__,
        "sklearn": sklearn.__version__,
        "numpy": numpy.__version__,
    }


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass  # Not Linux: fall back to what the platform module knows.
    return platform.processor() or "unknown"


def measure(config: Config, log: Callable[[str], None]) -> dict[str, object]:
    """Run every measurement and return the results as the JSON line reports them."""
    split = data.make(DATA)
    # Initial weights come from Keras' initializers; draw them all before any clock starts.
    for seed in range(SEEDS):
        models.initial_weights(seed, HIDDEN_UNITS)
    log("matmul throughput")
    matmul = matmul_flops_per_second(config.repeats)
    log("XLA on the engine's forward pass")
    forward = forward_flops_per_second(split, config.repeats)
    log("Keras fit")
    keras_plain = keras_ms_per_epoch(split, config.keras_epochs, config.repeats, False)
    log("Keras fit with validation_data")
    keras_val = keras_ms_per_epoch(split, config.keras_epochs, config.repeats, True)
    log("scikit-learn MLPClassifier")
    sklearn_ms = sklearn_ms_per_epoch(split, config.sklearn_epochs, config.repeats)
    log(f"engine, one model for {SINGLE_MODEL_EPOCHS} epochs, compile included")
    single = statistics.median(first_call_seconds(split, population(1), SINGLE_MODEL_EPOCHS)
                               for _ in range(config.repeats))
    timings = {}
    for size, epochs in config.engine_epochs.items():
        log(f"engine, K={size}")
        timings[size] = engine_timing(split, size, epochs, config.repeats)
    log(f"engine on a local Dask cluster, K={DASK_MEMBERS}")
    on_dask = dask_timing(split, config.dask_epochs, config.repeats)
    from weightreg.bench import real

    on_real_data = real.measure(config.name == "quick", log)
    flops = engine_flops_per_member_epoch(len(split.y_train), len(split.y_test), HIDDEN_UNITS,
                                          BATCH_SIZE)
    reference = timings[REFERENCE_MEMBERS].ms_per_model_epoch
    engine_flops_per_second = flops / (reference / 1e3)
    keras_single_s = keras_val * SINGLE_MODEL_EPOCHS / 1e3
    return {
        "mode": config.name,
        "repeats": config.repeats,
        "keras_epochs": config.keras_epochs,
        "sklearn_epochs": config.sklearn_epochs,
        "keras_ms_per_epoch": keras_plain,
        "keras_val_ms_per_epoch": keras_val,
        "sklearn_ms_per_model_epoch": sklearn_ms,
        "sklearn_alpha": sklearn_alpha(STRENGTH, min(BATCH_SIZE, len(split.y_train))),
        "engine_epochs": {str(k): t.epochs for k, t in timings.items()},
        "engine_ms_per_model_epoch": {str(k): t.ms_per_model_epoch for k, t in timings.items()},
        "engine_first_call_s": {str(k): t.first_call_s for k, t in timings.items()},
        "engine_compile_s": {str(k): t.compile_s for k, t in timings.items()},
        "speedup_vs_keras": keras_val / reference,
        "speedup_vs_sklearn": sklearn_ms / reference,
        "single_model_epochs": SINGLE_MODEL_EPOCHS,
        "single_model_engine_s": single,
        "single_model_keras_val_s": keras_single_s,
        "single_model_speedup_vs_keras": keras_single_s / single,
        "matmul_size": MATMUL_SIZE,
        "matmul_gflops": matmul / 1e9,
        "engine_flops_per_member_epoch": flops,
        "engine_gflops_at_60": engine_flops_per_second / 1e9,
        "matmul_fraction": engine_flops_per_second / matmul,
        "forward_gflops": forward / 1e9,
        "forward_fraction": forward / matmul,
        "dask": on_dask,
        **on_real_data,
        "machine": machine_info(),
    }


def saturation(costs: dict[str, float], tolerance: float = 0.2) -> int:
    """The smallest K whose cost per member-epoch is within `tolerance` of the cheapest: where
    adding members stops paying, because the machine is compute-bound."""
    cheapest = min(costs.values())
    return min(int(k) for k, cost in costs.items() if cost <= cheapest * (1 + tolerance))


def table(results: dict[str, object]) -> str:
    """The results as a readable table; speedups compare against Keras with validation."""
    keras_val = results["keras_val_ms_per_epoch"]
    sklearn_ms = results["sklearn_ms_per_model_epoch"]
    machine = results["machine"]
    lines = [
        f"weightreg benchmark ({results['mode']}): two moons, {DATA.moons.n_train} train / "
        f"{DATA.moons.n_samples - DATA.moons.n_train} test rows, "
        f"Dense {HIDDEN_UNITS} relu -> Dense 1 sigmoid, Adam {LEARNING_RATE:g}, "
        f"batch {BATCH_SIZE}, l2({STRENGTH:g}) on the hidden kernel",
        f"machine: {machine['cpus_usable']} of {machine['cpu_count']} CPUs "
        f"({machine['cpu_model']}), "
        f"TensorFlow {machine['tensorflow']}, Keras {machine['keras']}, "
        f"scikit-learn {machine['sklearn']}; median of {results['repeats']} repeats",
        "",
        f"{'method':<30}{'epochs':>7}{'ms/model-epoch':>16}{'first call s':>14}"
        f"{'compile s':>11}{'vs Keras+val':>14}{'vs sklearn':>12}",
    ]

    def row(name, epochs, ms, first="", compile_s=""):
        return (f"{name:<30}{epochs:>7}{ms:>16.4f}{first:>14}{compile_s:>11}"
                f"{keras_val / ms:>13.1f}x{sklearn_ms / ms:>11.1f}x")

    lines.append(row("Keras fit", results["keras_epochs"], results["keras_ms_per_epoch"]))
    lines.append(row("Keras fit + validation_data", results["keras_epochs"], keras_val))
    lines.append(row(f"sklearn MLPClassifier a={results['sklearn_alpha']:g}",
                     results["sklearn_epochs"], sklearn_ms))
    for k, ms in results["engine_ms_per_model_epoch"].items():
        lines.append(row(f"engine K={k}", results["engine_epochs"][k], ms,
                         f"{results['engine_first_call_s'][k]:.2f}",
                         f"{results['engine_compile_s'][k]:.2f}"))
    lines += [
        "(engine: train and test curves every epoch, compile excluded; first call measured "
        "once; sklearn: no test curve)",
        f"engine cost per member-epoch is within 20% of its lowest from K="
        f"{saturation(results['engine_ms_per_model_epoch'])} on: compute-bound",
        "",
        f"one model, {results['single_model_epochs']} epochs with curves, compile included: "
        f"engine {results['single_model_engine_s']:.2f} s, Keras + validation_data "
        f"{results['single_model_keras_val_s']:.1f} s "
        f"({results['single_model_speedup_vs_keras']:.1f}x)",
        f"matmul {results['matmul_size']}x{results['matmul_size']} float32: "
        f"{results['matmul_gflops']:.1f} GFLOP/s; engine "
        f"{results['engine_flops_per_member_epoch']:,} FLOP per member-epoch, at "
        f"K={REFERENCE_MEMBERS} {results['engine_gflops_at_60']:.2f} GFLOP/s = "
        f"{results['matmul_fraction']:.1%} of matmul",
        f"XLA on the engine's forward pass alone (K={REFERENCE_MEMBERS}, the same groups): "
        f"{results['forward_gflops']:.2f} GFLOP/s = {results['forward_fraction']:.1%} of matmul",
    ]
    dask = results["dask"]
    if dask:
        lines += [
            "",
            f"{dask['members']} members x {dask['epochs']} epochs ({dask['groups']} groups of "
            f"{dask['group_size']}): in this process {dask['in_process_s']:.2f} s "
            f"({dask['group_s']:.2f} s per group); on a local Dask cluster of "
            f"{dask['workers']} workers {dask['steady_s']:.2f} s "
            f"({dask['ratio']:.2f}x), after {dask['cluster_start_s']:.1f} s to start it and a "
            f"first call of {dask['first_call_s']:.1f} s (workers import TensorFlow, compile)",
        ]
    else:
        lines.append("(Dask column skipped: the `dask` extra is not installed)")
    return "\n".join(lines)


def log(stage: str) -> None:
    """A benchmark's progress line, on stderr (its results go to stdout)."""
    print(f"bench: {stage}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m weightreg.bench",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="fewer epochs and repeats (about 2 minutes on 2 cores)")
    parser.add_argument("--figure", metavar="PNG",
                        help="also draw cost per member-epoch against K into this file")
    args = parser.parse_args(argv)
    results = measure(QUICK if args.quick else FULL, log)
    if args.figure:
        from weightreg import io, plots

        io.write({args.figure: plots.png(plots.benchmark(results))})
    print(report(results))
    return 0


def report(results: dict[str, object]) -> str:
    """What the benchmark prints at its end: its tables, then the results as one JSON line."""
    from weightreg.bench import real

    return f"{table(results)}\n{real.table(results)}\n{json.dumps(results)}"


if __name__ == "__main__":
    sys.exit(main())
