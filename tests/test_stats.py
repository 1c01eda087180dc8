"""Statistics against SciPy and hand checks."""

import numpy as np
import pytest
from scipy import stats as scipy_stats

from weightreg import stats


def test_t_interval_matches_scipy():
    values = [0.9, 0.93, 0.91, 0.94, 0.92]
    low, high = stats.t_interval(values)
    expected = scipy_stats.t.interval(0.95, 4, loc=np.mean(values), scale=scipy_stats.sem(values))
    np.testing.assert_allclose((low, high), expected)


def test_interval_of_identical_values_is_a_point():
    assert stats.t_interval([0.5, 0.5, 0.5]) == (0.5, 0.5)
    assert stats.describe([0.7]) == {"mean": 0.7, "std": 0.0, "lo": 0.7, "hi": 0.7}


def test_sign_flip_by_hand():
    # Ten seeds, each better by the same amount: only "all plus" and "all minus" are as
    # extreme as observed, out of 2^10 sign assignments.
    assert stats.sign_flip_p([0.0286] * 10) == pytest.approx(2 / 1024)
    assert stats.sign_flip_p([0.0] * 10) == 1.0
    # Three seeds, differences 1, 2, 3: |mean| >= 2 for (+++) and (---) only: 2 of 8.
    assert stats.sign_flip_p([1.0, 2.0, 3.0]) == pytest.approx(2 / 8)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sign_flip_matches_scipy_permutation_test(seed):
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=9), rng.normal(size=9) + 0.5
    expected = scipy_stats.permutation_test(
        (a, b), lambda x, y: np.mean(x - y), permutation_type="samples",
        alternative="two-sided", n_resamples=np.inf).pvalue
    assert stats.paired(a, b)["p_value"] == pytest.approx(expected)


def test_paired_difference_and_interval():
    result = stats.paired([3.0, 4.0, 5.0], [1.0, 1.0, 1.0])
    assert result["diff"] == pytest.approx(3.0)
    np.testing.assert_allclose([result["lo"], result["hi"]], scipy_stats.t.interval(
        0.95, 2, loc=3.0, scale=scipy_stats.sem([2.0, 3.0, 4.0])))


def test_mcnemar_counts_only_discordant_rows():
    # 7 rows: both right on 2, both wrong on 1, only the treated right on 3, only the control on 1.
    treated = np.array([1, 1, 0, 1, 1, 1, 0], bool)
    control = np.array([1, 1, 0, 0, 0, 0, 1], bool)
    # By hand: 4 discordant rows, 3 favour the treated; the two-sided exact binomial p-value is
    # P(X <= 1) + P(X >= 3) for X ~ Binomial(4, 1/2) = (1 + 4 + 4 + 1) / 16.
    assert stats.mcnemar_p(treated, control) == pytest.approx(10 / 16)
    assert stats.mcnemar_p(control, treated) == pytest.approx(10 / 16)
    # Two rows that both go the treated's way: p = 2 * (1/2)^2.
    assert stats.mcnemar_p([1, 1, 1], [0, 0, 1]) == pytest.approx(0.5)
    assert stats.mcnemar_p([1, 0], [1, 0]) == 1.0  # no discordant row


def test_consensus_is_the_majority_of_seeds():
    by_seed = np.array([[1, 1, 0, 0], [1, 0, 1, 0], [1, 1, 0, 1]], bool)
    assert stats.consensus(by_seed).tolist() == [True, True, False, False]


def test_learning_curve_intervals_over_the_members_still_training():
    # Early stopping: NaN past a member's last epoch; each epoch's interval is over the rest.
    rows = np.array([[0.9, 0.8, 0.7], [0.9, 0.85, np.nan], [0.95, np.nan, np.nan]])
    low, high = stats.t_intervals(rows)
    for i, values in enumerate(([0.9, 0.8, 0.7], [0.9, 0.85])):
        np.testing.assert_allclose((low[i], high[i]), stats.t_interval(values))
    assert low[2] == high[2] == 0.95
