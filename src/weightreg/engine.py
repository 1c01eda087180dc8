"""Train a population of independent networks in one compiled program.

Each member has its own seed (initial weights and batch order), regularizer kind, penalty
strength per weight group and lambda schedule. The members' weights are stacked along a leading
axis of size K, and one XLA-compiled `tf.while_loop` runs a chunk of epochs for all of them; a
second `tf.while_loop` inside it runs an epoch's batches, so the program is one training step
long whatever the number of rows.

Why this is exactly K separate trainings: the program minimizes the SUM of the members' losses,
so each member's gradient is the gradient of its own loss, and Adam is elementwise, so each
member's update depends on its own gradient alone. Nothing couples members (no mean over
members, no global-norm clipping, no shared statistics).

The arithmetic follows Keras 3 (its layers, as `weightreg.layers` computes them, the task's
loss on the logits behind the output activation (`tasks`), `Adam`, regularization penalties
added unscaled to the mean batch loss),
and the metrics follow `fit`'s history: train metrics of an epoch come from the forward passes
of its batches (weights before each update), test metrics from the weights at the end of the
epoch.
"""

from __future__ import annotations

import math
import os
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from weightreg import backend, cluster, guard, tasks
from weightreg.data import Split
from weightreg.layers import Network
from weightreg.models import KINDS, widths
from weightreg.tasks import Task

# Per-epoch records, in the order the compiled program stacks them: the task's score (accuracy,
# or R² from the mean squared error), the data loss and the loss with the penalty. The test
# records cost a forward pass over the test rows every epoch, so only calls that draw curves
# ask for them.
TRAIN_RECORDS = ("train_score", "train_loss", "train_total")
TEST_RECORDS = ("test_score", "test_loss", "test_total")


CHUNK_EPOCHS = 500  # Epochs per compiled call: progress is reported between calls.
# Rows per forward pass when a whole set is scored: [K, rows, width] activations at once do not
# fit for thousands of rows, so larger sets are scored in a compiled loop over chunks this size.
EVALUATION_ROWS = 1024
BETA_1, BETA_2, EPSILON = 0.9, 0.999, 1e-7  # Keras' Adam


def records_of(curves: bool) -> tuple[str, ...]:
    return TRAIN_RECORDS + (TEST_RECORDS if curves else ())


@dataclass(frozen=True)
class Member:
    """One model of the population.

    `penalties` maps weight groups, or their roles (`Network.per_group`: `hidden_kernel` is
    every hidden layer's kernel), to the strength of a `kind` penalty in the loss, as Keras'
    regularizers add it; `decay` maps them to decoupled weight decay, as
    `keras.optimizers.AdamW` applies it (w -= w * decay * learning_rate before each Adam step,
    outside the loss). Groups left out carry neither. `schedule` multiplies both epoch by epoch
    (None: 1 throughout).
    """

    seed: int
    kind: str = "l2"
    penalties: Mapping[str, float] = field(default_factory=dict)
    decay: Mapping[str, float] = field(default_factory=dict)
    schedule: np.ndarray | None = field(default=None, compare=False, repr=False)
    # The member's own training and test rows (another draw of the data, a fold, a resample);
    # None trains on the split given to `train`. Members' own rows may differ in number (the
    # folds of k-fold cross-validation): they are padded to the longest and masked, so that
    # one compiled program trains them all.
    data: Split | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Result:
    """What training recorded. Per-epoch arrays are [epochs, K]; per-member arrays are [K]."""

    history: dict[str, np.ndarray]  # keys: TRAIN_RECORDS, and TEST_RECORDS with `curves`;
    # `*_loss` is the data loss alone; accuracies are exact fractions of rows (float64), R²
    # float64, losses float32.
    final_train_score: np.ndarray  # with the final weights on the whole training set
    final_test_score: np.ndarray
    final_train_loss: np.ndarray  # the data loss with the final weights
    final_test_loss: np.ndarray
    # [K, test rows]: which test rows each member classifies right (booleans), or each row's
    # squared error (regression).
    final_test_rows: np.ndarray
    test_counts: np.ndarray  # [K]: each member's test rows; its entries of `final_test_rows`
    # past that are padding (False, or 0)
    weights: tuple[np.ndarray, ...]  # final weights, stacked per member, in `groups` order
    diverged_at: np.ndarray  # first epoch whose loss is NaN or infinite, -1 where none is
    groups: tuple[str, ...]  # the weights' names (`Network.groups`)
    # [K]: the epochs each member trained (all of them without early stopping; the history's
    # records past a member's are NaN), and the epoch whose weights it ended with, counted
    # from 1 (that is the last epoch run without early stopping).
    epochs_run: np.ndarray
    best_epoch: np.ndarray

    def norms(self) -> dict[str, np.ndarray]:
        """The L2 (Frobenius) norm of each weight group, per member."""
        return {group: np.sqrt(np.sum(np.square(w.astype(np.float64)),
                                      axis=tuple(range(1, w.ndim))))
                for group, w in zip(self.groups, self.weights, strict=True)}


class State(NamedTuple):
    """What training carries from step to step: the weights and Adam's state, each a tuple in
    `Network.groups` order, stacked per member."""

    weights: tuple
    moments: tuple
    velocities: tuple
    step: object  # Adam's step count (a float32 scalar)


@dataclass(frozen=True)
class EarlyStopping:
    """Keras' `fit(validation_split=validation_split, callbacks=[EarlyStopping(
    monitor="val_loss", patience=patience, min_delta=min_delta, restore_best_weights=True)])`,
    for each member on its own.

    The validation rows are the last `validation_split` of each member's training rows, taken
    before any shuffling (as `fit` takes them); the member trains on the rest. After each epoch
    the loss on the validation rows, with the penalty (as Keras' `val_loss` has it), is an
    improvement when it is below the best so far by more than `min_delta`; a member stops when
    `patience` epochs have passed without one (never after its first epoch), and ends with the
    weights of its best epoch, whether it stopped or ran every epoch."""

    patience: int = 10
    min_delta: float = 0.0
    validation_split: float = 0.2

    def cut(self, rows: int) -> int:
        """How many of `rows` training rows train (the rest validate), as Keras cuts them."""
        return int(math.floor(rows * (1.0 - self.validation_split)))


