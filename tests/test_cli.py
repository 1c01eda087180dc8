"""The command line: bad input gets one clear line naming what is wrong, exit status 2, and
every earlier output left exactly as it was; a programming error keeps its traceback."""

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
    assert "run the stage that writes it" in capsys.readouterr().err
    assert not (tmp_path / "figures").exists()


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
