"""The population engine against independent references: NumPy for the penalties, plain
Keras `fit` for training, and itself for member independence."""

import os
import subprocess
import sys

import numpy as np
import pytest

import dataclasses

from weightreg import backend, cluster, data, data as prepared, engine, models, params
from weightreg.params import moons

SPLIT = data.make(moons(100, 0.2, 1, 30))
HIDDEN = 500


def numpy_penalty(weights, kind, strengths):
    l1 = sum(s * np.abs(w).sum() for s, w in zip(strengths, weights))
    l2 = sum(s * np.square(w).sum() for s, w in zip(strengths, weights))
    return {"l1": l1, "l2": l2, "l1_l2": l1 + l2}[kind]


@pytest.mark.parametrize("kind", ["l1", "l2", "l1_l2"])
def test_penalty_matches_numpy_and_keras(kind):
    rng = np.random.default_rng(0)
    members = [engine.Member(0, kind, {"hidden_kernel": 1e-3}),
               engine.Member(1, kind, {"hidden_kernel": 1e-2, "hidden_bias": 1e-3,
                                   "output_kernel": 1e-1, "output_bias": 0.5})]
    weights = [rng.normal(size=(2,) + shape).astype(np.float32)
               for shape in ((2, 7), (7,), (7, 1), (1,))]
    l1, l2, _ = engine.coefficients(members, models.network(7))
    ours = engine.penalty(weights, l1, l2).numpy()
    for k, member in enumerate(members):
        mine = [w[k] for w in weights]
        strengths = models.per_group(member.penalties, 1)
        expected = numpy_penalty(mine, kind, strengths)
        keras_value = sum(float(models.regularizer(kind, s)(w)) for s, w in
                          zip(strengths, mine) if s)
        np.testing.assert_allclose(ours[k], expected, rtol=1e-6)
        np.testing.assert_allclose(keras_value, expected, rtol=1e-6)


def keras_fit(member, split, epochs, batch_size, shuffle):
    model = models.mlp(HIDDEN, member.kind, member.penalties, decay=member.decay)
    model.set_weights(models.initial_weights(member.seed, HIDDEN))
    history = model.fit(split.x_train, split.y_train, epochs=epochs, batch_size=batch_size,
                        shuffle=shuffle, verbose=0,
                        validation_data=(split.x_test, split.y_test)).history
    return model.get_weights(), history


def assert_matches_keras(split, members, epochs, batch_size):
    # Keras shuffles the rows it sums over, and that changes round-off, so the reference runs
    # without shuffling; the engine keeps a fixed order too (batch_size >= rows, or shuffle off).
    result = engine.train(split, members, hidden_units=HIDDEN, epochs=epochs,
                          batch_size=batch_size, learning_rate=1e-3, shuffle=False,
                          progress=False)
    n_train, n_test = len(split.y_train), len(split.y_test)
    for k, member in enumerate(members):
        weights, history = keras_fit(member, member.data or split, epochs, batch_size,
                                     shuffle=False)
        for group, theirs, ours in zip(models.GROUPS, weights, result.weights):
            np.testing.assert_allclose(ours[k], theirs, atol=1e-5, rtol=0,
                                       err_msg=f"member {k}, {group}")
        # Accuracies as counts of rows: identical, epoch by epoch.
        for ours, theirs, rows in (("train_score", "accuracy", n_train),
                                   ("test_score", "val_accuracy", n_test)):
            np.testing.assert_array_equal(np.rint(result.history[ours][:, k] * rows),
                                          np.rint(np.array(history[theirs]) * rows))
        # Keras' losses include the penalty: compare them with the engine's totals.
        np.testing.assert_allclose(result.history["train_total"][:, k], history["loss"],
                                   atol=1e-5)
        np.testing.assert_allclose(result.history["test_total"][:, k], history["val_loss"],
                                   atol=1e-5)


def test_population_matches_keras_fit():
    # 100 epochs: beyond that, l1 weights oscillating around zero flip the sign of their
    # gradient on round-off differences, and the two runs part by about 1e-4.
    members = [engine.Member(0),
               engine.Member(1, "l1", {"hidden_kernel": 1e-3}),
               engine.Member(2, "l2", {"hidden_kernel": 1e-3, "hidden_bias": 1e-2}),
               engine.Member(3, "l1_l2", {"hidden_kernel": 1e-4, "hidden_bias": 1e-4,
                                         "output_kernel": 1e-3, "output_bias": 1e-3})]
    assert_matches_keras(SPLIT, members, epochs=100, batch_size=32)