class Watch(NamedTuple):
    """Early stopping's state, per member ([K] each, and the best weights stacked per member
    in `Network.groups` order)."""

    best_weights: tuple
    best_loss: object  # the lowest validation loss so far (+inf before the first epoch)
    best_epoch: object  # the epoch of `best_weights`, counted from 0 (int32)
    wait: object  # epochs since the last improvement, as Keras' callback counts them (int32)
    stopped: object  # bool
    epochs_run: object  # int32


class Validation(NamedTuple):
    """The rows early stopping watches: shared ([rows, ...]) or each member's own; `counts`
    ([K]) say how many of each member's are real where they differ in number."""

    x: object
    y: object
    counts: object


class Coefficients(NamedTuple):
    """Each member's L1 and L2 penalty coefficients (as Keras' regularizers use them) and
    decoupled decay, per weight group: [K, groups] each."""

    l1: object
    l2: object
    decay: object


class Rows(NamedTuple):
    """The rows a program trains and scores on: shared ([rows, ...]) or each member's own
    ([K, rows, ...]); the counts ([K]) say how many of each member's rows are real where they
    differ in number (ragged), and are not used otherwise."""

    x_train: object
    y_train: object
    x_test: object
    y_test: object
    train_counts: object
    test_counts: object


def coefficients(members: list[Member], network: Network) -> Coefficients:
    """The L1 and L2 penalty coefficients (as Keras' regularizers use them) and the decoupled
    decay, per member and weight group of `network`: three [K, groups] arrays."""
    l1 = np.zeros((len(members), len(network.groups)), np.float32)
    l2 = np.zeros_like(l1)
    decay = np.array([network.per_group(member.decay) for member in members], np.float32)
    for k, member in enumerate(members):
        if member.kind not in KINDS:
            raise ValueError(f"regularizer = {member.kind!r}; expected one of {', '.join(KINDS)}")
        strengths = network.per_group(member.penalties)
        if member.kind in ("l1", "l1_l2"):
            l1[k] = strengths
        if member.kind in ("l2", "l1_l2"):
            l2[k] = strengths
    return Coefficients(l1, l2, decay)


def penalty(weights, l1, l2):
    """Each member's penalty: sum over groups g of l1[k, g] * sum|w| + l2[k, g] * sum(w^2).

    This is what Keras' L1, L2 and L1L2 regularizers add to the loss, one group at a time.
    """
    tf = backend.tensorflow()

    total = 0.0
    for g, w in enumerate(weights):
        axes = list(range(1, len(w.shape)))
        total += l1[:, g] * tf.reduce_sum(tf.abs(w), axes)
        total += l2[:, g] * tf.reduce_sum(tf.square(w), axes)
    return total  # [K]


def predict(network: Network, weights: tuple[np.ndarray, ...], x: np.ndarray,
            task: Task = tasks.BINARY) -> np.ndarray:
    """Every member's output for each row of x, as Keras' `predict` gives it: the probability of
    class 1 [K, rows] (binary), of each class [K, rows, classes] (multiclass), or the value."""
    tf = backend.tensorflow()

    logits = network.forward(tuple(tf.constant(w) for w in weights), tf.constant(x))
    if task.activation == "sigmoid":
        return tf.sigmoid(logits).numpy()
    if task.activation == "softmax":
        return tf.nn.softmax(logits).numpy()
    return logits.numpy()


def _shuffle_keys(seeds, epoch, n_rows):
    """Per-member pseudo-random keys for this epoch's batch order (a counter-based hash).

    A member's order depends only on its own seed and the epoch, never on its neighbours.
    """
    tf = backend.tensorflow()

    def mix(h):  # MurmurHash3's 32-bit finalizer
        h = tf.bitwise.bitwise_xor(h, tf.bitwise.right_shift(h, 16))
        h = h * tf.constant(0x85EBCA6B, tf.uint32)
        h = tf.bitwise.bitwise_xor(h, tf.bitwise.right_shift(h, 13))
        h = h * tf.constant(0xC2B2AE35, tf.uint32)
        return tf.bitwise.bitwise_xor(h, tf.bitwise.right_shift(h, 16))

    rows = tf.cast(tf.range(n_rows), tf.uint32)[None, :]
    key = mix(seeds[:, None] * tf.constant(0x9E3779B1, tf.uint32)
              + tf.cast(epoch, tf.uint32) * tf.constant(0x85EBCA77, tf.uint32))
    return mix(tf.bitwise.bitwise_xor(key, rows * tf.constant(0xC2B2AE3D, tf.uint32)))


@dataclass(frozen=True)
class Batch:
    """One batch of every member: inputs [K, rows, ...], targets [K, rows], and which rows are
    real (1) or padding (0): [rows], shared by all members, or [K, rows] where members' own rows
    differ in number."""

    x: object
    y: object
    real: object


def adam(state: State, grads, decay_now, learning_rate) -> State:
    """Keras' Adam step (AdamW's decoupled decay first, where `decay_now` [K, groups] has it)."""
    tf = backend.tensorflow()

    weights, moments, velocities, step = state
    local_step = step + 1.0
    alpha = (learning_rate * tf.sqrt(1 - tf.pow(BETA_2, local_step))
             / (1 - tf.pow(BETA_1, local_step)))
    new_w, new_m, new_v = [], [], []
    for group, (w, m, v, g) in enumerate(zip(weights, moments, velocities, grads)):
        # AdamW's decoupled decay first, on the weights the gradient was taken at.
        wd = tf.reshape(decay_now[:, group], [-1] + [1] * (w.shape.rank - 1))
        w = w - w * wd * learning_rate
        m = m + (g - m) * (1 - BETA_1)
        v = v + (tf.square(g) - v) * (1 - BETA_2)
        new_w.append(w - (m * alpha) / (tf.sqrt(v) + EPSILON))
        new_m.append(m)
        new_v.append(v)
    return State(tuple(new_w), tuple(new_m), tuple(new_v), local_step)


