"""The command line: bad input gets one clear line naming what is wrong, exit status 2, and
every earlier output left exactly as it was; a programming error keeps its traceback."""

import json
import time
from pathlib import Path

import pytest
import yaml

from weightreg import cli, data as prepared, params

ROOT = Path(__file__).resolve().parents[1]
GOOD = (ROOT / "params.yaml").read_text()
BASELINE = (ROOT / "members/baseline.csv").read_text()
# The data stage's split of the tutorial's two moons (DVC caches it; git does not keep it).
SPLIT = prepared.to_bytes(prepared.prepare(params.moons()))


def edit(key: str, value) -> str:
    raw = yaml.safe_load(GOOD)
    *parents, last = key.split(".")
    node = raw
    for part in parents:
        node = node[part]
    if value is KeyError:
        del node[last]
    else:
        node[last] = value
    return yaml.safe_dump(raw)


def data_stage(params_path, folder) -> list[str]:
    """The data stage's command line, its outputs in `folder`."""
    return ["data", "--params", str(params_path), "--split", str(folder / "split.npz"),
            "--points", str(folder / "points.csv"), "--metrics", str(folder / "data.json")]


def refused_by_data(tmp_path, capsys, key, value) -> str:
    """The data stage on params.yaml with `key` set to `value`: refused in one line, up front,
    nothing written. Returns the line."""
    (tmp_path / "params.yaml").write_text(edit(key, value))
    started = time.perf_counter()
    status = cli.main(data_stage(tmp_path / "params.yaml", tmp_path))
    error = capsys.readouterr().err
    assert status == 2 and error.count("\n") == 1, error
    assert time.perf_counter() - started < 30  # refused up front, not after training
    assert sorted(p.name for p in tmp_path.iterdir()) == ["params.yaml"]
    return error


def with_cell(text: str, row: int, column: str, value: str) -> str:
    """A CSV with one cell changed (row 1 is the first data row); `row` 0: every row."""
    lines = text.splitlines()
    at = lines[0].split(",").index(column)
    for i in range(1, len(lines)):
        if row in (0, i):
            cells = lines[i].split(",")
            cells[at] = value
            lines[i] = ",".join(cells)
    return "\n".join(lines) + "\n"


