"""The study's searches: successive halving over seeds against training every configuration on
every seed, on real rows (scikit-learn's breast_cancer)."""

import copy

import numpy as np

import tiny
from weightreg import data as prepared, params, stats, study


def settings(search: str, seeds: int = 10):
    raw = copy.deepcopy(tiny.TINY)
    raw["data"].update(source="breast_cancer", n_train=120)
    raw["train"].update(seeds=seeds, epochs=20, learning_rate=1e-2, early_stopping=None)
    raw["study"]["search"] = search
    return params.parse(raw)


def test_rungs_grow_by_three_up_to_every_seed():
    assert study.rungs(10) == [4, 10]
    assert study.rungs(30) == [4, 10, 30]
    assert study.rungs(6) == [6]  # a third of 6 is too few seeds to judge by: no halving
    assert study.rungs(9) == [3, 9]


def test_halving_stops_only_what_the_data_decided_against(tmp_path):
    p = settings("halving")
    dataset = prepared.prepare(p.data)
    # l1(1) leaves the network nothing to learn from: clearly worse than the others.
    configurations = [study.hidden_kernel(study.describe(kind, value), kind, value)
                      for kind, value in (("l2", 1e-4), ("l2", 1e-2), ("l1", 1.0))]
    halved = study.search(p, dataset, configurations, "test", p.study.search)
    full = study.search(p, dataset, configurations, "test", "exhaustive")
    assert [outcome.rung for outcome in full] == [None] * 3
    stopped = [outcome for outcome in halved if outcome.rung == 0]
    assert [o.configuration.label for o in stopped] == ["l1(1)"]
    assert [len(outcome.seeds) for outcome in halved] == [10, 10, 4]
    # Stopped because its paired interval against the best of the first rung lies below zero.
    first = {o.configuration.label: o.test_score[:4] for o in halved}
    best = max(first.values(), key=np.mean)
    assert stats.paired(first["l1(1)"], best)["hi"] < 0
    # A rung adds seeds: every member is the one an exhaustive search trains, seed by seed.
    for ours, theirs in zip(halved, full, strict=True):
        seeds = list(ours.seeds)
        assert seeds == list(range(len(seeds)))
        np.testing.assert_allclose(ours.test_score, theirs.test_score[:len(seeds)], atol=1e-6)
    rows = study.summaries(halved, _baseline(tmp_path, p, dataset))
    assert [row["seeds"] for row in rows] == [10, 10, 4]
    assert [row["rung"] for row in rows] == [2, 2, 1]
    # The best is chosen among the configurations that trained every seed.
    assert study.best(rows, [1e-4, 1e-2, 1.0]) in (0, 1)


def _baseline(tmp_path, p, dataset):
    (none,) = study.sweep(p, dataset, [study.Configuration(study.BASELINE)], "baseline")
    path = tmp_path / "baseline.csv"
    path.write_text(study.members_table([none], test_rows=True))
    return study.baseline(path)