def train_step(task: Task, network: Network, state: State, batch: Batch, scale,
               coefficients: Coefficients, learning_rate):
    """One training step of every member on its batch, as Keras' `train_step` takes it: the
    mean data loss over the batch's real rows plus the scaled penalty, its gradient, an Adam
    update. Returns the new state and the batch's sums over its rows of the score, the data
    loss and the total loss, each [K]."""
    tf = backend.tensorflow()

    weights, (l1, l2, decay) = state.weights, coefficients
    count = tf.reduce_sum(batch.real, axis=-1)  # [] or [K]
    with tf.GradientTape() as tape:
        tape.watch(weights)
        logits = network.forward(weights, batch.x)
        loss = tf.reduce_sum(task.loss(logits, batch.y) * batch.real, axis=1) / count
        total = loss + scale * penalty(weights, l1, l2)
        objective = tf.reduce_sum(total)  # the sum keeps members independent
    grads = tape.gradient(objective, weights)
    score = tf.reduce_sum(task.row_score(logits, batch.y) * batch.real, axis=1)
    sums = (score, loss * count, total * count)
    return adam(state, grads, scale[:, None] * decay, learning_rate), sums


def measure(task: Task, network: Network, weights, x, y, counts=None):
    """Every member on a whole set of rows: the mean score contribution and mean data loss, two
    [K] vectors, and each row's score contribution, [K, rows] (see `Task.row_score`). Sets of
    more than EVALUATION_ROWS rows go through a compiled loop over chunks of rows, so memory
    stays bounded for any number of rows. `counts` ([K]) says how many of each member's own
    rows are real where they differ in number (None: all); padding rows count for nothing and
    score 0."""
    tf = backend.tensorflow()

    n_rows = y.shape[-1]  # None in a trace relaxed to any shape (`reduce_retracing`)
    divisor = n_rows if counts is None else tf.cast(counts, tf.float32)

    def real_of(index):  # which of the rows at `index` are real: [rows] or [K, rows]
        if counts is None:
            return tf.cast(index < n_rows, tf.float32)
        return tf.cast(index[None, :] < counts[:, None], tf.float32)

    if n_rows is None or n_rows <= EVALUATION_ROWS:
        logits = network.forward(weights, x)
        scores = task.row_score(logits, y)
        if counts is None:
            return (tf.reduce_mean(scores, axis=1),
                    tf.reduce_mean(task.loss(logits, y), axis=1), scores)
        real = real_of(tf.range(tf.shape(y)[-1]))
        return (tf.reduce_sum(scores * real, axis=1) / divisor,
                tf.reduce_sum(task.loss(logits, y) * real, axis=1) / divisor, scores * real)
    size = EVALUATION_ROWS
    n_chunks = -(-n_rows // size)
    row_axis = y.shape.rank - 1  # 0 for rows shared by all members, 1 for members' own
    members = tf.shape(weights[0])[0]

    def body(c, score_sum, loss_sum, pieces):
        index = c * size + tf.range(size)
        real = real_of(index)
        index = tf.minimum(index, n_rows - 1)  # padding rows repeat the last row, masked out
        logits = network.forward(weights, tf.gather(x, index, axis=row_axis))
        chunk_y = tf.gather(y, index, axis=row_axis)
        scores = task.row_score(logits, chunk_y) * real
        return (c + 1, score_sum + tf.reduce_sum(scores, axis=1),
                loss_sum + tf.reduce_sum(task.loss(logits, chunk_y) * real, axis=1),
                pieces.write(c, scores))

    zeros = tf.zeros([members])
    _, score_sum, loss_sum, pieces = tf.while_loop(
        lambda c, *_: c < n_chunks, body,
        (tf.constant(0), zeros, zeros, tf.TensorArray(tf.float32, size=n_chunks)))
    rows = tf.reshape(tf.transpose(pieces.stack(), [1, 0, 2]), [members, n_chunks * size])
    return score_sum / divisor, loss_sum / divisor, rows[:, :n_rows]


@dataclass(frozen=True)
class Layout:
    """What one compiled program is for, fixed when it is traced: its cache key and its build
    arguments.

    `own_rows`: each member brings its own rows ([K, rows, ...]), or all share the split's.
    `curves`: the test rows' metrics are recorded every epoch.
    `ragged`: members' own rows differ in number, padded to `n_train` (and the test rows to
    theirs); `Rows.train_counts` and `test_counts` say how many are real. A member's epoch
    is then exactly what it would be alone: a shuffle of its own rows (their keys are the
    same, the padding rows' sort last), cut into the same batches, the last one a mean over
    its real rows. All members have the same number of batches (`train` sees to it)."""

    task: Task
    network: Network
    n_train: int
    batch_size: int
    shuffle: bool
    own_rows: bool
    curves: bool
    ragged: bool = False
    stopping: EarlyStopping | None = None  # each member stops on its own (`EarlyStopping`)


def _selected(mask, new: tuple, old: tuple) -> tuple:
    """Per member ([K] booleans): its arrays from `new` where `mask` holds, from `old` elsewhere."""
    tf = backend.tensorflow()

    return tuple(tf.where(tf.reshape(mask, [-1] + [1] * (a.shape.rank - 1)), a, b)
                 for a, b in zip(new, old, strict=True))


def watch_epoch(watch: Watch, stopping: EarlyStopping, epoch, weights, validation_loss) -> Watch:
    """Keras' `EarlyStopping.on_epoch_end` for every member still training, after `epoch`
    (counted from 0) has left it with `weights` and `validation_loss` ([K], with the penalty);
    stopped members keep their state."""
    tf = backend.tensorflow()

    active = tf.logical_not(watch.stopped)
    improved = active & (validation_loss + stopping.min_delta < watch.best_loss)
    wait = tf.where(improved, 0, watch.wait + 1)
    stop = active & tf.logical_not(improved) & (wait >= stopping.patience) & (epoch > 0)
    return Watch(
        best_weights=_selected(improved, weights, watch.best_weights),
        best_loss=tf.where(improved, validation_loss, watch.best_loss),
        best_epoch=tf.where(improved, epoch, watch.best_epoch),
        wait=tf.where(active, wait, watch.wait),
        stopped=watch.stopped | stop,
        epochs_run=tf.where(active, epoch + 1, watch.epochs_run))


def _build_program(layout: Layout):
    """The compiled chunk of epochs of one layout, and the compiled scoring of its weights."""
    tf = backend.tensorflow()

    task, network, n_train, shuffle = layout.task, layout.network, layout.n_train, layout.shuffle
    own_rows, curves, ragged = layout.own_rows, layout.curves, layout.ragged
    batch_size = min(layout.batch_size, n_train)  # as in Keras: no padding rows to compute
    n_batches = -(-n_train // batch_size)
    padded = n_batches * batch_size

    stopping = layout.stopping

    @tf.function(jit_compile=True, reduce_retracing=True, autograph=False)
    def run_chunk(state: State, first_epoch, n_epochs, scales, rows: Rows, seeds,
                  coefficients: Coefficients, learning_rate, watch: Watch | tuple = (),
                  validation: Validation | tuple = ()):
        """`n_epochs` epochs from `first_epoch` (fewer where every member has stopped early:
        with `layout.stopping`, `watch` carries early stopping's state and `validation` its
        rows). Returns the state, the records ([chunk, records, K]) and the watch."""
        members = tf.shape(seeds)[0]
        chunk = tf.shape(scales)[0]
        x_train, y_train, x_test, y_test, train_counts, test_counts = rows
        real_rows = train_counts[:, None] if ragged else n_train  # [K, 1] or a number
        test_counts = test_counts if ragged else None

        def batches(epoch):
            """Row indices [K, padded] and mask of real rows, [padded] (or [K, padded] when
            ragged), for each member's epoch."""
            order = tf.range(padded) % n_train
            order = tf.broadcast_to(order[None, :], [members, padded])
            if shuffle and n_batches > 1:
                keys = tf.cast(_shuffle_keys(seeds, epoch, n_train), tf.int64)
                if ragged:  # past a member's own rows: a key above any uint32
                    keys = tf.where(tf.range(n_train)[None, :] < real_rows, keys, 2**32)
                perm = tf.argsort(keys, axis=1, stable=True)
                order = tf.concat([perm, order[:, n_train:]], axis=1)
            mask = tf.cast(tf.range(padded) < real_rows, tf.float32)
            return order, mask

        def epoch_body(i, state, records, watch):
            epoch = first_epoch + i
            scale = scales[i]
            order, mask = batches(epoch)
            before = state

            def one_batch(idx, real, state, sums):
                batch = Batch(tf.gather(x_train, idx, batch_dims=int(own_rows)),
                              tf.gather(y_train, idx, batch_dims=int(own_rows)), real)
                state, batch_sums = train_step(task, network, state, batch, scale,
                                               coefficients, learning_rate)
                return state, [total + part for total, part in zip(sums, batch_sums)]

            sums = [tf.zeros([members])] * 3  # score, data loss and total loss, over rows
            if n_batches == 1:
                state, sums = one_batch(order[:, :batch_size], mask[..., :batch_size], state,
                                        sums)
            else:  # a loop, so that the program is one step long whatever the rows
                def batch_body(b, state, sums):
                    start = b * batch_size
                    real = (tf.slice(mask, [0, start], [members, batch_size]) if ragged
                            else tf.slice(mask, [start], [batch_size]))
                    state, sums = one_batch(tf.slice(order, [0, start], [members, batch_size]),
                                            real, state, sums)
                    return b + 1, state, [tf.reshape(total, [members]) for total in sums]

                _, state, sums = tf.while_loop(lambda b, *_: b < n_batches, batch_body,
                                               (tf.constant(0), state, sums))
            counted = tf.cast(train_counts, tf.float32) if ragged else n_train
            row = [sums[0] / counted, sums[1] / counted, sums[2] / counted]
            if curves:
                test_score, test_loss, _ = measure(task, network, state.weights, x_test, y_test,
                                                  test_counts)
                row += [test_score, test_loss,
                        test_loss + scale * penalty(state.weights, coefficients.l1,
                                                    coefficients.l2)]
            row = tf.stack(row)
            records = tf.tensor_scatter_nd_update(records, [[i]], row[None])
            if stopping is not None:
                # A stopped member's epoch is computed with the others' and thrown away.
                active = tf.logical_not(watch.stopped)
                state = State(_selected(active, state.weights, before.weights),
                              _selected(active, state.moments, before.moments),
                              _selected(active, state.velocities, before.velocities),
                              state.step)
                _, loss, _ = measure(task, network, state.weights, validation.x, validation.y,
                                     validation.counts if ragged else None)
                loss += scale * penalty(state.weights, coefficients.l1, coefficients.l2)
                watch = watch_epoch(watch, stopping, epoch, state.weights, loss)
            return i + 1, state, records, watch

        def going(i, state, records, watch):
            if stopping is None:
                return i < n_epochs
            return (i < n_epochs) & tf.logical_not(tf.reduce_all(watch.stopped))

        records = tf.zeros([chunk, len(records_of(curves)), members])
        _, state, records, watch = tf.while_loop(going, epoch_body,
                                                 (tf.constant(0), state, records, watch))
        return state, records, watch

    def evaluate(weights, rows: Rows):
        """`measure` of every member on the training rows and on the test rows, in one program
        (one compile), with `*_counts` real rows each when ragged."""
        return (measure(task, network, weights, rows.x_train, rows.y_train,
                        rows.train_counts if ragged else None),
                measure(task, network, weights, rows.x_test, rows.y_test,
                        rows.test_counts if ragged else None))

    # Small sets share one trace of any shape; a large one is traced for its own shape, which
    # `measure` needs to loop over its chunks of rows.
    small = tf.function(evaluate, jit_compile=True, reduce_retracing=True, autograph=False)
    large = tf.function(evaluate, jit_compile=True, autograph=False)

    def evaluate_any(weights, rows: Rows):
        largest = max(rows.y_train.shape[-1], rows.y_test.shape[-1])
        return (small if largest <= EVALUATION_ROWS else large)(weights, rows)

    return run_chunk, evaluate_any


def _no_epochs(inputs: dict) -> dict:
    """A chunk's rehearsal: the same inputs, zero epochs."""
    tf = backend.tensorflow()

    return {**inputs, "n_epochs": tf.zeros_like(inputs["n_epochs"])}


_FIRST_CALLS = threading.Lock()


def _quiet(build, rehearsal=lambda kwargs: kwargs):
    """The program `build()` makes, compiled (or loaded from XLA's persistent cache, whose error
    lines are not errors, see `backend`) with stderr filtered: before its first call with each
    shape of inputs, a short rehearsal with those shapes. Groups train in threads and stderr is
    the process's, so rehearsals run one at a time, and the calls themselves unfiltered.
    `rehearsal` turns the keyword arguments of a call into the rehearsal's.

    A damaged entry of the persistent cache fails to load on every run (OutOfRangeError,
    DataLossError): it is deleted (`backend.heal_xla_cache`), with one line on stderr, and the
    program built and compiled again (TensorFlow keeps a failed program's state, so a new one)."""
    tf = backend.tensorflow()
    seen = set()
    program = [build()]

    def rehearse(*args, **kwargs):
        try:
            backend.quietly(lambda: program[0](*args, **rehearsal(kwargs)))
        except (tf.errors.OutOfRangeError, tf.errors.DataLossError):
            damaged = backend.heal_xla_cache()
            if not damaged:
                raise
            print(f"weightreg: deleted {len(damaged)} damaged entr"
                  f"{'y' if len(damaged) == 1 else 'ies'} of XLA's cache in "
                  f"{damaged[0].parent}; compiling again", file=sys.stderr, flush=True)
            program[0] = build()
            backend.quietly(lambda: program[0](*args, **rehearsal(kwargs)))

    def call(*args, **kwargs):
        shapes = tuple(tuple(t.shape) for t in tf.nest.flatten((args, kwargs)))
        if shapes not in seen:
            with _FIRST_CALLS:
                if shapes not in seen:
                    rehearse(*args, **kwargs)
                    seen.add(shapes)
        return program[0](*args, **kwargs)

    return call


_PROGRAMS: dict[Layout, tuple] = {}


_BUILDING = threading.Lock()  # groups train in threads: one of them builds a shared program


def _program(layout: Layout):
    """The compiled programs of one layout (its network included: a program traced for other
    widths would be relaxed to any width, which the layers cannot take)."""
    with _BUILDING:
        if layout not in _PROGRAMS:
            _PROGRAMS[layout] = (_quiet(lambda: _build_program(layout)[0], _no_epochs),
                                 _quiet(lambda: _build_program(layout)[1]))
        return _PROGRAMS[layout]


# On a CPU, a population is split into SPLIT groups, or half as many (down to one), where each
# still gets MIN_GROUP members (smaller groups cost more per member-epoch: the benchmark's K=6
# costs 1.3x K=20), so that groups train on several CPUs at once; a power of two keeps a 2-core
# machine's CPUs both busy to the end. The grid's 180 members on 2 cores, in ms per
# member-epoch: 3 groups of 60 one after another 0.0070, 8 of 23 two at a time 0.0053, 4 of 45
# two at a time 0.0047. The split depends on the population, never on the number of CPUs: a
# group's size can change the last bits of its members' numbers (not on two moons, whose
# first layer is elementwise).
# At most CPU_GROUP members per group on a CPU: larger groups outgrow the cache and cost more
# per member-epoch.
CPU_GROUP = 64
SPLIT = 4
MIN_GROUP = 12
# On a GPU a population trains in as few groups as it can, of at most GPU_GROUP members. The
# chunk program compiled by jaxlib's XLA on an H200 (`weightreg.bench.gpu`): 20,000 members compiled in
# 3.5 s and cost 0.000139 ms per member-epoch, 40,000 compiled in 231 s and cost 0.000155.
GPU_GROUP = 20000


def group_sizes(members: int, limit: int, split: int = 1) -> tuple[int, int]:
    """Split a population into equal groups of at most `limit` members, and into at least
    `split` groups (or half as many, ...) of at least MIN_GROUP where it is large enough:
    (groups, members per group).

    Equal groups share one compiled program; the last is padded with copies of the first
    members, whose results are dropped.
    """
    while split > 1 and members < split * MIN_GROUP:
        split //= 2
    groups = max(-(-members // limit), split)
    return groups, -(-members // groups)


def train(split: Split, members: list[Member], *, network: Network | None = None,
          hidden_units: int | Sequence[int] | None = None,
          epochs: int, batch_size: int, learning_rate: float, task: Task = tasks.BINARY,
          shuffle: bool = True, initial: tuple[np.ndarray, ...] | None = None,
          label: str = "train", progress: bool | None = None,
          members_per_call: int | None = None, curves: bool = True,
          early_stopping: EarlyStopping | None = None) -> Result:
    """Train every member for `epochs` epochs and return their histories and final weights;
    with `early_stopping`, each member on the first part of its training rows, until its loss
    on the rest stops improving (`EarlyStopping`), ending with its best epoch's weights.

    The network: `network` (`weightreg.layers`), or the MLP shorthand: the split's inputs,
    Dense(width, relu) for each of `hidden_units` (one width or a list), then the task's output
    layer.
    With `curves`, the history has the test rows' metrics for every epoch too; without, only
    the final ones are computed (the same numbers: both come from the final weights).

    `initial` (stacked weights in `groups` order) overrides the Keras initialization by seed.
    Members run in groups of at most `members_per_call` (default: CPU_GROUP on a CPU,
    GPU_GROUP on a GPU), split further on a CPU (`group_sizes`) so that groups train on several
    CPUs at once (`cluster.run`).
    Progress goes to stderr when it is a terminal and WEIGHTREG_QUIET is unset, or when
    `progress` is True.
    """
    tf = backend.tensorflow()

    if not members:
        raise ValueError("train() needs at least one member")
    if network is None:
        network = Network.mlp(widths(hidden_units), split.x_train.shape[-1], task.outputs)
    k = len(members)
    rows = _rows(split, members, early_stopping)
    layouts = _batches_per_epoch(rows, batch_size)
    if len(set(layouts)) > 1:  # members' own rows fall into different numbers of batches
        parts = [np.flatnonzero(layouts == n) for n in sorted(set(layouts))]
        return _joined([train(split, [members[j] for j in part], network=network,
                              epochs=epochs, batch_size=batch_size,
                              learning_rate=learning_rate, task=task, shuffle=shuffle,
                              initial=initial and tuple(w[part] for w in initial),
                              label=label, progress=progress,
                              members_per_call=members_per_call, curves=curves,
                              early_stopping=early_stopping)
                        for part in parts], parts)
    per_member = _member_arrays(members, network, epochs, initial)
    on_gpu = bool(tf.config.list_physical_devices("GPU"))
    if members_per_call is None:
        members_per_call = GPU_GROUP if on_gpu else CPU_GROUP
    n_groups, size = group_sizes(k, members_per_call, 1 if on_gpu else SPLIT)
    padded = np.resize(np.arange(k), n_groups * size)  # spare members repeat the first ones
    if progress is None:
        progress = sys.stderr.isatty() and not os.environ.get("WEIGHTREG_QUIET")
    progress_line = _Progress(label, k, n_groups, epochs, size) if progress else None
    work = [({name: a if name in rows.shared else a[padded[g * size:(g + 1) * size]]
                for name, a in rows.arrays.items()},
               per_member.take(padded[g * size:(g + 1) * size]),
               task, network, epochs, batch_size, shuffle, learning_rate, curves,
               early_stopping)
            for g in range(n_groups)]

    def members_of(g: int) -> str:
        mine = range(g * size, min((g + 1) * size, k))  # without the spare copies
        seeds = [members[j].seed for j in mine]
        return (f"{label}'s members {mine[0] + 1}-{mine[-1] + 1} of {k} (seeds "
                f"{min(seeds)}-{max(seeds)})")

    runs = cluster.run(_train_group, work, members_of,
                       lambda g: progress_line and progress_line.for_group(g))

    def joined(get, axis=0):  # the groups' arrays side by side, without the spare members
        return np.take(np.concatenate([get(run) for run in runs], axis=axis), np.arange(k),
                       axis=axis)

    records = joined(lambda run: run.records, axis=-1)  # [epochs, records, K]
    final = {name: joined(lambda run: run.final[name]) for name in runs[0].final}
    epochs_run, best_epoch = joined(lambda run: run.epochs_run), joined(lambda run: run.best_epoch)
    run = np.arange(epochs)[:, None] < epochs_run[None, :]  # [epochs, K]: the epochs trained
    records[np.broadcast_to(~run[:, None, :], records.shape)] = np.nan
    # The train records of an epoch come from the weights before its updates, so the final
    # losses catch a last update that went bad.
    finite = np.isfinite(records).all(axis=1) | ~run  # [epochs, K]
    finite[-1] &= np.isfinite(final["train_loss"]) & np.isfinite(final["test_loss"])
    history = {name: records[:, r, :] for r, name in enumerate(records_of(curves))}
    # Scores from the targets: shared ([rows]) or the members' own ([K, rows]), either of which
    # lines up with the members' axis of [epochs, K] records and [K] final values.
    y_train, y_test = rows.arrays["y_train"], rows.arrays["y_test"]
    train_counts, test_counts = rows.arrays.get("train_counts"), rows.arrays.get("test_counts")
    history["train_score"] = task.scores(history["train_score"], y_train, train_counts)
    if curves:
        history["test_score"] = task.scores(history["test_score"], y_test, test_counts)
    test_rows = joined(lambda run: run.test_rows)
    return Result(
        history=history,
        final_train_score=task.scores(final["train_score"], y_train, train_counts),
        final_test_score=task.scores(final["test_score"], y_test, test_counts),
        final_train_loss=final["train_loss"],
        final_test_loss=final["test_loss"],
        final_test_rows=test_rows > 0.5 if task.classifies else test_rows,
        test_counts=(np.full(k, y_test.shape[-1]) if test_counts is None
                     else test_counts.astype(np.int64)),
        weights=tuple(joined(lambda run, g=g: run.weights[g])
                      for g in range(len(per_member.initial))),
        diverged_at=np.where(finite.all(axis=0), -1, np.argmin(finite, axis=0)),
        groups=network.groups, epochs_run=epochs_run, best_epoch=best_epoch)


@dataclass(frozen=True)
class _RowArrays:
    arrays: dict[str, np.ndarray]  # x_train, y_train, x_test, y_test (and x_val, y_val with
    # early stopping); and train_counts, test_counts (val_counts) ([K]) where members' own rows
    # differ in number (padded to the longest)
    shared: frozenset[str]  # the names of arrays that all members share (no member axis)


def _rows(split: Split, members: list[Member],
          early_stopping: EarlyStopping | None = None) -> _RowArrays:
    """The training and test rows (and with `early_stopping`, the validation rows cut from the
    end of the training rows): the split's for all, or stacked per member where any member
    brings its own (members without their own get the split's). Own rows that differ in number
    are padded with copies of the member's last row, and counted."""
    parts = ("train", "test") + (("val",) if early_stopping else ())
    names = tuple(f"{axis}_{part}" for part in parts for axis in "xy")

    def arrays_of(rows: Split) -> dict[str, np.ndarray]:
        arrays = {name: getattr(rows, name) for name in ("x_train", "y_train", "x_test",
                                                         "y_test")}
        if early_stopping:
            n = len(rows.y_train)
            cut = early_stopping.cut(n)
            if cut == 0 or cut == n:
                raise ValueError(
                    f"validation_split = {early_stopping.validation_split!r} leaves {cut} of "
                    f"{n} training rows to train on and {n - cut} to validate; expected a "
                    "fraction that leaves rows on both sides")
            for axis in "xy":
                whole = arrays[f"{axis}_train"]
                arrays[f"{axis}_train"], arrays[f"{axis}_val"] = whole[:cut], whole[cut:]
        return arrays

    if all(member.data is None for member in members):
        return _RowArrays(arrays_of(split), frozenset(names))
    shared = arrays_of(split)
    own = [arrays_of(member.data) if member.data is not None else shared
           for member in members]
    arrays = {}
    for name in names:
        pieces = [rows[name] for rows in own]
        shapes = {piece.shape[1:] for piece in pieces}
        if len(shapes) != 1:
            raise ValueError(f"members' {name} differ in shape {sorted(shapes)}; one engine "
                             "call needs the same inputs per row")
        width = max(len(piece) for piece in pieces)
        arrays[name] = np.stack([np.concatenate([piece, np.repeat(piece[-1:], width - len(piece),
                                                                  axis=0)])
                                 for piece in pieces])
    if any(len({len(rows[f"y_{part}"]) for rows in own}) > 1 for part in parts):
        for part in parts:
            arrays[f"{part}_counts"] = np.array([len(rows[f"y_{part}"]) for rows in own],
                                                np.int32)
    return _RowArrays(arrays, frozenset())


def _batches_per_epoch(rows: _RowArrays, batch_size: int) -> np.ndarray:
    """Each member's number of batches per epoch, [K]."""
    counts = rows.arrays.get("train_counts")
    if counts is None:
        counts = np.full(1 if "y_train" in rows.shared else len(rows.arrays["y_train"]),
                         rows.arrays["y_train"].shape[-1])
    return -(-counts // batch_size)


def _joined(results: list[Result], parts: list[np.ndarray]) -> Result:
    """One Result of the members of several calls (`parts[i]`: where the members of
    `results[i]` go), their test rows padded to the longest."""
    order = np.argsort(np.concatenate(parts), kind="stable")
    width = max(result.final_test_rows.shape[1] for result in results)

    def members(get, axis=0):
        return np.take(np.concatenate([get(result) for result in results], axis=axis), order,
                       axis=axis)

    def padded(rows):
        return np.pad(rows, [(0, 0), (0, width - rows.shape[1])])

    return Result(
        history={name: members(lambda r: r.history[name], axis=1) for name in results[0].history},
        final_train_score=members(lambda r: r.final_train_score),
        final_test_score=members(lambda r: r.final_test_score),
        final_train_loss=members(lambda r: r.final_train_loss),
        final_test_loss=members(lambda r: r.final_test_loss),
        final_test_rows=members(lambda r: padded(r.final_test_rows)),
        test_counts=members(lambda r: r.test_counts),
        weights=tuple(members(lambda r, g=g: r.weights[g]) for g in range(len(results[0].weights))),
        diverged_at=members(lambda r: r.diverged_at), groups=results[0].groups,
        epochs_run=members(lambda r: r.epochs_run), best_epoch=members(lambda r: r.best_epoch))


@dataclass(frozen=True)
class MemberArrays:
    """What sets the members apart, each array with the members on its first axis."""

    scales: np.ndarray  # [K, epochs]: each member's multiplier of its strengths, epoch by epoch
    l1: np.ndarray  # [K, groups]: L1 and L2 coefficients, as Keras' regularizers use them
    l2: np.ndarray
    decay: np.ndarray  # [K, groups]: decoupled weight decay
    seeds: np.ndarray  # [K] uint32: the batch order's seeds
    initial: tuple[np.ndarray, ...]  # initial weights, in `groups` order

    def take(self, index: np.ndarray) -> MemberArrays:
        """The arrays of the members at `index`, in that order."""
        return MemberArrays(self.scales[index], self.l1[index], self.l2[index],
                            self.decay[index], self.seeds[index],
                            tuple(w[index] for w in self.initial))


def _member_arrays(members: list[Member], network: Network, epochs: int,
                   initial: tuple[np.ndarray, ...] | None = None) -> MemberArrays:
    """What sets the members apart (`MemberArrays`): their lambda multipliers, coefficients,
    seeds and initial weights (Keras' by seed unless `initial` gives them)."""
    k = len(members)
    l1, l2, decay = coefficients(members, network)
    scales = np.ones((k, epochs), np.float32)
    for j, member in enumerate(members):
        if member.schedule is not None:
            if len(member.schedule) < epochs:
                raise ValueError(f"member {j}: schedule has {len(member.schedule)} epochs, "
                                 f"training runs {epochs}")
            scales[j] = member.schedule[:epochs]
    if initial is None:
        seeded = [network.initial_weights(m.seed) for m in members]
        initial = tuple(np.stack(ws) for ws in zip(*seeded))
    seeds = np.array([m.seed % 2**32 for m in members], np.uint32)
    return MemberArrays(scales, l1, l2, decay, seeds, initial)


def _chunk_inputs(rows: dict[str, np.ndarray], arrays: MemberArrays, chunk: int,
                  learning_rate: float) -> dict[str, object]:
    """A group's inputs to its first chunk of `chunk` epochs, named and ordered as the compiled
    program's arguments (early stopping's where `rows` has validation rows)."""
    tf = backend.tensorflow()

    weights = tuple(tf.constant(w, tf.float32) for w in arrays.initial)
    zeros = tuple(tf.zeros_like(w) for w in weights)
    # Where every member's rows are all real, the counts the program takes are not used.
    full = {f"{part}_counts": np.full(len(arrays.seeds), rows[f"y_{part}"].shape[-1], np.int32)
            for part in ("train", "test", "val") if f"y_{part}" in rows}
    stopping = {"watch": (), "validation": ()}  # early stopping's, empty without it
    if "y_val" in rows:
        k = len(arrays.seeds)
        counts = rows.get("val_counts", full.pop("val_counts"))
        stopping = dict(
            watch=Watch(weights, tf.fill([k], np.float32(np.inf)), tf.zeros([k], tf.int32),
                        tf.zeros([k], tf.int32), tf.zeros([k], tf.bool),
                        tf.zeros([k], tf.int32)),
            validation=Validation(*(tf.constant(a) for a in (rows["x_val"], rows["y_val"],
                                                             counts))))
        rows = {name: a for name, a in rows.items()
                if name not in ("x_val", "y_val", "val_counts")}
    return dict(
        state=State(weights, zeros, zeros, tf.constant(0.0)),
        first_epoch=tf.constant(0), n_epochs=tf.constant(chunk),
        scales=tf.constant(_chunk_scales(arrays.scales, 0, chunk)),
        rows=Rows(**{name: tf.constant(values) for name, values in {**full, **rows}.items()}),
        seeds=tf.constant(arrays.seeds),
        coefficients=Coefficients(*(tf.constant(a) for a in (arrays.l1, arrays.l2,
                                                               arrays.decay))),
        learning_rate=tf.constant(learning_rate, tf.float32), **stopping)


def _chunk_scales(scales: np.ndarray, first: int, chunk: int) -> np.ndarray:
    """The lambda multipliers ([K, epochs]) of the chunk from epoch `first` as the program takes
    them, [chunk, K], padded with ones past the last epoch."""
    padded = np.ones((chunk, len(scales)), np.float32)
    part = scales[:, first:first + chunk].T
    padded[:len(part)] = part
    return padded


@dataclass(frozen=True)
class GroupRun:
    """What one group's training gives back (from a thread or a Dask worker)."""

    records: np.ndarray  # [epochs, records, K]
    final: dict[str, np.ndarray]  # train_score, train_loss, test_score, test_loss: [K] each,
    # the mean score contributions (see `Task.scores`) and data losses with the final weights
    test_rows: np.ndarray  # [K, test rows]: each test row's score contribution
    weights: tuple[np.ndarray, ...]  # final weights
    epochs_run: np.ndarray  # [K] (see `Result`)
    best_epoch: np.ndarray  # [K], counted from 1


def _train_group(rows, arrays: MemberArrays, task, network, epochs, batch_size, shuffle,
                 learning_rate, curves, early_stopping, report) -> GroupRun:
    """One compiled population, trained chunk by chunk of epochs (until every member has
    stopped, with `early_stopping`), then scored."""
    tf = backend.tensorflow()

    ragged = "train_counts" in rows
    run_chunk, evaluate = _program(Layout(task, network, rows["y_train"].shape[-1], batch_size,
                                          shuffle, own_rows=rows["y_train"].ndim == 2,
                                          curves=curves, ragged=ragged,
                                          stopping=early_stopping))
    chunk = min(CHUNK_EPOCHS, epochs)
    inputs = _chunk_inputs(rows, arrays, chunk, learning_rate)
    pieces = []
    for first in range(0, epochs, chunk):
        n = min(chunk, epochs - first)
        state, records, watch = run_chunk(**{
            **inputs, "first_epoch": tf.constant(first), "n_epochs": tf.constant(n),
            "scales": tf.constant(_chunk_scales(arrays.scales, first, chunk))})
        inputs["state"] = state
        pieces.append(records.numpy()[:n])
        if early_stopping:
            inputs["watch"] = watch
        if report:
            report(first + n)
        guard.check()  # a stage whose inputs changed, or whose dvc is gone, stops here
        if early_stopping and bool(tf.reduce_all(watch.stopped)):
            break
    k = len(arrays.seeds)
    if early_stopping:  # Keras restores the best epoch's weights, stopped early or not
        weights, epochs_run = watch.best_weights, watch.epochs_run.numpy()
        best_epoch = watch.best_epoch.numpy() + 1
    else:
        weights, epochs_run, best_epoch = state.weights, np.full(k, epochs), np.full(k, epochs)
    (train_score, train_loss, _), (test_score, test_loss, test_rows) = evaluate(
        weights, inputs["rows"])
    final = {"train_score": train_score.numpy(), "train_loss": train_loss.numpy(),
             "test_score": test_score.numpy(), "test_loss": test_loss.numpy()}
    records = np.concatenate(pieces)
    records = np.concatenate([records, np.zeros((epochs - len(records),) + records.shape[1:],
                                                records.dtype)])
    return GroupRun(records, final, test_rows.numpy(), tuple(w.numpy() for w in weights),
                    epochs_run.astype(np.int64), best_epoch.astype(np.int64))


class _Progress:
    """A progress line on stderr, rewritten in place after every chunk of epochs of any group
    (groups may train at the same time)."""

    def __init__(self, label: str, members: int, groups: int, epochs: int, group_size: int):
        self.label, self.members, self.groups, self.epochs = label, members, groups, epochs
        self.group_size = group_size
        self.epochs_done = [0] * groups
        self.lock = threading.Lock()
        self.started = time.perf_counter()

    def for_group(self, group: int):
        return lambda epochs_done: self.show(group, epochs_done)

    def show(self, group: int, epochs_done: int) -> None:
        with self.lock:
            self.epochs_done[group] = epochs_done
            elapsed = time.perf_counter() - self.started
            done = sum(self.epochs_done) * self.group_size
            total = self.groups * self.epochs * self.group_size
            rate = done / elapsed
            groups = sum(e == self.epochs for e in self.epochs_done)
            where = f", {groups}/{self.groups} groups done" if self.groups > 1 else ""
            end = "\n" if done == total else ""
            print(f"\r{self.label}: {self.members} members x {self.epochs} epochs{where}, "
                  f"{rate:,.0f} member-epochs/s, {(total - done) / rate:.0f} s left ",
                  end=end, file=sys.stderr, flush=True)