def test_decoupled_decay_matches_keras_adamw():
    # AdamW shrinks every weight by decay * learning_rate per step, 10% over these 100 steps
    # at decay 1, so an engine that ignored it would miss by far more than the tolerance.
    members = [engine.Member(0, decay=dict.fromkeys(models.GROUPS, 1.0)),
               engine.Member(2, "l2", {"hidden_kernel": 1e-3}, decay={"hidden_kernel": 0.5})]
    assert_matches_keras(SPLIT, members, epochs=100, batch_size=32)


def test_members_with_their_own_rows_match_keras_fit():
    # Another draw of the same data (a replication member) beside the shared split.
    other = data.make(moons(100, 0.2, 7, 30))
    members = [engine.Member(0, "l2", {"hidden_kernel": 1e-3}, data=other), engine.Member(1),
               engine.Member(2, "l1", {"hidden_kernel": 1e-3}, data=other)]
    assert_matches_keras(SPLIT, members, epochs=100, batch_size=32)


def test_final_test_rows_agree_with_the_test_accuracy():
    other = data.make(moons(100, 0.2, 3, 30))
    members = [engine.Member(0), engine.Member(1, data=other)]
    result = engine.train(SPLIT, members, hidden_units=HIDDEN, epochs=30, batch_size=32,
                          learning_rate=1e-3, progress=False)
    assert result.final_test_rows.shape == (2, len(SPLIT.y_test))
    np.testing.assert_array_equal(result.final_test_rows.mean(axis=1), result.final_test_score)
    predicted = engine.predict(models.network(HIDDEN), tuple(w[:1] for w in result.weights),
                               SPLIT.x_test)[0] > 0.5
    np.testing.assert_array_equal(predicted == SPLIT.y_test, result.final_test_rows[0])


def test_without_curves_the_final_numbers_are_the_same():
    members = [engine.Member(0), engine.Member(2, "l1", {"hidden_kernel": 1e-3})]
    kwargs = dict(hidden_units=HIDDEN, epochs=40, batch_size=8, learning_rate=1e-3,
                  progress=False)
    drawn, lean = (engine.train(SPLIT, members, curves=curves, **kwargs) for curves in (True, False))
    assert set(lean.history) == set(engine.TRAIN_RECORDS)
    assert set(drawn.history) == set(engine.TRAIN_RECORDS + engine.TEST_RECORDS)
    for name in ("final_train_score", "final_test_score", "final_train_loss", "final_test_loss",
                 "final_test_rows"):
        np.testing.assert_array_equal(getattr(drawn, name), getattr(lean, name), err_msg=name)
    for ours, theirs in zip(drawn.weights, lean.weights, strict=True):
        np.testing.assert_array_equal(ours, theirs)
    np.testing.assert_array_equal(drawn.history["test_score"][-1], lean.final_test_score)


def test_a_stage_process_skips_keras_and_loads_its_program_from_the_cache(tmp_path):
    # Keras costs 1.1-1.4 s of every stage's start-up, and TensorFlow would import it unasked;
    # compiling costs about 1 s, which XLA's persistent cache saves the next process. Without
    # WEIGHTREG_BACKEND, Dask is not imported either.
    script = ("import sys; from weightreg import data, engine; from weightreg.params import moons;"
              "r = engine.train(data.make(moons(40, 0.2, 1, 20)), [engine.Member(0)],"
              " hidden_units=8, epochs=2, batch_size=32, learning_rate=1e-3, progress=False);"
              "assert 'keras' not in sys.modules, 'keras was imported';"
              "assert 'distributed' not in sys.modules, 'dask was imported'; print(r.weights[0])")
    env = {name: value for name, value in os.environ.items()
           if name not in ("TF_XLA_FLAGS", "WEIGHTREG_BACKEND")}
    env["WEIGHTREG_XLA_CACHE"] = str(tmp_path)  # (this process set TF_XLA_FLAGS for its own)
    runs, cached = [], []
    for _ in range(2):
        runs.append(subprocess.run([sys.executable, "-c", script], env=env, check=True,
                                   capture_output=True, text=True))
        cached.append({path: path.stat().st_mtime_ns for path in tmp_path.glob("*XLA_CPU_JIT*")})
    assert cached[0], "nothing was cached"
    assert cached[1] == cached[0]  # the second process read the programs, wrote none
    assert runs[0].stdout == runs[1].stdout
    assert runs[1].stderr == ""  # loading from the cache logs nothing the user sees


