"""A table as users have it, made into numbers the network takes, without leaks.

Reading (`tidy`, once per source): the columns of `data.drop` are left out; rows whose target is
missing are dropped and counted; true/false columns become 1/0; text columns whose every value
is an ISO 8601 date (2024-03-01, 2024-03-01T12:00) become numbers, the date in years
(2024.16), because a date means an order in time, which a number keeps and one-hot loses, and
only ISO 8601 is read, because 01/02/2024 is a different day in different countries; a text
column with a distinct value in most rows is an identifier and is refused (name it in
`data.drop`). What is missing is imputed (`data.missing: impute`), dropped with its row
(`drop`) or refused (`error`).

Fitting (`fit`, once per split, re-split and fold, on its training rows alone): scikit-learn's
`ColumnTransformer`. Numbers: `SimpleImputer(strategy="median")`, then `StandardScaler`. Text:
`SimpleImputer(strategy="most_frequent")`, then `OneHotEncoder(handle_unknown="ignore")`. The
one-hot columns are laid out from every category in the file, so that every split and fold
trains the same network; a category that a split's training rows lack is a column of zeros in
its training and its test rows alike, as `handle_unknown="ignore"` treats a category it has not
seen: no value of a held-out row reaches its model. A regression target is standardized with
the training rows' mean and standard deviation.

It imports scikit-learn (about a second): `weightreg.data` imports it only where a table is read.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin

from weightreg.io import BadInput

IDENTIFIER_SHARE = 0.5  # a text column with distinct values in more than this share of rows...
IDENTIFIER_LEAST = 20   # ... and more than this many distinct values is an identifier
FLOAT32_MAX = float(np.finfo(np.float32).max)


@dataclass(frozen=True)
class Columns:
    """What each kept feature column is, in the file's order within each kind."""

    numeric: tuple[str, ...]  # numbers, true/false (as 1/0) and ISO dates (as years)
    text: tuple[str, ...]
    categories: tuple[tuple[str, ...], ...] = ()  # each text column's categories in the file
    dates: tuple[str, ...] = ()  # the numeric columns that were dates

    @property
    def features(self) -> tuple[str, ...]:
        """The names of the network's inputs: each number, then each `column=category`."""
        return self.numeric + tuple(f"{column}={category}" for column, categories in
                                    zip(self.text, self.categories) for category in categories)


def tidy(frame, target: str, source: str, drop: tuple[str, ...] = (), missing: str = "impute",
         categorical: str = "onehot"):
    """The features and the target of a table read by pandas, checked and typed (see the
    module's docstring). Returns (features, target, Columns, notes), notes saying what was done."""
    import pandas as pd

    absent = [name for name in drop if name not in frame.columns]
    if absent:
        raise BadInput(f"params.yaml: data.drop = {list(drop)!r} names {', '.join(absent)}, not "
                       f"columns of {source}; its columns are {', '.join(map(str, frame.columns))}")
    if target in drop:
        raise BadInput(f"params.yaml: data.drop = {list(drop)!r} holds the target "
                       f"data.target = {target!r}; expected feature columns only")
    notes = []
    y = frame[target]
    unlabelled = int(y.isna().sum())
    if unlabelled:
        frame = frame[y.notna()]
        notes.append(f"{unlabelled} rows without a target dropped")
    features = frame.drop(columns=[target, *drop]).reset_index(drop=True)
    y = frame[target].reset_index(drop=True)
    if features.shape[1] == 0:
        raise BadInput(f"{source}: has no feature columns besides the target {target!r}"
                       + (" and data.drop" if drop else ""))
    if len(features) == 0:
        raise BadInput(f"{source}: has no rows" + (" with a target" if unlabelled else ""))
    empty = [str(name) for name in features.columns if features[name].isna().all()]
    if empty:
        raise BadInput(f"{source}: columns {', '.join(empty)} hold no values; leave them out "
                       "with data.drop")
    numeric, text, dates = [], [], []
    for name in features.columns:
        values = features[name].dropna()
        if _booleans(values) or pd.api.types.is_numeric_dtype(features[name]):
            numeric.append(name)
        elif _years(values) is not None:
            numeric.append(name)
            dates.append(name)
        else:
            text.append(name)
    # Converted as new rows will be (`typed`): the study and a kept model read alike.
    features = typed(features, Columns(tuple(numeric), tuple(text), (), tuple(dates)), source)
    if text and categorical == "error":
        raise BadInput(f"{source}: feature columns {', '.join(map(str, text))} are not numeric "
                       "(data.categorical = 'error'); encode them, leave them out with "
                       "data.drop, or set data.categorical: onehot")
    for name in text:
        values = features[name].dropna()
        distinct = values.nunique()
        if distinct > IDENTIFIER_LEAST and distinct > IDENTIFIER_SHARE * len(values):
            raise BadInput(f"{source}: column {name} has {distinct} distinct values in "
                           f"{len(values)} rows: an identifier or free text, not a category; "
                           f"leave it out with data.drop (-S 'data.drop=[{name}]')")
    _finite(features[numeric], source)
    holes = features.isna().sum()
    holes = holes[holes > 0]
    if len(holes):
        where = ", ".join(f"{name} ({count})" for name, count in holes.items())
        if missing == "error":
            raise BadInput(f"{source}: {int(holes.sum())} missing values, in columns {where} "
                           "(data.missing = 'error'); fill them, or set data.missing: impute "
                           "or drop")
        if missing == "drop":
            kept = features.notna().all(axis=1).to_numpy()
            features, y = (features[kept].reset_index(drop=True),
                           y[kept].reset_index(drop=True))
            notes.append(f"{int((~kept).sum())} rows with missing values dropped ({where})")
            if len(features) == 0:
                raise BadInput(f"{source}: every row misses a value (data.missing = 'drop'); "
                               "set data.missing: impute")
        else:
            notes.append(f"{int(holes.sum())} missing values imputed ({where})")
    categories = tuple(tuple(sorted(features[name].dropna().unique())) for name in text)
    if text:
        notes.append("one-hot " + ", ".join(f"{name} ({len(found)})"
                                            for name, found in zip(text, categories)))
    if dates:
        notes.append(f"dates as years: {', '.join(map(str, dates))}")
    columns = Columns(tuple(map(str, numeric)), tuple(map(str, text)), categories,
                      tuple(map(str, dates)))
    features.columns = [str(name) for name in features.columns]
    return features[list(columns.numeric + columns.text)], y, columns, tuple(notes)


