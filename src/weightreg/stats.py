"""Statistics over seeds: summaries with confidence intervals, and paired comparisons.

With 70 test rows one row is 1.4 points of accuracy, and the tutorial's differences are one or
two rows, so every comparison says how sure it is. Members with the same seed start from the
same weights, so comparisons between configurations are paired by seed.
"""

from __future__ import annotations

import itertools

import numpy as np

CONFIDENCE = 0.95
EXACT_LIMIT = 16  # seeds up to which the sign-flip test enumerates every assignment


def mean_std(values) -> tuple[float, float]:
    """Mean and sample standard deviation (ddof=1; 0 for a single value)."""
    values = np.asarray(values, dtype=np.float64)
    std = float(np.std(values, ddof=1)) if values.size > 1 else 0.0
    return float(np.mean(values)), std


def t_interval(values) -> tuple[float, float]:
    """The 95% confidence interval of the mean (Student's t; a point for one value)."""
    from scipy.stats import t

    values = np.asarray(values, dtype=np.float64)
    mean, std = mean_std(values)
    if values.size < 2 or std == 0:
        return mean, mean
    half = t.ppf((1 + CONFIDENCE) / 2, values.size - 1) * std / np.sqrt(values.size)
    return mean - half, mean + half


def t_intervals(rows) -> tuple[np.ndarray, np.ndarray]:
    """The 95% interval of the mean of each row of a [rows, samples] array, as `t_interval`
    gives it for one row: learning curves' bands, epoch by epoch."""
    from scipy.stats import t

    rows = np.asarray(rows, dtype=np.float64)
    if np.isnan(rows).any():  # members that stopped early: each row over the others
        return _t_intervals_ragged(rows)
    mean = rows.mean(axis=1)
    if rows.shape[1] < 2:
        return mean, mean
    half = t.ppf((1 + CONFIDENCE) / 2, rows.shape[1] - 1) * rows.std(axis=1, ddof=1)
    half /= np.sqrt(rows.shape[1])
    return mean - half, mean + half


def _t_intervals_ragged(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`t_intervals` of each row's values that are not NaN (a row of one: no width)."""
    from scipy.stats import t

    counts = np.sum(~np.isnan(rows), axis=1)
    mean = np.nanmean(rows, axis=1)
    several = counts >= 2
    half = np.zeros_like(mean)
    spread = np.nanstd(rows[several], axis=1, ddof=1)
    half[several] = t.ppf((1 + CONFIDENCE) / 2, counts[several] - 1) * spread
    half[several] /= np.sqrt(counts[several])
    return mean - half, mean + half


def describe(values) -> dict[str, float]:
    """Mean, standard deviation and 95% confidence interval (`lo`, `hi`) over seeds."""
    mean, std = mean_std(values)
    lo, hi = t_interval(values)
    return {"mean": mean, "std": std, "lo": lo, "hi": hi}


def sign_flip_p(differences) -> float:
    """Two-sided p-value of the paired sign-flip (permutation) test that the mean difference is 0.

    Under the null hypothesis each seed's difference is as likely to have either sign. Exact
    (every assignment enumerated) up to EXACT_LIMIT seeds, else 100,000 fixed random draws.
    Unlike the paired t-test it stays defined when every seed differs by the same amount, which
    happens here: most configurations classify the same rows whatever the seed.
    """
    d = np.asarray(differences, dtype=np.float64)
    observed = abs(d.mean())
    if observed == 0:
        return 1.0
    # A small tolerance keeps ties counted as ties despite round-off in the means.
    if d.size <= EXACT_LIMIT:
        signs = np.array(list(itertools.product((1.0, -1.0), repeat=d.size)))
        return float(np.mean(np.abs((signs * d).mean(axis=1)) >= observed - 1e-12))
    signs = np.random.default_rng(0).choice((1.0, -1.0), size=(100_000, d.size))
    extreme = np.sum(np.abs((signs * d).mean(axis=1)) >= observed - 1e-12)
    # The observed signs count as one draw, so a Monte-Carlo p-value is never 0.
    return float((1 + extreme) / (1 + len(signs)))


def paired(treated, control) -> dict[str, float]:
    """Difference treated - control paired by seed: mean, 95% interval, sign-flip p-value."""
    # Accuracies are fractions of rows: round off the float noise of their differences, so
    # "no difference" reads 0 rather than 5e-17.
    d = np.round(np.asarray(treated, np.float64) - np.asarray(control, np.float64), 12)
    low, high = t_interval(d)
    return {"diff": round(float(d.mean()), 12), "lo": round(low, 12), "hi": round(high, 12),
            "p_value": sign_flip_p(d)}


def mcnemar_p(treated_correct, control_correct) -> float:
    """Exact McNemar test over test rows: two-sided p-value that two classifiers, judged on the
    same rows, are equally accurate. Only discordant rows count: under the null hypothesis each
    is as likely to favour either, a binomial with p = 1/2 (`scipy.stats.binomtest`)."""
    from scipy.stats import binomtest

    treated = np.asarray(treated_correct, dtype=bool)
    control = np.asarray(control_correct, dtype=bool)
    only_treated = int(np.sum(treated & ~control))
    discordant = only_treated + int(np.sum(~treated & control))
    return 1.0 if discordant == 0 else float(binomtest(only_treated, discordant).pvalue)


def consensus(correct_by_seed) -> np.ndarray:
    """Per row, whether most seeds classify it right ([seeds, rows] -> [rows]): the rows a
    configuration gets right, whatever its seed, for the McNemar test."""
    correct = np.asarray(correct_by_seed, dtype=bool)
    return correct.mean(axis=0) > 0.5


def wilcoxon_p(treated_errors, control_errors) -> float:
    """Wilcoxon's signed-rank test over test rows (`scipy.stats.wilcoxon`): two-sided p-value
    that two regressors, judged on the same rows, have equal squared errors. Rows where both
    err equally carry no evidence and are dropped (`zero_method="wilcox"`); with none left, 1."""
    from scipy.stats import wilcoxon

    difference = np.asarray(treated_errors, np.float64) - np.asarray(control_errors, np.float64)
    if not np.any(difference != 0):
        return 1.0
    return float(wilcoxon(difference, zero_method="wilcox").pvalue)