def test_several_batches_per_epoch_match_keras_fit():
    # 50 training rows in batches of 16: three full batches and one of 2 rows per epoch.
    split = data.make(moons(120, 0.2, 1, 50))
    members = [engine.Member(0, "l2", {"hidden_kernel": 1e-3}), engine.Member(5)]
    assert_matches_keras(split, members, epochs=15, batch_size=16)


def test_members_are_independent_of_their_neighbours():
    alone = engine.Member(3, "l2", {"hidden_kernel": 1e-2})
    crowd = [engine.Member(7, "l1", dict.fromkeys(models.GROUPS, 1e-1)), alone, engine.Member(0)]
    kwargs = dict(hidden_units=HIDDEN, epochs=50, batch_size=8, learning_rate=1e-3,
                  progress=False)  # 30 rows in batches of 8: shuffled every epoch
    single = engine.train(SPLIT, [alone], **kwargs)
    together = engine.train(SPLIT, crowd, **kwargs)
    for ours, theirs in zip(single.weights, together.weights):
        np.testing.assert_allclose(ours[0], theirs[1], atol=1e-6, rtol=0)
    np.testing.assert_array_equal(single.history["test_score"][:, 0],
                                  together.history["test_score"][:, 1])


def test_schedule_scales_the_penalty_epoch_by_epoch():
    # A schedule of zeros then the strength equals training unregularized, then regularized.
    kwargs = dict(hidden_units=HIDDEN, batch_size=32, learning_rate=1e-3, progress=False)
    lam = np.array([0.0] * 20 + [1e-2] * 20)
    scheduled = engine.train(SPLIT, [engine.Member(0, "l2", {"hidden_kernel": 1.0}, schedule=lam)],
                             epochs=40,
                             **kwargs)
    plain = engine.train(SPLIT, [engine.Member(0)], epochs=20, **kwargs)
    then = engine.train(SPLIT, [engine.Member(0, "l2", {"hidden_kernel": 1e-2})], epochs=20,
                        initial=plain.weights, **kwargs)
    np.testing.assert_allclose(scheduled.history["test_total"][:20, 0],
                               plain.history["test_total"][:, 0], atol=1e-6)
    # Adam's moments restart in the second run, so compare the regularized phase loosely.
    assert scheduled.history["test_total"][-1, 0] > scheduled.history["test_loss"][-1, 0]
    assert abs(scheduled.norms()["hidden_kernel"][0] - then.norms()["hidden_kernel"][0]) < 0.1


def test_exported_member_predicts_like_the_engine(tmp_path):
    import keras

    members = [engine.Member(4, "l2", {"hidden_kernel": 1e-3}), engine.Member(1)]
    result = engine.train(SPLIT, members, hidden_units=HIDDEN, epochs=20, batch_size=32,
                          learning_rate=1e-3, progress=False)
    path = tmp_path / "member.keras"
    path.write_bytes(models.keras_bytes(models.network(HIDDEN),
                                        tuple(w[0] for w in result.weights), "l2",
                                        {"hidden_kernel": 1e-3}, 1e-3))
    loaded = keras.models.load_model(path)
    theirs = loaded.predict(SPLIT.x_test, verbose=0)[:, 0]
    ours = engine.predict(models.network(HIDDEN), result.weights, SPLIT.x_test)[0]
    np.testing.assert_allclose(theirs, ours, atol=1e-6)
    assert loaded.layers[0].kernel_regularizer.l2 == pytest.approx(1e-3)


