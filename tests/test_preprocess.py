"""Real tables as users have them: text, missing values, true/false, dates and identifiers,
preprocessed inside the study and fitted on each split's and each fold's training rows alone;
and a kept model that takes raw rows."""

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import mixed
from weightreg import data, io, params

ROOT = Path(__file__).resolve().parents[1]
PATIENTS = dataclasses.replace(params.moons(), source="csv", path=str(ROOT / "data/patients.csv"),
                               target="progression", drop=("patient",))


def test_the_patients_table_is_diabetes_as_a_clinic_exports_it():
    assert (ROOT / "data/patients.csv").read_text() == mixed.patients_csv()


def test_a_mixed_table_goes_through_and_says_what_was_done():
    dataset = data.prepare(PATIENTS, folds=5)
    assert dataset.task.name == "regression"  # whole numbers with many values: a quantity
    assert dataset.features == ("age", "bmi", "high_bp", "visit", "s1", "s2", "s3", "s4", "s5",
                                "s6", "sex=female", "sex=male")
    assert dataset.numeric == 10
    assert len(dataset.split.y_train) + len(dataset.split.y_test) == 442 - 8
    described = dataset.describe()
    for said in ("8 rows without a target dropped",
                 "missing values imputed (sex (11), bmi (1", "s5 (6)", "one-hot sex (2)",
                 "dates as years: visit"):
        assert said in described
    split = dataset.split
    assert all(np.isfinite(a).all() for a in (split.x_train, split.x_test))
    one_hot = split.x_train[:, 10:]
    assert set(one_hot.sum(axis=1)) == {1.0}  # every row one category (missing: imputed)
    np.testing.assert_allclose(split.x_train[:, :10].mean(axis=0), 0, atol=1e-5)


def test_an_identifier_is_refused_with_data_drop_named():
    with pytest.raises(io.BadInput, match=r"column patient has 434 distinct values in 434 rows: "
                                          r"an identifier .* data.drop \(-S 'data.drop=\[patient\]'\)"):
        data.prepare(dataclasses.replace(PATIENTS, drop=()))


def test_true_false_columns_are_numbers_and_dates_are_years(tmp_path):
    frame = pd.DataFrame({"when": ["2020-01-01", "2020-07-02", None, "2021-01-01"] * 10,
                          "size": np.arange(40.0), "colour": ["red", "blue"] * 20,
                          "label": ["a", "b"] * 20})
    path = tmp_path / "dummies.csv"
    pd.get_dummies(frame, columns=["colour"]).to_csv(path, index=False)  # bool columns
    table = data.read(dataclasses.replace(PATIENTS, path=str(path), target="label", drop=()))
    assert table.columns.numeric == ("when", "size", "colour_blue", "colour_red")
    assert table.columns.dates == ("when",)
    assert table.frame["colour_red"].tolist()[:2] == [1.0, 0.0]
    np.testing.assert_allclose(table.frame["when"][:4], [2020.0, 2020 + 183 / 366, np.nan,
                                                          2021.0])


def perturbed(rows: np.ndarray) -> pd.DataFrame:
    """The patients' table with the rows `rows` made wild: numbers times 1000, every text the
    other category. A preprocessing step that saw those rows would change."""
    frame = pd.read_csv(ROOT / "data/patients.csv")
    numbers = ["age", "bmi", "s1", "s2", "s3", "s4", "s5", "s6"]
    kept = np.flatnonzero(frame["progression"].notna())[rows]  # `rows` of the kept rows
    frame.loc[kept, numbers] *= 1000
    frame.loc[kept, "sex"] = frame.loc[kept, "sex"].map({"female": "male", "male": "female"})
    frame.loc[kept, "high_bp"] = True
    return frame


@pytest.mark.parametrize("random_state", [1, 2])
def test_no_statistic_of_a_test_row_reaches_its_split(tmp_path, random_state):
    settings = dataclasses.replace(PATIENTS, random_state=random_state)
    dataset = data.prepare(settings, folds=5)
    path = tmp_path / "wild.csv"
    perturbed(dataset.rows.test).to_csv(path, index=False)
    wild = data.prepare(dataclasses.replace(settings, path=str(path)), folds=5)
    np.testing.assert_array_equal(wild.split.x_train, dataset.split.x_train)
    np.testing.assert_array_equal(wild.split.y_train, dataset.split.y_train)
    assert not np.allclose(wild.split.x_test, dataset.split.x_test)  # the rows did change


