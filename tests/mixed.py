"""A real table as users have it: scikit-learn's diabetes data (442 patients, raw units) made
into the kind of CSV a clinic exports. `data/patients.csv` is this table, committed so that the
README's command runs on it; `test_preprocess.py` checks that the file is what this makes.

- `patient`: an identifier (P0001, ...), which the study refuses until `data.drop` names it;
- `sex`: text (female for diabetes' 1, male for its 2), missing in 11 rows;
- `high_bp`: true/false, blood pressure above 100;
- `visit`: the date of the visit (ISO 8601), a number in years to the study;
- `bmi`: missing in 17 rows, and `s5` in 6;
- `progression`, the target: missing in 8 rows, which the study drops.
"""

import numpy as np


def patients():
    import pandas as pd
    from sklearn.datasets import load_diabetes

    bunch = load_diabetes(scaled=False)
    frame = pd.DataFrame(bunch.data, columns=bunch.feature_names)
    rows = len(frame)
    rng = np.random.default_rng(0)
    table = pd.DataFrame({"patient": [f"P{i + 1:04d}" for i in range(rows)]})
    table["age"] = frame["age"].astype(int)
    table["sex"] = frame["sex"].map({1.0: "female", 2.0: "male"})
    table["bmi"] = frame["bmi"]
    table["high_bp"] = frame["bp"] > 100
    table["visit"] = (pd.Timestamp("2003-01-06") + pd.to_timedelta(
        rng.integers(0, 3 * 365, rows), unit="D")).strftime("%Y-%m-%d")
    for name in ("s1", "s2", "s3", "s4", "s5", "s6"):
        table[name] = frame[name]
    table["progression"] = bunch.target
    for column, count in (("sex", 11), ("bmi", 17), ("s5", 6), ("progression", 8)):
        table.loc[rng.choice(rows, count, replace=False), column] = np.nan
    return table


def patients_csv() -> str:
    return patients().to_csv(index=False)