@pytest.mark.parametrize("curves", [True, False])
def test_divergence_is_reported_per_member(curves):
    members = [engine.Member(0), engine.Member(1, "l2", {"hidden_kernel": 1e30})]
    result = engine.train(SPLIT, members, hidden_units=HIDDEN, epochs=5, batch_size=32,
                          learning_rate=1e-3, progress=False, curves=curves)
    assert result.diverged_at[0] == -1 and result.diverged_at[1] >= 0
    # The last update going bad shows in the final losses only (without curves).
    last = engine.train(SPLIT, [engine.Member(0)], hidden_units=HIDDEN, epochs=1,
                        batch_size=32, learning_rate=1e36, progress=False, curves=curves)
    assert list(last.diverged_at) == [0]


def test_group_sizes():
    assert engine.group_sizes(600, 64) == (10, 60)
    assert engine.group_sizes(130, 64) == (3, 44)
    assert engine.group_sizes(5, 64) == (1, 5)
    # Split for several CPUs: 4, 2 or 1 groups, of at least 12 members each.
    assert engine.group_sizes(10, 64, split=4) == (1, 10)
    assert engine.group_sizes(24, 64, split=4) == (2, 12)
    assert engine.group_sizes(30, 64, split=4) == (2, 15)  # a 5-fold grid of 6 values
    assert engine.group_sizes(40, 64, split=4) == (2, 20)
    assert engine.group_sizes(60, 64, split=4) == (4, 15)
    assert engine.group_sizes(180, 64, split=4) == (4, 45)
    assert engine.group_sizes(700, 64, split=4) == (11, 64)


def test_groups_of_members_give_the_same_results(monkeypatch, capsys):
    members = [engine.Member(seed, "l2", {"hidden_kernel": 10.0 ** -seed}) for seed in range(5)]
    kwargs = dict(hidden_units=HIDDEN, epochs=30, batch_size=32, learning_rate=1e-3)
    whole = engine.train(SPLIT, members, progress=False, **kwargs)
    monkeypatch.setattr(cluster, "cpus", lambda: 2)
    # 3 groups of 2 (1 spare member), trained two at a time in threads. A group's size changes
    # the last bits, so the two runs agree to round-off only.
    grouped = engine.train(SPLIT, members, members_per_call=2, progress=True, **kwargs)
    assert "3/3 groups done" in capsys.readouterr().err
    for ours, theirs in zip(whole.weights, grouped.weights, strict=True):
        np.testing.assert_allclose(ours, theirs, atol=1e-6, rtol=0)
    np.testing.assert_array_equal(whole.history["test_score"], grouped.history["test_score"])
    # The same groups in threads or one after another: the same bytes.
    monkeypatch.setattr(cluster, "cpus", lambda: 1)
    one_by_one = engine.train(SPLIT, members, members_per_call=2, progress=False, **kwargs)
    for ours, theirs in zip(one_by_one.weights, grouped.weights, strict=True):
        np.testing.assert_array_equal(ours, theirs)
    for name, values in one_by_one.history.items():
        np.testing.assert_array_equal(grouped.history[name], values, name)


@pytest.mark.parametrize("seed", [0, 1, 9, 12345])
def test_initial_weights_are_those_of_the_keras_model(seed):
    import keras

    keras.utils.set_random_seed(seed)
    built = models.mlp(HIDDEN).get_weights()
    for ours, theirs in zip(models.initial_weights(seed, HIDDEN), built, strict=True):
        np.testing.assert_array_equal(ours, theirs)


# Every task, on real data, as Keras writes it: two hidden layers, several batches per epoch
# (shuffle off, so both sum the rows in one order), from the same initial weights.
TASKS_ON_REAL_DATA = [
    ("breast_cancer", "binary", 2),  # 100 rows: batches of 32, 32, 32 and 4
    ("wine", "multiclass", 3),
    ("diabetes", "regression", 1),
]


def real(source):
    settings = params.moons()
    return prepared.prepare(dataclasses.replace(settings, source=source, n_train=100))


