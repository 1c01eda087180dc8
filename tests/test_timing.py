"""The whole study's time, estimated by the data stage before anything trains (`timing`), from
the engine calls the study makes (`sizes.needs`). How close the estimate comes to the time
taken is measured, not tested: `python -m weightreg.bench.study`."""

import dataclasses
import json
from pathlib import Path

import pytest

from weightreg import data, io, params, sizes, timing

ROOT = Path(__file__).resolve().parents[1]
RATE = timing.Rate(import_s=2.0, compile_s=1.0, call_s=0.1, step_1_s=1e-4, step_group_s=4e-4,
                   parallel=1.5)


def test_the_engine_calls_counted_are_the_members_the_committed_study_trained():
    """Every stage's members, as `needs` counts them from params.yaml, are the rows of the
    members table the committed study wrote at those params (one row per trained member)."""
    counted = {}
    for need in sizes.needs(params.load(ROOT / "params.yaml")):
        counted[need.stage] = counted.get(need.stage, 0) + need.members
    for stage, members in counted.items():
        table = ROOT / "members" / f"{stage}.csv"
        if stage == "boundaries":  # three models of seed 0, drawn, not tabled
            assert members == 3
            continue
        assert len(io.read_csv(table)["seed"]) == members, stage


def test_a_rate_is_measured_once_per_machine_and_shape(tmp_path, monkeypatch):
    measured = []
    monkeypatch.setattr(timing.backend, "xla_cache_folder", lambda: tmp_path / "xla")
    monkeypatch.setattr(timing, "measure", lambda p, d: measured.append(d) or RATE)
    p = params.load(ROOT / "params.yaml")
    dataset = data.prepare(p.data, 5)
    assert timing.rate(p, dataset) == RATE and timing.rate(p, dataset) == RATE
    assert len(measured) == 1  # the second read what the first kept
    timing.rate(dataclasses.replace(p, model=params.Model(64, None)), dataset)
    assert len(measured) == 2  # another network: measured again


def test_a_damaged_or_older_kept_rate_is_measured_again(tmp_path, monkeypatch):
    measured = []
    monkeypatch.setattr(timing.backend, "xla_cache_folder", lambda: tmp_path)
    monkeypatch.setattr(timing, "measure", lambda p, d: measured.append(d) or RATE)
    p = params.load(ROOT / "params.yaml")
    dataset = data.prepare(p.data, 5)
    for kept in ("{not json", json.dumps({timing.key(p, dataset): {"import_s": 1.0}})):
        (tmp_path / "rates.json").write_text(kept)
        assert timing.rate(p, dataset) == RATE
    assert len(measured) == 2


def no_home():
    raise RuntimeError("Could not determine home directory.")  # what Path.home() raises


@pytest.mark.parametrize("folder", [lambda: None, no_home])  # the cache off, or no home
def test_without_a_cache_folder_it_measures_each_time(monkeypatch, folder):
    measured = []
    monkeypatch.setattr(timing.backend, "xla_cache_folder", folder)
    monkeypatch.setattr(timing, "measure", lambda p, d: measured.append(d) or RATE)
    p = params.load(ROOT / "params.yaml")
    dataset = data.prepare(p.data, 5)
    timing.rate(p, dataset), timing.rate(p, dataset)
    assert len(measured) == 2


@pytest.mark.parametrize("section, key", [("replication", "draws"), ("train", "epochs")])
def test_the_estimate_follows_the_work(section, key):
    """Twice the draws or twice the epochs: twice replication's training; the plain Keras of
    `sequence` the same."""
    p = params.load(ROOT / "params.yaml")
    dataset = data.prepare(p.data, 5)
    part = getattr(p, section)
    doubled = dataclasses.replace(p, **{section: dataclasses.replace(
        part, **{key: 2 * getattr(part, key)})})
    base, more = timing.seconds(p, dataset, RATE), timing.seconds(doubled, dataset, RATE)
    start = timing.STAGE_START_S + RATE.import_s + RATE.compile_s + RATE.call_s
    assert more["replication"] - start == pytest.approx(2 * (base["replication"] - start))
    assert more["sequence"] == base["sequence"]