def typed(frame, columns: Columns, source: str):
    """The feature columns of a table typed as `columns` says: true/false as 1/0, ISO dates as
    years, text as text. `tidy` types the study's rows with it, `weightreg.predict` new rows:
    the feature columns must all be there."""
    import pandas as pd

    absent = [name for name in columns.numeric + columns.text if name not in frame.columns]
    if absent:
        raise BadInput(f"{source}: lacks the feature columns {', '.join(absent)}")
    wanted = set(columns.numeric + columns.text)
    frame = frame[[name for name in frame.columns if name in wanted]].copy()  # the file's order
    for name in columns.numeric:
        values = frame[name].dropna()
        if name in columns.dates:
            years = _years(values.astype(str))
            if years is None:
                raise BadInput(f"{source}: column {name} holds values that are not ISO 8601 "
                               "dates (2024-03-01)")
            frame[name] = np.nan
            frame.loc[values.index, name] = years
        elif _booleans(values):
            frame[name] = frame[name].map({True: 1.0, False: 0.0})
        try:
            frame[name] = frame[name].astype(np.float64)
        except (TypeError, ValueError):
            raise BadInput(f"{source}: column {name} holds values that are not numbers") from None
    for name in columns.text:
        frame[name] = frame[name].map(str, na_action="ignore")
    return frame


def _booleans(values) -> bool:
    """Whether a column's values are true/false (pandas' bool, or bools beside gaps)."""
    import pandas as pd

    return len(values) > 0 and (pd.api.types.is_bool_dtype(values)
                                or values.map(type).eq(bool).all())


def _years(values):
    """The values as dates in years (2024.16), if every one is an ISO 8601 date; else None."""
    import pandas as pd

    if not len(values) or not values.map(type).eq(str).all() or \
            not values.str.match(r"^\d{4}-\d{2}-\d{2}([ T].*)?$").all():
        return None
    try:
        when = pd.to_datetime(values, format="ISO8601")
    except (ValueError, TypeError, OverflowError):
        return None
    start = pd.to_datetime(when.dt.year.astype(str) + "-01-01")
    length = (start + pd.DateOffset(years=1)) - start
    return (when.dt.year + (when - start) / length).to_numpy(np.float64)


def _finite(numbers, source: str) -> None:
    """Numbers the network can take: finite and within float32."""
    values = numbers.to_numpy(np.float64)
    bad = [str(name) for name, column in zip(numbers.columns, values.T)
           if (np.abs(column[~np.isnan(column)]) > FLOAT32_MAX).any()]
    if bad:
        raise BadInput(f"{source}: columns {', '.join(bad)} hold infinite values or values "
                       f"beyond {FLOAT32_MAX:.3g} (float32); replace or drop them before the "
                       "study")


class TrainingCategories(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """The last step of the one-hot part: the columns of categories that the training rows
    lack are zeros, as `OneHotEncoder(handle_unknown="ignore")` fitted on them alone makes them."""

    def fit(self, x, y=None):
        self.seen_ = np.asarray(x).any(axis=0)
        return self

    def transform(self, x):
        return np.asarray(x) * self.seen_


def transformer(columns: Columns):
    """The unfitted `ColumnTransformer` of a table's columns: numbers first, then text."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    parts = []
    if columns.numeric:
        parts.append(("numbers", make_pipeline(
            SimpleImputer(strategy="median", keep_empty_features=True), StandardScaler()),
            list(columns.numeric)))
    if columns.text:
        parts.append(("text", make_pipeline(
            SimpleImputer(strategy="most_frequent", keep_empty_features=True),
            OneHotEncoder(categories=[list(found) for found in columns.categories],
                          handle_unknown="ignore", sparse_output=False),
            TrainingCategories()), list(columns.text)))
    return ColumnTransformer(parts, sparse_threshold=0)


@dataclass(frozen=True)
class Fitted:
    """Preprocessing fitted on one split's training rows: raw rows in, the network's inputs
    out; a regression target to and from its standardized values."""

    columns: Columns
    features: object  # the fitted ColumnTransformer
    target_mean: float = 0.0  # a regression target's training mean and standard deviation
    target_scale: float = 1.0

    def inputs(self, frame) -> np.ndarray:
        return self.features.transform(frame[list(self.columns.numeric + self.columns.text)])

    def target(self, y: np.ndarray) -> np.ndarray:
        return (y - self.target_mean) / self.target_scale

    def units(self, y: np.ndarray) -> np.ndarray:
        """Standardized target values back in the target's own units."""
        return np.asarray(y, np.float64) * self.target_scale + self.target_mean


def fit(frame, columns: Columns, y_train: np.ndarray | None = None) -> Fitted:
    """Fitted on the training rows `frame` (and a regression target's training values)."""
    from sklearn.preprocessing import StandardScaler

    features = transformer(columns).fit(frame)
    if y_train is None:
        return Fitted(columns, features)
    target = StandardScaler().fit(np.asarray(y_train, np.float64)[:, None])
    return Fitted(columns, features, float(target.mean_[0]), float(target.scale_[0]))