def test_no_statistic_of_a_held_out_fold_reaches_its_fold(tmp_path):
    dataset = data.prepare(PATIENTS, folds=5)
    folds = dataset.folds(5)
    # A fold is fitted on its own training rows: not the split's (mean 0 there, not here).
    assert np.abs(folds[0].x_train[:, :10].mean(axis=0)).max() < 1e-5
    assert not np.array_equal(folds[0].x_train, dataset.split.x_train[:len(folds[0].x_train)])
    held = np.arange(len(folds[0].y_test))  # KFold without shuffling: fold 0 holds the first
    path = tmp_path / "wild.csv"
    perturbed(dataset.rows.train[held]).to_csv(path, index=False)
    wild = data.prepare(dataclasses.replace(PATIENTS, path=str(path)), folds=5)
    wild_folds = wild.folds(5)
    np.testing.assert_array_equal(wild_folds[0].x_train, folds[0].x_train)
    np.testing.assert_array_equal(wild_folds[0].y_train, folds[0].y_train)
    assert not np.allclose(wild_folds[1].x_train, folds[1].x_train)  # fold 1 trains on them


def test_a_category_only_in_held_out_rows_is_a_column_of_zeros(tmp_path):
    frame = pd.DataFrame({"x": np.arange(60.0), "place": ["north", "south"] * 30,
                          "label": ["a", "b", "b"] * 20})
    path = tmp_path / "t.csv"
    frame.to_csv(path, index=False)
    dataset = data.prepare(dataclasses.replace(PATIENTS, path=str(path), target="label",
                                               drop=()))
    test_row = dataset.rows.test[0]
    frame.loc[test_row, "place"] = "east"  # a category no training row has
    frame.to_csv(path, index=False)
    changed = data.prepare(dataclasses.replace(PATIENTS, path=str(path), target="label",
                                               drop=()))
    assert changed.features == ("x", "place=east", "place=north", "place=south")
    east = changed.split.x_test[:, 1]
    assert not changed.split.x_train[:, 1].any() and not east.any()  # ignored, as unknown
    np.testing.assert_array_equal(changed.split.x_train[:, [0, 2, 3]], dataset.split.x_train)


@pytest.mark.parametrize("changes, message", [
    ({"missing": "error"}, "33 missing values, in columns sex (11), bmi (16), s5 (6) "
                           "(data.missing = 'error')"),
    ({"categorical": "error"}, "feature columns sex are not numeric (data.categorical = "
                               "'error')"),
    ({"drop": ("patient", "weight")}, "data.drop = ['patient', 'weight'] names weight, not "
                                      "columns of"),
    ({"drop": ("patient", "progression")}, "holds the target"),
])
def test_the_choices_refuse_in_one_line(changes, message):
    with pytest.raises(io.BadInput) as error:
        data.prepare(dataclasses.replace(PATIENTS, **changes))
    assert message in str(error.value) and "\n" not in str(error.value)


def test_missing_drop_drops_the_rows_and_counts_them():
    dataset = data.prepare(dataclasses.replace(PATIENTS, missing="drop"))
    rows = len(dataset.split.y_train) + len(dataset.split.y_test)
    assert "rows with missing values dropped (sex (11), bmi (16), s5 (6))" in dataset.describe()
    assert 442 - 8 - 33 <= rows < 442 - 8


