"""Data sources other than two moons: scikit-learn's bundled datasets and CSV files, split and
scaled as scikit-learn's own tools do it, and every bad input refused in one line."""

import dataclasses

import numpy as np
import pytest
from sklearn import datasets
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from weightreg import data, io, params

DEFAULT = params.moons()


def settings(**changes) -> params.Data:
    return dataclasses.replace(DEFAULT, **changes)


@pytest.mark.parametrize("source, task, classes", [
    ("breast_cancer", "binary", ("malignant", "benign")),
    ("digits", "multiclass", tuple("0123456789")),
    ("wine", "multiclass", ("class_0", "class_1", "class_2")),
    ("iris", "multiclass", ("setosa", "versicolor", "virginica")),
    ("diabetes", "regression", ()),
])
def test_bundled_datasets_split_and_scale_as_scikit_learn_does(source, task, classes):
    dataset = data.prepare(settings(source=source))
    assert (dataset.task.name, dataset.classes) == (task, classes)
    x, y = getattr(datasets, f"load_{source}")(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=0.3, random_state=1, stratify=None if task == "regression" else y)
    scaler = StandardScaler().fit(x_train)
    np.testing.assert_allclose(dataset.split.x_train, scaler.transform(x_train), rtol=1e-6,
                               atol=1e-6)
    np.testing.assert_allclose(dataset.split.x_test, scaler.transform(x_test), rtol=1e-6,
                               atol=1e-6)
    if task == "regression":  # the target standardized with the training rows' statistics
        mean, std = y_train.mean(), y_train.std()
        np.testing.assert_allclose(dataset.split.y_test, (y_test - mean) / std, rtol=1e-5)
        assert abs(dataset.split.y_train.mean()) < 1e-6
    else:
        np.testing.assert_array_equal(dataset.split.y_train, y_train)


def test_n_train_keeps_the_first_training_rows():
    whole = data.prepare(settings(source="breast_cancer"))
    few = data.prepare(settings(source="breast_cancer", n_train=50))
    assert len(few.split.y_train) == 50 and len(few.split.y_test) == len(whole.split.y_test)
    # Scaled by the 50 rows that train, not by the whole training part.
    np.testing.assert_allclose(few.split.x_train.mean(axis=0), 0, atol=1e-5)


def test_draws_are_new_splits_of_the_same_rows():
    drawn = data.draws(settings(source="wine"), 3)
    assert [r for r, _ in drawn] == [1, 2, 3]
    first = drawn[0][1].split
    np.testing.assert_array_equal(first.x_train, data.prepare(settings(source="wine")).split.x_train)
    assert not np.array_equal(first.y_train, drawn[1][1].split.y_train)
    assert {d.split.x_train.shape for _, d in drawn} == {first.x_train.shape}


def write(tmp_path, text: str) -> str:
    path = tmp_path / "table.csv"
    path.write_text(text)
    return str(path)


WINE_LIKE = "a,b,label\n" + "".join(f"{i},{i % 7 * 0.5},{'red' if i % 2 else 'white'}\n"
                                    for i in range(40))


def test_a_csv_with_string_labels_and_quoting_is_read_by_pandas(tmp_path):
    text = 'width,"height, in cm",kind\n' + "".join(
        f'{i},{i * 0.1},"{"big, old" if i % 3 == 0 else "small"}"\n' for i in range(30))
    dataset = data.prepare(settings(source="csv", path=write(tmp_path, text), target="kind"))
    assert dataset.task.name == "binary" and dataset.classes == ("big, old", "small")
    assert dataset.features == ("width", "height, in cm")
    assert len(dataset.split.y_train) == 21 and len(dataset.split.y_test) == 9


def test_the_example_csv_is_scikit_learns_wine(tmp_path):
    dataset = data.prepare(settings(source="csv", path="data/example.csv", target="cultivar"))
    wine = data.prepare(settings(source="wine"))
    assert dataset.task == wine.task and len(dataset.features) == 13
    np.testing.assert_array_equal(dataset.split.x_train, wine.split.x_train)


def test_a_real_valued_csv_target_is_regression_and_task_can_be_forced(tmp_path):
    text = "x,y\n" + "".join(f"{i},{i * 1.5 + 0.25}\n" for i in range(30))
    auto = data.prepare(settings(source="csv", path=write(tmp_path, text), target="y"))
    assert auto.task.name == "regression"
    counts = "x,y\n" + "".join(f"{i},{i % 5}\n" for i in range(30))
    forced = data.prepare(settings(source="csv", path=write(tmp_path, counts), target="y",
                                   task="regression"))
    assert forced.task.name == "regression"


@pytest.mark.parametrize("text, target, task, n_train, message", [
    (None, "label", "auto", None, "data.path = '{path}': no such file"),
    (WINE_LIKE, "colour", "auto", None,
     "data.target = 'colour' is not a column of {path}; its columns are a, b, label"),
    ("a,b,label\n1,x,0\n2,y,1\n3,z,0\n4,w,1\n", "label", "auto", None,
     "feature columns b are not numeric"),
    ("a,b,label\n1,,0\n2,3,1\n,4,0\n5,6,\n", "label", "auto", None,
     "2 missing values, in columns a (1), b (1) (data.missing = 'error')"),
    ("a,label\n" + "".join(f"{i},same\n" for i in range(10)), "label", "auto", None,
     "only one class (same)"),
    ("a,label\n" + "".join(f"{i},{'rare' if i == 0 else 'common'}\n" for i in range(20)),
     "label", "auto", None, "class 'rare' has 1 rows, fewer than 2: the train/test split"),
    ("a,b,label\n1,inf,0\n2,3,1\n3,4,0\n4,5,1\n", "label", "auto", None,
     "columns b hold infinite values"),
    (WINE_LIKE, "label", "auto", 500, "data.n_train = 500 is not allowed; expected at most the 28"),
    (WINE_LIKE, "label", "regression", None, "data.task = 'regression' does not fit"),
    ("a,label\n" + "".join(f"{i},{i % 3}\n" for i in range(30)), "label", "binary", None,
     "data.task = 'binary' does not fit {path}: its target has 3 classes"),
])
def test_bad_sources_are_refused_in_one_line(tmp_path, text, target, task, n_train, message):
    path = write(tmp_path, text) if text is not None else str(tmp_path / "absent.csv")
    with pytest.raises(io.BadInput) as error:
        data.prepare(settings(source="csv", path=path, target=target, task=task,
                              n_train=n_train, missing="error", categorical="error"))
    assert message.format(path=path) in str(error.value)
    assert "\n" not in str(error.value)


def test_each_class_needs_training_rows_for_every_fold():
    with pytest.raises(io.BadInput, match="the training rows of class .* fewer than 5: "
                                          "selection.folds = 5 needs one in every fold"):
        data.prepare(settings(source="iris", n_train=12), folds=5)
    assert len(data.prepare(settings(source="iris", n_train=30), folds=5).split.y_train) == 30


def test_r2_of_a_constant_target_is_scikit_learns():
    from weightreg import tasks

    task = tasks.regression()
    constant = np.ones(4)
    assert list(task.scores(np.array([0.0, 0.25]), constant)) == [1.0, 0.0]
