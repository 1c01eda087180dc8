"""`python -m weightreg.bench.tables [--seeds 10]`: the study on a real table as users have it,
against what a user would write by hand: scikit-learn's `ColumnTransformer`, then Keras `fit`.

On `data/patients.csv` (scikit-learn's diabetes data with an identifier, a text column with
gaps, a true/false column, a visit date, missing values and unlabelled rows; see
tests/mixed.py), for the regression on `progression` and for the binary classification of
`sex`, with the study's defaults ([64, 64], 100 epochs, batch 32, Adam 1e-3, split with
`train_test_split(test_size=0.3, random_state=1)`):

- the study: `weightreg.data.prepare` (its preprocessing) and the engine, no penalty and l2(1e-3)
  on the hidden kernels, seeds 0 .. n-1;
- by hand, written here without weightreg's preprocessing: pandas, rows without a target
  dropped, the identifier left out, the date as a year, true/false as 1/0, then
  `ColumnTransformer` (median + `StandardScaler`; most frequent + `OneHotEncoder(handle_unknown=
  "ignore")`) fitted on the training rows, the target standardized on them; a Keras
  `Sequential` of the same layers after `keras.utils.set_random_seed(seed)`, `fit(epochs=100,
  batch_size=32)`.

It prints each side's mean test score over seeds with its standard deviation, and the
difference of the means in standard errors (Welch): within 2, the two agree within seed noise.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import statistics
import sys

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

PATH = "data/patients.csv"
HIDDEN, EPOCHS, BATCH, RATE, STRENGTH = (64, 64), 100, 32, 1e-3, 1e-3
TARGETS = {"progression": "regression", "sex": "binary"}


def by_hand(target: str, seeds: int) -> dict[str, list[float]]:
    """Test scores of Keras `fit` on a hand-written scikit-learn preprocessing."""
    import keras
    import pandas as pd
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.metrics import r2_score
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    frame = pd.read_csv(PATH)
    frame = frame[frame[target].notna()].reset_index(drop=True)
    when = pd.to_datetime(frame["visit"])
    frame["visit"] = when.dt.year + (when.dt.day_of_year - 1) / np.where(when.dt.is_leap_year,
                                                                        366, 365)
    frame["high_bp"] = frame["high_bp"].astype(float)
    features = frame.drop(columns=["patient", target])
    text = [name for name in features if not pd.api.types.is_numeric_dtype(features[name])]
    numbers = [name for name in features if name not in text]
    regression = TARGETS[target] == "regression"
    y = frame[target].to_numpy(np.float64) if regression else \
        (frame[target] == sorted(frame[target].unique())[1]).to_numpy(np.float64)
    train, test = train_test_split(np.arange(len(frame)), test_size=0.3, random_state=1,
                                   stratify=None if regression else y)
    columns = ColumnTransformer(
        [("numbers", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numbers),
         ("text", make_pipeline(SimpleImputer(strategy="most_frequent"),
                                OneHotEncoder(handle_unknown="ignore", sparse_output=False)),
          text)]).fit(features.iloc[train])
    x_train, x_test = (columns.transform(features.iloc[rows]).astype(np.float32)
                       for rows in (train, test))
    y_train, y_test = y[train], y[test]
    if regression:
        mean, scale = y_train.mean(), y_train.std()
        y_train, y_test = (y_train - mean) / scale, (y_test - mean) / scale
    scores = {"none": [], "l2": []}
    for name, strength in (("none", 0.0), ("l2", STRENGTH)):
        for seed in range(seeds):
            keras.utils.set_random_seed(seed)
            penalty = keras.regularizers.L2(strength) if strength else None
            model = keras.Sequential(
                [keras.Input((x_train.shape[1],))]
                + [keras.layers.Dense(width, activation="relu", kernel_regularizer=penalty)
                   for width in HIDDEN]
                + [keras.layers.Dense(1, activation=None if regression else "sigmoid")])
            model.compile(optimizer=keras.optimizers.Adam(RATE),
                          loss="mean_squared_error" if regression else "binary_crossentropy")
            model.fit(x_train, y_train, epochs=EPOCHS, batch_size=BATCH, verbose=0)
            predicted = np.asarray(model(x_test, training=False))[:, 0]
            scores[name].append(float(r2_score(y_test, predicted)) if regression else
                                float(np.mean((predicted > 0.5) == y_test)))
    return scores


def study(target: str, seeds: int) -> dict[str, list[float]]:
    """Test scores of the study's members: its preprocessing, the engine."""
    from weightreg import data, params
    from weightreg import study as studies

    p = params.load("params.yaml")
    settings = dataclasses.replace(p.data, source="csv", path=PATH, target=target,
                                   drop=("patient",))
    p = dataclasses.replace(p, data=settings, model=params.Model(HIDDEN),
                            train=dataclasses.replace(p.train, epochs=EPOCHS))
    dataset = data.prepare(p.data, p.selection.folds)
    outcomes = studies.sweep(p, dataset, [
        studies.Configuration("none", {}, "l2", {}),
        studies.hidden_kernel("l2", "l2", STRENGTH)], "tables", seeds=range(seeds))
    return {"none": outcomes[0].test_score.tolist(), "l2": outcomes[1].test_score.tolist()}


def compare(ours: list[float], theirs: list[float]) -> float:
    """The difference of the means in standard errors (Welch)."""
    error = math.sqrt(statistics.variance(ours) / len(ours)
                      + statistics.variance(theirs) / len(theirs))
    difference = statistics.mean(ours) - statistics.mean(theirs)
    return difference / error if error else (0.0 if difference == 0 else math.inf)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m weightreg.bench.tables",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, default=10)
    args = parser.parse_args(argv)
    rows = []
    print(f"{PATH}, [64, 64], {EPOCHS} epochs, batch {BATCH}, Adam {RATE:g}, {args.seeds} seeds;"
          " test score mean +- std over seeds", flush=True)
    print(f"{'target':<13}{'penalty':<10}{'study':>18}{'by hand (Keras)':>18}"
          f"{'difference / SE':>17}", flush=True)
    for target, task in TARGETS.items():
        ours, theirs = study(target, args.seeds), by_hand(target, args.seeds)
        for name in ("none", "l2"):
            z = compare(ours[name], theirs[name])
            rows.append({"target": target, "task": task, "penalty": name,
                         "study": ours[name], "by_hand": theirs[name], "z": z})
            print(f"{target:<13}{name:<10}"
                  f"{statistics.mean(ours[name]):>11.3f} +- {statistics.stdev(ours[name]):.3f}"
                  f"{statistics.mean(theirs[name]):>11.3f} +- "
                  f"{statistics.stdev(theirs[name]):.3f}{z:>17.2f}", flush=True)
    print(json.dumps(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
