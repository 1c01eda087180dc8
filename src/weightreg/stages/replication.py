"""Stage `replication`: does the tutorial's gain survive other draws of the same data?

The tutorial judges l2(0.001) on one draw of two moons, by two test rows out of 70. This stage
trains no penalty, l2 at `replication.lambda` (the tutorial's 1e-3) and every grid value on
`replication.draws` draws (random_state = data.random_state + 0, 1, ...: another `make_moons`
sample of the same size, noise and split, or another train/test split of a fixed dataset; draw
0 is the study's data), `replication.seeds` seeds each, all in one engine call, and compares
every setting with no penalty draw by draw.
"""

import numpy as np

from weightreg import data, io, plots, stats, study
from weightreg.params import Params

NONE = ("none", 0.0)


def settings(params: Params) -> list[tuple[str, float]]:
    """(kind, lambda): no penalty, then l2 at the grid's values and at `replication.lambda`,
    the one the metrics report, strongest first. Its own lambda, not the top-level one, so that `dvc exp run -S
    lambda=...` does not retrain 100 draws."""
    values = sorted({*params.grid.values, params.replication.lam}, reverse=True)
    return [NONE, *(("l2", value) for value in values)]


def run(params: Params, *, members: str, table: str, metrics: str, figure: str) -> str:
    chosen = settings(params)
    drawn = data.draws(params.data, params.replication.draws)  # classes checked by `data`
    configurations = [
        study.Configuration(f"{study.describe(kind, lam) if lam else 'no penalty'}, "
                            f"random_state {r}",
                            {"random_state": r, "kind": kind, "lambda": lam},
                            "l2" if kind == "none" else kind,
                            {"hidden_kernel": lam} if lam else {}, data=dataset.split)
        for r, dataset in drawn for kind, lam in chosen]
    outcomes = study.sweep(params, drawn[0][1], configurations, "replication",
                           seeds=range(params.replication.seeds))
    # The test score per setting and draw (mean over seeds, to 12 digits so that equal row
    # counts compare equal): [settings, draws].
    score = study.score(outcomes[0].task)
    accuracy = np.array([round(o.test_score.mean(), 12) for o in outcomes])
    accuracy = accuracy.reshape(len(drawn), len(chosen)).T
    rows = compare(chosen, accuracy, score)
    headline = chosen.index(("l2", params.replication.lam))
    tutorial = rows[headline]
    io.write({
        members: study.members_table(outcomes, measures=study.scores),
        table: io.to_csv({key: [row[key] for row in rows] for key in rows[0]}),
        metrics: io.to_json({"replication_diff": tutorial["diff_vs_none"],
                             "replication_diff_lo": tutorial["diff_vs_none_lo"],
                             "replication_diff_hi": tutorial["diff_vs_none_hi"],
                             "replication_helps": tutorial["helps"],
                             "replication_p": tutorial["p_value"]}),
        figure: plots.png(plots.replication(
            [study.describe(kind, lam) if lam else "none" for kind, lam in chosen], accuracy,
            best_setting(chosen, accuracy), outcomes[0].task.score_name)),
    })
    name = study.describe(*chosen[headline])
    return (f"{len(chosen)} settings x {len(drawn)} draws x {params.replication.seeds} seeds: "
            f"{name} minus no penalty {tutorial['diff_vs_none']:+.3f} "
            f"[{tutorial['diff_vs_none_lo']:+.3f}, {tutorial['diff_vs_none_hi']:+.3f}], helps on "
            f"{tutorial['helps']:.0%} of draws, hurts on {tutorial['hurts']:.0%}")


def compare(chosen: list[tuple[str, float]], accuracy: np.ndarray,
            score: str = "test_score") -> list[dict]:
    """Each setting against no penalty (row 0 of `accuracy`, the test scores in column
    `score`), draw by draw: the mean difference
    with its 95% interval and sign-flip p-value, the fractions of draws where it helps, ties and
    hurts, and how often it is the best setting of a draw (ties: the stronger penalty)."""
    best = best_setting(chosen, accuracy)
    rows = []
    for s, (kind, lam) in enumerate(chosen):
        difference = accuracy[s] - accuracy[0]
        comparison = stats.paired(accuracy[s], accuracy[0])
        rows.append({"kind": kind, "lambda": lam, score: float(accuracy[s].mean()),
                     "diff_vs_none": comparison["diff"], "diff_vs_none_lo": comparison["lo"],
                     "diff_vs_none_hi": comparison["hi"], "p_value": comparison["p_value"],
                     "helps": float(np.mean(difference > 0)),
                     "ties": float(np.mean(difference == 0)),
                     "hurts": float(np.mean(difference < 0)),
                     "best": float(np.mean(best == s))})
    return rows


def best_setting(chosen: list[tuple[str, float]], accuracy: np.ndarray) -> np.ndarray:
    """The index of the best setting of each draw (ties: the stronger penalty)."""
    strength = [lam for _, lam in chosen]
    return np.array([max(range(len(chosen)), key=lambda s: (accuracy[s, d], strength[s]))
                     for d in range(accuracy.shape[1])])