@pytest.mark.parametrize("source, task, outputs", TASKS_ON_REAL_DATA)
def test_each_task_matches_keras_fit_with_two_hidden_layers(source, task, outputs):
    dataset = real(source)
    assert dataset.task.name == task and dataset.task.outputs == (outputs if task == "multiclass" else 1)
    hidden, epochs = (16, 8), 30
    members = [engine.Member(0), engine.Member(3, "l2", {"hidden_kernel": 1e-2}),
               engine.Member(5, "l1", {"hidden_kernel": 1e-3, "output_kernel": 1e-3})]
    split = dataset.split
    result = engine.train(split, members, hidden_units=hidden, task=dataset.task, epochs=epochs,
                          batch_size=32, learning_rate=1e-3, shuffle=False, progress=False)
    for k, member in enumerate(members):
        keras = backend.keras()
        keras.utils.set_random_seed(member.seed)
        model = models.mlp(hidden, member.kind, member.penalties,
                           inputs=split.x_train.shape[1], task=dataset.task)
        # The engine's initial weights are the ones Keras draws for this seed, bit for bit.
        for ours, theirs in zip(models.initial_weights(member.seed, hidden,
                                                       split.x_train.shape[1],
                                                       dataset.task.outputs),
                                model.get_weights(), strict=True):
            np.testing.assert_array_equal(ours, theirs)
        y_train = split.y_train if task != "regression" else split.y_train[:, None]
        y_test = split.y_test if task != "regression" else split.y_test[:, None]
        history = model.fit(split.x_train, y_train, epochs=epochs, batch_size=32, shuffle=False,
                            verbose=0, validation_data=(split.x_test, y_test)).history
        for group, theirs, ours in zip(models.groups(2), model.get_weights(), result.weights,
                                       strict=True):
            np.testing.assert_allclose(ours[k], theirs, atol=1e-5, rtol=0,
                                       err_msg=f"{source}, member {k}, {group}")
        np.testing.assert_allclose(result.history["train_total"][:, k], history["loss"],
                                   rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(result.history["test_total"][:, k], history["val_loss"],
                                   rtol=1e-5, atol=1e-5)
        if task == "regression":  # R² of the final weights, as scikit-learn computes it
            from sklearn.metrics import r2_score

            expected = r2_score(split.y_test, model.predict(split.x_test, verbose=0)[:, 0])
            assert result.final_test_score[k] == pytest.approx(expected, abs=1e-5)
        else:
            for ours, theirs, rows in (("train_score", "accuracy", len(split.y_train)),
                                       ("test_score", "val_accuracy", len(split.y_test))):
                np.testing.assert_array_equal(np.rint(result.history[ours][:, k] * rows),
                                              np.rint(np.array(history[theirs]) * rows))


def test_one_training_step_is_keras_train_on_batch():
    tf = backend.tensorflow()
    dataset = real("wine")
    x, y = dataset.split.x_train[:32], dataset.split.y_train[:32]
    member = engine.Member(2, "l2", {"hidden_kernel": 1e-2})
    network = models.network((8, 8), x.shape[1], dataset.task.outputs)
    arrays = engine._member_arrays([member], network, 1)
    weights = tuple(tf.constant(w) for w in arrays.initial)
    zeros = tuple(tf.zeros_like(w) for w in weights)
    state, (score, loss, total) = engine.train_step(
        dataset.task, network, engine.State(weights, zeros, zeros, tf.constant(0.0)),
        engine.Batch(tf.constant(x[None]), tf.constant(y[None]), tf.ones([32])),
        scale=tf.ones([1]), coefficients=engine.Coefficients(
            tf.constant(arrays.l1), tf.constant(arrays.l2), tf.constant(arrays.decay)),
        learning_rate=tf.constant(1e-3))
    new_weights = state.weights
    assert float(state.step) == 1.0
    keras = backend.keras()
    keras.utils.set_random_seed(2)
    model = models.mlp((8, 8), "l2", member.penalties, inputs=x.shape[1], task=dataset.task)
    reference = model.train_on_batch(x, y, return_dict=True)
    for ours, theirs in zip(new_weights, model.get_weights(), strict=True):
        np.testing.assert_allclose(ours[0], theirs, atol=1e-6, rtol=0)
    assert float(total[0]) / 32 == pytest.approx(reference["loss"], rel=1e-5)
    assert float(score[0]) / 32 == pytest.approx(reference["accuracy"], abs=1e-6)


def test_large_sets_are_scored_in_chunks_with_the_same_numbers(monkeypatch):
    # Evaluation over chunks of rows (bounded memory) against one pass over all rows.
    dataset = real("digits")
    members = [engine.Member(0), engine.Member(1, "l2", {"hidden_kernel": 1e-3})]
    kwargs = dict(hidden_units=(32,), task=dataset.task, epochs=3, batch_size=32,
                  learning_rate=1e-3, progress=False, curves=True)
    whole = engine.train(dataset.split, members, **kwargs)
    engine._PROGRAMS.clear()
    monkeypatch.setattr(engine, "EVALUATION_ROWS", 24)  # 540 test rows: 23 chunks, one partial
    chunked = engine.train(dataset.split, members, **kwargs)
    engine._PROGRAMS.clear()
    np.testing.assert_array_equal(whole.final_test_rows, chunked.final_test_rows)
    np.testing.assert_array_equal(whole.final_test_score, chunked.final_test_score)
    np.testing.assert_allclose(whole.final_test_loss, chunked.final_test_loss, rtol=1e-5)
    np.testing.assert_allclose(whole.history["test_loss"], chunked.history["test_loss"],
                               rtol=1e-5)


# Each task once, scored in one pass (1024 rows at once) or in chunks of rows (16).
@pytest.mark.parametrize("source, evaluation_rows",
                         [("breast_cancer", 1024), ("wine", 16), ("diabetes", 16)])
def test_members_own_rows_of_different_sizes_train_in_one_call_as_each_alone(
        source, evaluation_rows, monkeypatch):
    # k-fold folds differ in size by a row or so: one call pads them to the longest and masks
    # the padding. 70, 69 and 65 rows are 3 batches of 32 (the last one partial); 64 rows are
    # 2 batches, so that member goes into a call of its own.
    monkeypatch.setattr(engine, "EVALUATION_ROWS", evaluation_rows)
    engine._PROGRAMS.clear()
    split = real(source).split
    task = real(source).task
    sizes = ((70, 30), (69, 31), (65, 27), (64, 30))
    own = [data.Split(split.x_train[:n], split.y_train[:n], split.x_test[:m], split.y_test[:m])
           for n, m in sizes]
    members = [engine.Member(seed, "l2", {"hidden_kernel": 1e-3}, data=rows)
               for seed, rows in enumerate(own)]
    kwargs = dict(hidden_units=(16, 8), task=task, epochs=12, batch_size=32,
                  learning_rate=1e-3, progress=False, curves=True)
    together = engine.train(split, members, **kwargs)
    np.testing.assert_array_equal(together.test_counts, [m for _, m in sizes])
    assert together.final_test_rows.shape == (4, 31)
    for k, member in enumerate(members):
        alone = engine.train(split, [member], **kwargs)
        for ours, theirs in zip(together.weights, alone.weights, strict=True):
            np.testing.assert_allclose(ours[k], theirs[0], atol=1e-6, rtol=0)
        for name in ("final_train_score", "final_test_score", "final_train_loss",
                     "final_test_loss"):
            np.testing.assert_allclose(getattr(together, name)[k], getattr(alone, name)[0],
                                       rtol=1e-5, atol=1e-6, err_msg=f"member {k}, {name}")
        for name, values in alone.history.items():
            np.testing.assert_allclose(together.history[name][:, k], values[:, 0], rtol=1e-5,
                                       atol=1e-6, err_msg=f"member {k}, {name}")
        m = together.test_counts[k]
        np.testing.assert_allclose(together.final_test_rows[k, :m], alone.final_test_rows[0],
                                   rtol=1e-5, atol=1e-6)
        assert not together.final_test_rows[k, m:].any()  # padding: False, or 0
    engine._PROGRAMS.clear()


STOPPING = engine.EarlyStopping(patience=10, min_delta=0.0, validation_split=0.2)


def test_early_stopping_matches_keras_fit_seed_by_seed():
    # fit(validation_split=0.2, callbacks=[EarlyStopping(patience=10,
    # restore_best_weights=True)]): 24 rows train (one batch, so no shuffle order to differ
    # in), the last 6 watch val_loss, which includes the penalty. At learning rate 1e-2 the
    # members stop after 20-30 epochs (at 1e-3 some run all 4000: tried, they agree too).
    keras = backend.keras()
    members = [engine.Member(0), engine.Member(1, "l2", {"hidden_kernel": 1e-3}),
               engine.Member(2), engine.Member(3, "l2", {"hidden_kernel": 1e-2})]
    result = engine.train(SPLIT, members, hidden_units=HIDDEN, epochs=4000, batch_size=32,
                          learning_rate=1e-2, early_stopping=STOPPING, progress=False,
                          curves=False)
    assert (result.epochs_run < 100).all() and (result.best_epoch < result.epochs_run).all()
    for k, member in enumerate(members):
        model = models.mlp(HIDDEN, member.kind, member.penalties, learning_rate=1e-2)
        model.set_weights(models.initial_weights(member.seed, HIDDEN))
        callback = keras.callbacks.EarlyStopping(monitor="val_loss", patience=10,
                                                 restore_best_weights=True)
        history = model.fit(SPLIT.x_train, SPLIT.y_train, epochs=4000, batch_size=32,
                            validation_split=0.2, callbacks=[callback], verbose=0).history
        assert result.epochs_run[k] == len(history["loss"]), f"member {k}"
        assert result.best_epoch[k] == callback.best_epoch + 1, f"member {k}"
        for group, theirs, ours in zip(models.GROUPS, model.get_weights(), result.weights):
            np.testing.assert_allclose(ours[k], theirs, atol=1e-5, rtol=0,
                                       err_msg=f"member {k}, {group}")
        accuracy = np.mean((model.predict(SPLIT.x_test, verbose=0)[:, 0] > 0.5) == SPLIT.y_test)
        assert result.final_test_score[k] == accuracy, f"member {k}"
        # The history stops where the member did.
        assert np.isnan(result.history["train_loss"][result.epochs_run[k]:, k]).all()
        assert np.isfinite(result.history["train_loss"][:result.epochs_run[k], k]).all()


def test_early_stopping_keeps_the_best_epoch_and_members_stop_on_their_own():
    # A member alone, and in a population with its own rows (a fold of another size), ends
    # with the weights that training without early stopping reaches at its best epoch, on the
    # same first 80% of its rows.
    source = real("breast_cancer")
    split, task = source.split, source.task
    # Folds of 200 and 197 rows train in one call (padded, ragged); the split's 398 in another.
    members = [engine.Member(0, "l2", {"hidden_kernel": 1e-3})] + [
        engine.Member(seed, data=data.Split(split.x_train[:n], split.y_train[:n], split.x_test,
                                            split.y_test))
        for seed, n in ((1, 200), (2, 197))]
    kwargs = dict(hidden_units=(16, 8), task=task, batch_size=32, learning_rate=1e-2,
                  progress=False, curves=False)
    together = engine.train(split, members, epochs=300, early_stopping=STOPPING, **kwargs)
    # Two stop early (after 109 and 57 epochs); the third's loss on its watched rows, all of
    # them right, still falls at epoch 300, its best.
    assert (together.epochs_run < 300).sum() == 2
    for k, member in enumerate(members):
        rows = member.data or split
        cut = STOPPING.cut(len(rows.y_train))
        first = data.Split(rows.x_train[:cut], rows.y_train[:cut], rows.x_test, rows.y_test)
        plain = engine.train(first, [dataclasses.replace(member, data=None)],
                             epochs=int(together.best_epoch[k]), **kwargs)
        for ours, theirs in zip(together.weights, plain.weights, strict=True):
            np.testing.assert_allclose(ours[k], theirs[0], atol=1e-6, rtol=0,
                                       err_msg=f"member {k}")
        alone = engine.train(split, [member], epochs=300, early_stopping=STOPPING, **kwargs)
        assert alone.epochs_run[0] == together.epochs_run[k]
        assert alone.best_epoch[0] == together.best_epoch[k]


def test_early_stopping_refuses_a_split_that_leaves_no_rows():
    with pytest.raises(ValueError, match="validation_split = 0.99 leaves 0 of 30 training"):
        engine.train(SPLIT, [engine.Member(0)], hidden_units=8, epochs=2, batch_size=32,
                     learning_rate=1e-3, progress=False,
                     early_stopping=engine.EarlyStopping(validation_split=0.99))
