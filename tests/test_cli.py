"""Bad input at the command line: one clear message naming what is wrong, exit status 2, and
every earlier output left exactly as it was."""

from pathlib import Path

import pytest
import yaml

from weightreg import cli

ROOT = Path(__file__).resolve().parents[1]
GOOD = (ROOT / "params.yaml").read_text()


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


BASELINE = (ROOT / "metrics/baseline.json").read_text()

# (what is wrong, params.yaml text, data file text or None for a missing file, message parts)
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
    ("missing data", GOOD, None, ["moons.csv", "run the data stage first"]),
    ("corrupt data", GOOD, "x1,x2,y,split\n0.1,zz,1,train\n", ["moons.csv", "dvc repro data"]),
    ("data without test rows", GOOD, "x1,x2,y,split\n0.1,0.2,1,train\n",
     ["moons.csv", "both train and test rows"]),
    ("corrupt baseline", GOOD, "good", ["baseline.json", "dvc repro baseline"], "{oops"),
    ("baseline of other seeds", GOOD, "good", ["baseline.json", "train.seeds = 10"],
     '{"test_acc_per_seed": [0.9, 0.9]}'),
]
CASES = [case if len(case) == 5 else (*case, BASELINE) for case in CASES]


@pytest.mark.parametrize("case, params_text, data_text, message, baseline_text", CASES,
                         ids=[case[0] for case in CASES])
def test_bad_input_fails_clearly_and_keeps_outputs(tmp_path, capsys, case, params_text,
                                                   data_text, message, baseline_text):
    (tmp_path / "params.yaml").write_text(params_text)
    data = tmp_path / "moons.csv"
    if data_text == "good":
        data.write_text((ROOT / "data/moons.csv").read_text())
    elif data_text is not None:
        data.write_text(data_text)
    outputs = {name: tmp_path / name for name in ("metrics.json", "curves.csv", "model.keras")}
    for name, path in outputs.items():
        path.write_text(f"earlier {name}")
    baseline = tmp_path / "baseline.json"
    baseline.write_text(baseline_text)
    status = cli.main(["regularized", "--params", str(tmp_path / "params.yaml"),
                       "--data", str(data), "--baseline", str(baseline),
                       "--metrics", str(outputs["metrics.json"]),
                       "--curves", str(outputs["curves.csv"]),
                       "--model", str(outputs["model.keras"])])
    error = capsys.readouterr().err
    assert status == 2
    assert error.startswith("weightreg regularized: error: ") and error.count("\n") == 1
    for part in message:
        assert part in error
    for name, path in outputs.items():
        assert path.read_text() == f"earlier {name}"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["params.yaml", "baseline.json", *outputs] + (["moons.csv"] if data.exists() else []))


def test_plots_stage_names_a_missing_input(tmp_path, capsys):
    args = ["plots"]
    for name in cli.STAGES["plots"]:
        args += [f"--{name.replace('_', '-')}", str(tmp_path / name)]
    assert cli.main(args) == 2
    assert "run the stage that writes it" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["train"], ["grid", "--data", "x"], []])
def test_bad_command_lines_exit_2_with_usage(argv, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(argv)
    assert exit_.value.code == 2
    assert "usage:" in capsys.readouterr().err


def test_divergence_fails_the_stage_and_keeps_outputs(tmp_path, capsys):
    raw = yaml.safe_load(GOOD)
    raw["train"].update(learning_rate=1e30, epochs=3, seeds=2)
    raw["model"]["hidden_units"] = 8
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(raw))
    outputs = [tmp_path / "metrics.json", tmp_path / "curves.csv"]
    for path in outputs:
        path.write_text("earlier")
    status = cli.main(["baseline", "--params", str(tmp_path / "params.yaml"),
                       "--data", str(ROOT / "data/moons.csv"),
                       "--metrics", str(outputs[0]), "--curves", str(outputs[1])])
    error = capsys.readouterr().err
    assert status == 2
    assert "diverged" in error and "2 of 2 members" in error
    assert "train.learning_rate = 1e+30" in error
    assert all(path.read_text() == "earlier" for path in outputs)