@pytest.mark.parametrize("header, message", [
    ("a,label,label\n1,x,y\n2,y,x\n", "columns named twice in the header: label"),
    ("a,b,label\n", "has a header and no rows"),
    ("a,label\n1,1e39\n2,3\n3,4\n", "target 'label' holds infinite values or values beyond"),
    ("a,b,label\n1,1e39,x\n2,3,y\n3,4,x\n", "columns b hold infinite values or values beyond"),
    ("a,label\n" + "".join(f"{i},2.5\n" for i in range(30)), "is constant (2.5 in every row)"),
])
def test_tables_no_stage_could_use_are_refused(tmp_path, header, message):
    path = tmp_path / "t.csv"
    path.write_text(header)
    with pytest.raises(io.BadInput) as error:
        data.prepare(dataclasses.replace(PATIENTS, path=str(path), target="label", drop=(),
                                         task="regression" if "2.5" in header else "auto"))
    assert message in str(error.value)


def test_labels_are_text_in_figures_whatever_they_hold(tmp_path):
    from weightreg import plots

    frame = pd.DataFrame({"x": np.arange(40.0), "y": np.arange(40.0) % 7,
                          "label": [r"$\notacommand$", "a_b^c"] * 20})
    frame.to_csv(tmp_path / "t.csv", index=False)
    dataset = data.prepare(dataclasses.replace(PATIENTS, path=str(tmp_path / "t.csv"),
                                               target="label", drop=()))
    assert dataset.classes == (r"$\notacommand$", "a_b^c")
    table = pd.read_csv(pd.io.common.StringIO(data.points_csv(dataset)))
    picture = plots.png(plots.data_scatter({k: table[k].to_numpy() for k in table}, dataset))
    assert picture.startswith(b"\x89PNG")


@pytest.mark.parametrize("changes, message", [
    ({"task": "binary"}, "data.task = 'binary' does not fit {path}: its target holds 213 "
                         "distinct numbers, a quantity; expected regression (or auto)"),
    ({"n_train": 7}, "selection.folds = 5 needs 10 training rows or more"),
    ({"test_fraction": 0.002}, "data.test_fraction = 0.002 leaves 1 test rows"),
])
def test_a_regression_no_stage_could_score_is_refused(changes, message):
    with pytest.raises(io.BadInput) as error:
        data.prepare(dataclasses.replace(PATIENTS, **changes), folds=5)
    assert message.format(path=PATIENTS.path) in str(error.value)


def test_a_later_draw_that_fails_is_named_by_its_draw_and_key():
    wine = dataclasses.replace(PATIENTS, source="wine", n_train=6, drop=())
    data.prepare(wine)  # the study's own split keeps three classes...
    with pytest.raises(io.BadInput, match=r"draw \d+ of replication \(random_state \d+\): "
                                          r".*params.yaml: data.n_train = 6 keeps too few"):
        data.check_study(data.prepare(wine), wine, 100, 2, 20)  # ... and some later draw does not


def test_a_fold_where_r2_is_undefined_is_refused_before_any_training(tmp_path):
    frame = pd.DataFrame({"x": np.arange(40.0), "y": [1.0] * 30 + list(np.arange(2.0, 12.0))})
    frame.to_csv(tmp_path / "t.csv", index=False)
    settings = dataclasses.replace(PATIENTS, path=str(tmp_path / "t.csv"), target="y", drop=(),
                                   task="regression", random_state=0)
    with pytest.raises(io.BadInput, match=r"selection.folds = 5 leaves fold \d of draw \d+ "
                                          r"\(random_state \d+\) \d held-out rows with one "
                                          "target value"):
        data.check_study(data.prepare(settings, 5), settings, 20, 5, 20)


def test_the_trivial_predictors_score():
    from weightreg import tasks

    y_train, y_test = np.array([0, 1, 1, 2, 1]), np.array([1, 1, 0, 2])
    assert tasks.multiclass(3).trivial(y_train, y_test) == (0.5, "the majority class")
    assert tasks.regression().trivial(y_train, y_test) == (0.0, "the mean")


