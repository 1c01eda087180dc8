"""The GPU column's export: the programs, inputs and reference it writes are the engine's own,
and the runner's check fails where it should. (Running the programs needs JAX, which the
project does not install; the README gives the GPU numbers it measured.)"""

import json

import numpy as np
import pytest
from tensorflow.compiler.xla import xla_data_pb2
from tensorflow.compiler.xla.service import hlo_pb2

from weightreg import data, engine
from weightreg.bench import gpu as bench_gpu
from weightreg.bench import speed as bench

SIZES = (1, 12)  # one member, and a population that repeats the ten seeds
XLA_TYPES = {"float32": "F32", "int32": "S32", "uint32": "U32"}


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    folder = tmp_path_factory.mktemp("gpu")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(bench_gpu, "SIZES", SIZES)
        bench_gpu.export(folder)
    return folder


def test_each_program_takes_the_inputs_the_runner_gives_it(exported):
    layout = json.loads((exported / "layout.json").read_text())
    inputs = np.load(exported / "inputs.npz")
    assert layout["sizes"] == list(SIZES)
    for k in SIZES:
        program = hlo_pb2.HloModuleProto.FromString((exported / f"chunk_{k}.hlo.pb").read_bytes())
        parameters = [(tuple(p.dimensions), xla_data_pb2.PrimitiveType.Name(p.element_type))
                      for p in program.host_program_shape.parameters]
        grown = [bench_gpu._grown(inputs[name], name, k) for name in layout["names"]]
        assert parameters == [(a.shape, XLA_TYPES[a.dtype.name]) for a in grown]
    assert bench_gpu._grown(inputs["seeds"], "seeds", 12).tolist() == [*range(10), 0, 1]


def test_the_reference_is_what_the_engine_trains(exported):
    stored = np.load(exported / "reference.npz")
    reference = [stored[f"arr_{i}"] for i in range(len(stored.files))]
    result = engine.train(data.make(bench.DATA), bench.population(bench_gpu.BASE),
                          hidden_units=bench.HIDDEN_UNITS, epochs=bench_gpu.CHECK_EPOCHS,
                          batch_size=bench.BATCH_SIZE, learning_rate=bench.LEARNING_RATE,
                          progress=False)
    for stored_weights, trained in zip(reference[:4], result.weights):
        np.testing.assert_array_equal(stored_weights, trained)
    records = reference[-1][:bench_gpu.CHECK_EPOCHS]  # [epochs, records, K]
    np.testing.assert_array_equal(records[:, engine.TRAIN_RECORDS.index("train_loss")],
                                  result.history["train_loss"])


def test_the_check_passes_the_reference_and_fails_a_wrong_or_missing_number(exported):
    stored = np.load(exported / "reference.npz")
    reference = [stored[f"arr_{i}"] for i in range(len(stored.files))]
    epochs = bench_gpu.CHECK_EPOCHS
    assert bench_gpu._error(reference, reference, epochs) == 0.0
    shifted = [a.copy() for a in reference]
    shifted[0] *= 1.001  # the hidden kernel, 0.1% off
    assert bench_gpu._error(shifted, reference, epochs) == pytest.approx(1e-3, rel=1e-3)
    shifted[-1][epochs - 1, 0, 3] = np.nan  # a record of the last checked epoch
    assert bench_gpu._error(shifted, reference, epochs) == float("inf")
    broken = [a.copy() for a in reference]
    broken[-1][0, 1, 2] = np.nan  # a reference that is not finite fails too
    assert bench_gpu._error(reference, broken, epochs) == float("inf")


def test_one_wrong_member_among_thousands_fails():
    """Members are compared one by one, so one member 1% off is not averaged away."""
    stored_like = [np.random.default_rng(0).normal(size=(bench_gpu.BASE, 2, 500)),
                   np.ones(()), np.ones((500, 6, bench_gpu.BASE))]
    members = 5000
    grown = [np.take(stored_like[0], np.arange(members) % bench_gpu.BASE, axis=0),
             stored_like[1], np.take(stored_like[2], np.arange(members) % 10, axis=2)]
    assert bench_gpu._error(grown, stored_like, 10) == 0.0
    grown[0][4321] *= 1.01
    assert bench_gpu._error(grown, stored_like, 10) == pytest.approx(1e-2, rel=1e-6)
    grown[2][3, 0, 17] = 2.0  # and a record of one member, here 17
    assert bench_gpu._error(grown, stored_like, 10) == pytest.approx(1 / np.sqrt(10 * 6),
                                                                     rel=1e-6)