# (what is wrong, params.yaml text, data file text or None for a missing file, message parts,
# baseline members text)
CASES = [
    ("malformed yaml", "lambda: [1e-3\n", "good", ["params.yaml", "not valid YAML"]),
    ("not a mapping", "- 1\n- 2\n", "good", ["the top level", "mapping"]),
    ("wrong type", edit("train.epochs", "ten"), "good", ["train.epochs = 'ten'", "a number"]),
    ("out of range", edit("lambda", -0.5), "good", ["lambda = -0.5", ">= 0"]),
    ("unknown key", edit("train.seed", 3), "good", ["unknown key train.seed", "'seeds'"]),
    ("missing key", edit("model.hidden_units", KeyError), "good",
     ["missing key model.hidden_units"]),
    ("unknown regularizer", edit("regularizer", "L2"), "good",
     ["regularizer = 'L2'", "l1, l2, l1_l2"]),
    ("missing data", GOOD, None, ["split.npz", "no such file", "dvc repro data"]),
    ("corrupt data", GOOD, b"x1,x2,y,split\n0.1,zz,1,train\n",
     ["split.npz", "not a prepared split", "dvc repro data"]),
    ("truncated data", GOOD, SPLIT[:len(SPLIT) // 2], ["split.npz", "dvc repro data"]),
    ("corrupt baseline", GOOD, "good", ["baseline.csv", "rerun"], "{oops"),
    # Damaged tables, as a careless user leaves them: refused before any training, naming the
    # file, the column, the row and the stage that writes it.
    ("a word in a score", GOOD, "good",
     ["baseline.csv: column test_score, row 3: 'oops' is not a number <= 1",
      "dvc repro baseline"], with_cell(BASELINE, 3, "test_score", "oops")),
    ("an accuracy of 5", GOOD, "good",
     ["baseline.csv: column test_score, row 1: 5.0 is not a number <= 1"],
     with_cell(BASELINE, 0, "test_score", "5")),
    ("a truncated baseline", GOOD, "good", ["baseline.csv", "dvc repro baseline"],
     BASELINE[:len(BASELINE) // 3]),
    ("a damaged test_rows cell", GOOD, "good",
     ["baseline.csv: column test_rows, row 2: not the test rows' marks", "dvc repro baseline"],
     with_cell(BASELINE, 2, "test_rows", "++x-")),
    ("baseline of other seeds", edit("train.seeds", 12), "good",
     ["baseline.csv", "no member with seed 10", "dvc repro baseline"]),
]
CASES = [case if len(case) == 5 else (*case, BASELINE) for case in CASES]


@pytest.mark.parametrize("case, params_text, data_text, message, baseline_text", CASES,
                         ids=[case[0] for case in CASES])
def test_bad_input_fails_clearly_and_keeps_outputs(tmp_path, capsys, case, params_text,
                                                   data_text, message, baseline_text):
    (tmp_path / "params.yaml").write_text(params_text)
    data = tmp_path / "split.npz"
    if data_text == "good":
        data.write_bytes(SPLIT)
    elif data_text is not None:
        data.write_bytes(data_text)
    outputs = {name: tmp_path / name for name in ("members.csv", "curves.csv", "metrics.json")}
    for name, path in outputs.items():
        path.write_text(f"earlier {name}")
    baseline = tmp_path / "baseline.csv"
    baseline.write_text(baseline_text)
    status = cli.main(["regularized", "--params", str(tmp_path / "params.yaml"),
                       "--data", str(data), "--baseline", str(baseline),
                       *(arg for name, path in outputs.items()
                         for arg in (f"--{name.split('.')[0]}", str(path)))])
    error = capsys.readouterr().err
    assert status == 2
    assert error.startswith("weightreg regularized: error: ") and error.count("\n") == 1
    for part in message:
        assert part in error
    for name, path in outputs.items():
        assert path.read_text() == f"earlier {name}"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["params.yaml", "baseline.csv", *outputs] + (["split.npz"] if data.exists() else []))


def test_figures_stage_names_a_missing_input(tmp_path, capsys):
    (tmp_path / "plots").mkdir()
    (tmp_path / "split.npz").write_bytes(SPLIT)
    status = cli.main(["figures", "--data", str(tmp_path / "split.npz"),
                       "--points", str(ROOT / "data/points.csv"),
                       "--tables", str(tmp_path / "plots"), "--out", str(tmp_path / "figures")])
    assert status == 2
    assert "rerun the decoupled stage (`dvc repro decoupled`)" in capsys.readouterr().err
    assert not (tmp_path / "figures").exists()


def test_a_table_without_a_column_names_it_and_its_stage(tmp_path, capsys):
    (tmp_path / "split.npz").write_bytes(SPLIT)
    plots = tmp_path / "plots"
    plots.mkdir()
    for table in (ROOT / "plots").glob("*.csv"):
        text = table.read_text()
        if table.name == "grid.csv":  # without its lambda column
            text = "\n".join(",".join(cell for i, cell in enumerate(line.split(",")) if i != 1)
                             for line in text.splitlines()) + "\n"
        (plots / table.name).write_text(text)
    status = cli.main(["figures", "--data", str(tmp_path / "split.npz"),
                       "--points", str(ROOT / "data/points.csv"), "--tables", str(plots),
                       "--out", str(tmp_path / "figures")])
    error = capsys.readouterr().err
    assert status == 2 and error.count("\n") == 1
    assert "grid.csv: no column 'lambda'" in error and "dvc repro grid" in error
    assert not (tmp_path / "figures").exists()


@pytest.mark.parametrize("cell, shown", [("oops", "'oops'"), ("inf", "inf")])
def test_a_word_or_an_infinity_in_a_plot_table_is_named(tmp_path, capsys, cell, shown):
    (tmp_path / "split.npz").write_bytes(SPLIT)
    plots = tmp_path / "plots"
    plots.mkdir()
    for table in (ROOT / "plots").glob("*.csv"):
        text = table.read_text()
        (plots / table.name).write_text(with_cell(text, 2, "test_score", cell)
                                        if table.name == "placement.csv" else text)
    status = cli.main(["figures", "--data", str(tmp_path / "split.npz"),
                       "--points", str(ROOT / "data/points.csv"), "--tables", str(plots),
                       "--out", str(tmp_path / "figures")])
    error = capsys.readouterr().err
    assert status == 2 and error.count("\n") == 1, error
    assert f"placement.csv: column test_score, row 2: {shown} is not a finite number" in error
    assert "dvc repro placement" in error


def test_duplicate_keys_and_bytes_that_are_not_utf8_are_refused(tmp_path, capsys):
    twice = tmp_path / "twice.yaml"
    twice.write_text(GOOD.replace("lambda: 1.0e-3", "lambda: 1.0e-3\nlambda: 5.0e-2", 1))
    latin = tmp_path / "latin.yaml"
    latin.write_bytes(GOOD.encode().replace(b"# Penalty", b"# P\xe9nalty", 1))
    for path, message in ((twice, "the key lambda appears twice in one section"),
                          (latin, "is not UTF-8 text: byte 0xe9 at line")):
        status = cli.main(data_stage(path, tmp_path))
        error = capsys.readouterr().err
        assert status == 2 and message in error and error.count("\n") == 1, error
    assert sorted(p.name for p in tmp_path.iterdir()) == ["latin.yaml", "twice.yaml"]


@pytest.mark.parametrize("argv", [["train"], ["grid", "--data", "x"], []])
def test_bad_command_lines_exit_2_with_usage(argv, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(argv)
    assert exit_.value.code == 2
    assert "usage:" in capsys.readouterr().err


def test_a_programming_error_keeps_its_traceback(tmp_path, monkeypatch):
    """A ValueError from inside the code (here, a shape error) is not the user's mistake: it
    propagates with its traceback instead of becoming a one-line 'bad input' message."""
    from weightreg.stages import data

    def broken(params, *, split, points):
        raise ValueError("Incompatible shapes: [30,500] vs. [70,500]")

    monkeypatch.setattr(data, "run", broken)
    with pytest.raises(ValueError, match="Incompatible shapes"):
        cli.main(["data", "--params", str(ROOT / "params.yaml"),
                  "--split", str(tmp_path / "split.npz"), "--points", str(tmp_path / "p.csv")])


def test_divergence_fails_the_stage_and_keeps_outputs(tmp_path, capsys):
    raw = yaml.safe_load(GOOD)
    raw["train"].update(learning_rate=1e30, epochs=3, seeds=2)
    raw["model"]["hidden_units"] = 8
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(raw))
    outputs = [tmp_path / "members.csv", tmp_path / "curves.csv"]
    for path in outputs:
        path.write_text("earlier")
    (tmp_path / "split.npz").write_bytes(SPLIT)
    status = cli.main(["baseline", "--params", str(tmp_path / "params.yaml"),
                       "--data", str(tmp_path / "split.npz"),
                       "--members", str(outputs[0]), "--curves", str(outputs[1])])
    error = capsys.readouterr().err
    assert status == 2
    assert "diverged" in error and "2 of 2 members" in error
    assert "train.learning_rate = 1e+30" in error
    assert all(path.read_text() == "earlier" for path in outputs)


def test_an_output_that_cannot_be_written_is_refused_before_training(tmp_path, capsys,
                                                                       monkeypatch):
    (tmp_path / "split.npz").write_bytes(SPLIT)
    locked = tmp_path / "locked"
    locked.mkdir()
    real_access = cli.os.access
    # As a folder without write permission answers (root may write anywhere, so the test asks).
    monkeypatch.setattr(cli.os, "access", lambda path, mode: False if Path(path) == locked
                        else real_access(path, mode))
    status = cli.main(["baseline", "--params", str(ROOT / "params.yaml"),
                       "--data", str(tmp_path / "split.npz"),
                       "--members", str(locked / "members.csv"),
                       "--curves", str(tmp_path / "curves.csv")])
    error = capsys.readouterr().err
    assert status == 2 and error.count("\n") == 1
    assert f"--members {locked / 'members.csv'}: its folder {locked} is not writable" in error
    assert not (tmp_path / "curves.csv").exists()


def test_an_output_that_fails_at_the_write_is_one_line_and_writes_nothing(tmp_path, capsys):
    raw = yaml.safe_load(GOOD)
    raw["train"].update(epochs=3, seeds=2)
    raw["model"]["hidden_units"] = 8
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(raw))
    (tmp_path / "split.npz").write_bytes(SPLIT)
    status = cli.main(["baseline", "--params", str(tmp_path / "params.yaml"),
                       "--data", str(tmp_path / "split.npz"),
                       "--members", str(tmp_path / "members.csv"),
                       "--curves", str(tmp_path / "split.npz" / "curves.csv")])  # under a file
    error = capsys.readouterr().err
    assert status == 2 and error.count("\n") == 1 and "cannot be written" in error
    assert not (tmp_path / "members.csv").exists()


@pytest.mark.parametrize("key, value", [
    ("model.hidden_units", 10_000_000),
    ("train.seeds", 100_000),
    ("train.epochs", 100_000_000),
    ("replication.draws", 1_000_000),
    ("boundaries.resolution", 100_000),
])
def test_sizes_too_large_for_the_machine_are_refused_by_the_data_stage(tmp_path, capsys, key,
                                                                       value):
    error = refused_by_data(tmp_path, capsys, key, value)
    assert f"params.yaml: {key} = {value!r} is too large for this machine" in error
    assert "GiB is available" in error


def test_the_studys_own_sizes_fit():
    from weightreg import data as prepared_data, sizes, study

    for source in ("moons", "digits"):
        p = params.parse(yaml.safe_load(edit("data.source", source)))
        dataset = prepared_data.prepare(p.data, p.selection.folds)
        sizes.check(p, study.network_of(p, dataset), len(dataset.split.y_train),
                    len(dataset.split.y_test))


def size_keys():
    """Every key of params.yaml that sets a count (rows, units, epochs, members, ...)."""
    from dataclasses import fields, is_dataclass
    from typing import get_type_hints

    def walk(cls, prefix=""):
        hints = get_type_hints(cls)
        for item in fields(cls):
            key = prefix + params.key_of(item)
            if is_dataclass(hints[item.name]):
                yield from walk(hints[item.name], key + ".")
            elif item.metadata["rule"] in ("count", "optional_count", "count_or_auto", "widths"):
                yield key

    return list(walk(params.Params))


# Counts that size nothing on their own, each with what bounds it instead.
NOT_SIZES = {
    "train.batch_size": "a batch holds at most the training rows",
    "data.n_train": "at most the source's training rows (moons: data.moons.n_train)",
    "data.moons.n_train": "below data.moons.n_samples",
    "selection.folds": "at most the training rows",
    "selection.draws": "at most replication.draws",
}


def test_the_counts_that_size_nothing_are_keys_of_params_yaml():
    assert set(NOT_SIZES) <= set(size_keys())


@pytest.mark.parametrize("key", sorted(set(size_keys()) - set(NOT_SIZES)))
def test_every_size_key_is_counted_before_anything_runs(tmp_path, capsys, key):
    value = 10**12
    error = refused_by_data(tmp_path, capsys, key, value)
    # Too large for this machine, or for the key's own range: named either way.
    assert f"params.yaml: {key} = {value!r} is " in error, error


def test_moons_beyond_float32_are_refused_by_the_data_stage(tmp_path, capsys):
    error = refused_by_data(tmp_path, capsys, "data.moons.noise", 1e39)
    assert "params.yaml: data.moons.noise = 1e+39 is too large: points beyond float32" in error


def test_the_data_stage_names_your_own_network_for_dvc_exp_show(tmp_path, monkeypatch):
    from weightreg import timing

    monkeypatch.setattr(timing, "estimate", lambda params, dataset: "no estimate here")
    raw = yaml.safe_load(edit("data.source", "digits"))
    raw["data"]["shape"] = [8, 8, 1]
    raw["model"]["layers"] = [{"Conv2D": {"filters": 16, "kernel_size": 3, "activation": "relu"}},
                              {"MaxPooling2D": {"pool_size": 2}}, {"Flatten": None},
                              {"Dense": {"units": 64, "activation": "relu"}}]
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(raw))
    assert cli.main(data_stage(tmp_path / "params.yaml", tmp_path)) == 0
    metrics = json.loads((tmp_path / "data.json").read_text())
    assert metrics["network"] == "Conv2D(16, 3, relu) > MaxPooling2D(2) > Flatten > Dense(64, relu)"
    assert prepared.load(tmp_path / "split.npz").shape == (8, 8, 1)