def test_a_model_no_better_than_the_mean_is_said_so(tmp_path, capsys):
    """A target of pure noise: no network explains it (test R² below 0), and the headline
    says so in its line and its metrics, whatever the penalty does."""
    import copy
    import json

    import yaml

    import tiny
    from weightreg import cli

    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(200, 6)), columns=list("abcdey"))
    frame.to_csv(tmp_path / "noise.csv", index=False)
    settings = copy.deepcopy(tiny.TINY)
    settings["data"].update(source="csv", path=str(tmp_path / "noise.csv"), target="y")
    # Trained to the end: early stopping keeps such a model near R² 0, where it may land a
    # hair above.
    settings["train"].update(epochs=60, learning_rate=1e-2, early_stopping=None)
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(settings))
    out = {name: str(tmp_path / name) for name in ("split.npz", "points.csv", "data.json",
                                                   "baseline.csv", "curves.csv", "reg.csv",
                                                   "reg_curves.csv", "reg.json")}
    common = ["--params", str(tmp_path / "params.yaml")]
    assert cli.main(["data", *common, "--split", out["split.npz"], "--points",
                     out["points.csv"], "--metrics", out["data.json"]]) == 0
    assert cli.main(["baseline", *common, "--data", out["split.npz"], "--members",
                     out["baseline.csv"], "--curves", out["curves.csv"]]) == 0
    assert cli.main(["regularized", *common, "--data", out["split.npz"], "--baseline",
                     out["baseline.csv"], "--members", out["reg.csv"], "--curves",
                     out["reg_curves.csv"], "--metrics", out["reg.json"]]) == 0
    line = capsys.readouterr().out.strip().splitlines()[-1]
    headline = json.loads(Path(out["reg.json"]).read_text())
    assert headline["trivial_test_score"] == 0.0
    assert headline["baseline_test_score"] < 0 and headline["test_score"] < 0, line
    assert not headline["baseline_beats_trivial"] and not headline["beats_trivial"]
    assert ("WARNING: the baseline and l2(0.001) no better than predicting the mean (test R² "
            "0.000)") in line


def test_the_summary_page_leads_with_the_warning(tmp_path):
    """The summary stage on the other stages' outputs (written here by hand, as a study of a
    target of pure noise would leave them)."""
    import json

    from weightreg import cli

    dataset = data.prepare(dataclasses.replace(PATIENTS, source="diabetes", drop=()))
    (tmp_path / "split.npz").write_bytes(data.to_bytes(dataset))
    files = {
        "regularized": {"test_score": -0.1, "test_score_lo": -0.2, "test_score_hi": 0.0,
                        "diff_vs_baseline": 0.05, "diff_vs_baseline_lo": 0.02,
                        "diff_vs_baseline_hi": 0.08, "p_value": 0.004,
                        "baseline_test_score": -0.15, "trivial_test_score": 0.0,
                        "beats_trivial": False, "baseline_beats_trivial": False},
        "grid": {"best_kind": "l2", "best_lambda": 0.1, "best_test_score": -0.01},
        "refine": {"refined_test_score": -0.005},
        "replication": {"replication_diff": 0.04, "replication_diff_lo": 0.03,
                        "replication_diff_hi": 0.05, "replication_helps": 0.9,
                        "replication_p": 1e-5},
        "selection": {"optimism": 0.01, "optimism_lo": 0.0, "optimism_hi": 0.02},
    }
    for name, values in files.items():
        (tmp_path / f"{name}.json").write_text(json.dumps(values))
    (tmp_path / "grid.csv").write_text("kind,lambda,test_score\nl2,0.1,-0.01\nl2,0.01,-0.1\n")
    (tmp_path / "selection.csv").write_text(
        "random_state,cv_lambda,cv_test_score,oracle_test_score\n1,0.1,-0.02,-0.01\n")
    paths = {name: str(tmp_path / f"{name}.json") for name in files}
    assert cli.main(["summary", "--params", str(ROOT / "params.yaml"),
                     "--data", str(tmp_path / "split.npz"), *(
                         part for name, path in paths.items() for part in (f"--{name}", path)),
                     "--grid_table", str(tmp_path / "grid.csv"),
                     "--choices", str(tmp_path / "selection.csv"),
                     "--out", str(tmp_path / "summary.md")]) == 0
    page = (tmp_path / "summary.md").read_text()
    assert page.index("**Warning.** The baseline and l2(0.001) no better than predicting the "
                      "mean (R² 0): test R² 0.000.") < page.index("**Strength.**")
    assert "+0.050 [+0.020, +0.080] (95% interval over seeds, sign-flip p = 0.004)" in page
