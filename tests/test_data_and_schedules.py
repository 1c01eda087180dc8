"""Two moons against scikit-learn, the prepared split's file, and the lambda schedules. (The
other sources are in test_sources.py.)"""

import numpy as np
import pytest
from sklearn.datasets import make_moons

from weightreg import data, io, params, schedules


def test_split_is_the_tutorials():
    x, y = make_moons(n_samples=100, noise=0.2, random_state=1)
    split = data.make(params.moons())
    np.testing.assert_array_equal(split.x_train, x[:30].astype(np.float32))
    np.testing.assert_array_equal(split.y_train, y[:30])
    np.testing.assert_array_equal(split.x_test, x[30:].astype(np.float32))
    np.testing.assert_array_equal(split.y_test, y[30:])


def test_prepared_split_round_trip_is_exact_and_its_bytes_repeat(tmp_path):
    dataset = data.prepare(params.moons())
    content = data.to_bytes(dataset)
    assert content == data.to_bytes(data.prepare(params.moons()))  # DVC hashes the bytes
    (tmp_path / "split.npz").write_bytes(content)
    back = data.load(tmp_path / "split.npz")
    for name in data.ARRAYS:
        np.testing.assert_array_equal(getattr(back.split, name), getattr(dataset.split, name))
    assert (back.task, back.features, back.classes) == (dataset.task, ("x1", "x2"), ("0", "1"))


def test_points_table_of_two_moons_is_every_point_in_the_generators_order(tmp_path):
    (tmp_path / "points.csv").write_text(data.points_csv(data.prepare(params.moons())))
    table = io.read_csv(tmp_path / "points.csv")
    x, y = make_moons(n_samples=100, noise=0.2, random_state=1)
    np.testing.assert_array_equal(table["x1"], x[:, 0].astype(np.float32))
    np.testing.assert_array_equal(table["y"], y)
    assert list(table["split"]) == ["train"] * 30 + ["test"] * 70


@pytest.mark.parametrize("content", [b"", b"x1,x2\n1,2\n", b"PK\x03\x04broken"])
def test_damaged_split_is_refused(tmp_path, content):
    (tmp_path / "split.npz").write_bytes(content)
    with pytest.raises(io.BadInput, match="dvc repro data"):
        data.load(tmp_path / "split.npz")


SMITHING = [(0, 0.0), (1200, 1e-5), (2500, 1e-4), (4000, 1e-3)]


def test_step_schedule_holds_each_value_from_its_epoch():
    lam = schedules.smithing(5000, SMITHING, "step")
    assert lam[0] == lam[1199] == 0.0
    assert lam[1200] == lam[2499] == 1e-5
    assert lam[2500] == lam[3999] == 1e-4
    assert lam[4000] == lam[4999] == 1e-3


def test_linear_schedule_ramps_between_points():
    lam = schedules.piecewise(np.array([0, 600, 1200, 1850, 4000, 4500]), SMITHING, "linear")
    np.testing.assert_allclose(lam, [0.0, 5e-6, 1e-5, 5.5e-5, 1e-3, 1e-3])


def test_repeated_schedule_continues_after_plain_training():
    lam = schedules.repeated(10, [1e-6, 1e-5], 3)
    np.testing.assert_array_equal(lam, [0.0] * 10 + [1e-6] * 3 + [1e-5] * 3)
