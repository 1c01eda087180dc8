"""The GPU column's export: the programs, inputs and reference it writes are the engine's own,
and the runner's check fails where it should. (Running the programs needs JAX, which the
project does not install; the README gives the GPU numbers it measured.)"""

import json

import numpy as np
import pytest
from tensorflow.compiler.xla.service import hlo_pb2

from weightreg import bench, bench_gpu, data, engine

SIZES = (1, 12)  # one member, and a population that repeats the ten seeds


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
        parameters = [tuple(p.dimensions) for p in program.host_program_shape.parameters]
        assert parameters == [bench_gpu._grown(inputs[name], name, k).shape
                              for name in layout["names"]]
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
    epochs, base = bench_gpu.CHECK_EPOCHS, bench_gpu.BASE
    assert bench_gpu._error(reference, reference, base, epochs) == 0.0
    shifted = [a.copy() for a in reference]
    shifted[0] *= 1.001  # the hidden kernel, 0.1% off
    assert bench_gpu._error(shifted, reference, base, epochs) == pytest.approx(1e-3, rel=1e-3)
    shifted[-1][epochs - 1, 0, 3] = np.nan  # a record of the last checked epoch
    assert bench_gpu._error(shifted, reference, base, epochs) == float("inf")
    # Two members cycle back to the first seeds: they are checked against those members.
    grown = [np.take(a, np.arange(12) % base, axis=0) for a in reference[:12]]
    grown += [reference[12], np.take(reference[13], np.arange(12) % base, axis=2)]
    assert bench_gpu._error(grown, reference, base, epochs) == 0.0
