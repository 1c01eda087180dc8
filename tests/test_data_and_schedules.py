"""The data split against scikit-learn, the CSV round trip, and the lambda schedules."""

import numpy as np
import pytest
from sklearn.datasets import make_moons

from weightreg import data, io, schedules
from weightreg.params import Data


def test_split_is_the_tutorials():
    x, y = make_moons(n_samples=100, noise=0.2, random_state=1)
    split = data.make(Data(100, 0.2, 1, 30))
    np.testing.assert_array_equal(split.x_train, x[:30].astype(np.float32))
    np.testing.assert_array_equal(split.y_train, y[:30])
    np.testing.assert_array_equal(split.x_test, x[30:].astype(np.float32))
    np.testing.assert_array_equal(split.y_test, y[30:])


def test_csv_round_trip_is_exact():
    split = data.make(Data(100, 0.2, 1, 30))
    back = data.from_csv(data.to_csv(split))
    for name in ("x_train", "y_train", "x_test", "y_test"):
        np.testing.assert_array_equal(getattr(back, name), getattr(split, name))


@pytest.mark.parametrize("text", ["", "a,b\n1,2\n", "x1,x2,y,split\n1,2,oops,train\n0,1,0,test\n",
                                  "x1,x2,y,split\n1,2,1,train\n"])
def test_damaged_csv_is_refused(text):
    with pytest.raises(io.BadInput, match="data"):
        data.from_csv(text, "data/moons.csv")


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
