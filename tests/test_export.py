"""A kept model takes rows as the user's CSV has them (text, missing values, dates) and
answers in the user's terms, as the study's own member predicts."""

import copy

import numpy as np
import pandas as pd
import pytest
import yaml

import tiny
from weightreg import data, export, params, predict


@pytest.mark.parametrize("target, task", [("progression", "regression"), ("sex", "binary")])
def test_a_kept_model_predicts_raw_rows_as_the_study_does(tmp_path, target, task):
    settings = copy.deepcopy(tiny.TINY)
    settings["data"].update(source="csv", path=str(tiny.ROOT / "data/patients.csv"),
                            target=target, drop=["patient"])
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(settings))
    model = str(tmp_path / "model.keras")
    assert export.main([model, "--params", str(tmp_path / "params.yaml")]) == 0

    dataset = data.prepare(params.load(tmp_path / "params.yaml").data, folds=4)
    assert dataset.task.name == task
    raw = pd.read_csv(tiny.ROOT / "data/patients.csv").iloc[
        np.flatnonzero(pd.read_csv(tiny.ROOT / "data/patients.csv")[target].notna())]
    rows = raw.iloc[dataset.rows.test]  # the study's test rows, as the file has them
    kept = predict.Model(model)
    # The raw rows become exactly the study's inputs, and the network's answers follow.
    np.testing.assert_allclose(kept.inputs(rows, "rows"), dataset.split.x_test, atol=1e-6)
    answer = kept.predict(rows)
    assert answer["patient"] == rows["patient"].tolist()
    outputs = kept.network.predict(dataset.split.x_test, verbose=0)[:, 0]
    if task == "regression":  # in the target's own units
        truth = rows[target].to_numpy()
        fitted = dataset.rows.fitted
        np.testing.assert_allclose(answer["prediction"], fitted.units(outputs), rtol=1e-6)
        assert abs(np.mean(answer["prediction"]) - truth.mean()) < truth.std()
    else:  # class names, and probabilities that sum to one
        assert set(answer["prediction"]) <= {"female", "male"}
        assert answer["prediction"] == [dataset.classes[int(p > 0.5)] for p in outputs]
        np.testing.assert_allclose(np.add(answer["p(female)"], answer["p(male)"]), 1)
        accuracy = np.mean(np.array(answer["prediction"]) == rows[target].to_numpy())
        assert accuracy == np.mean((outputs > 0.5) == dataset.split.y_test)


def test_predict_refuses_rows_without_the_features(tmp_path):
    (tmp_path / "rows.csv").write_text("age,bmi\n50,30\n")
    (tmp_path / "m.keras").write_text("")
    assert predict.main([str(tmp_path / "m.keras"), str(tmp_path / "rows.csv")]) == 2
