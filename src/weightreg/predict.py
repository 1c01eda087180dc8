"""`python -m weightreg.predict MODEL.keras ROWS.csv [--out PREDICTIONS.csv]`: a kept model
(`weightreg.export`) on rows as the source has them: text, missing values, true/false and dates
as in the study's CSV; the target column may be there or not, and is not read.

Each row goes through the preprocessing fitted on the study's training rows, then the network.
Out comes one row per input row: the columns of `data.drop` that the rows hold (an identifier
tells the rows apart), then the prediction in the user's terms: the class name with each
class's probability, or the target in its own units.
"""

from __future__ import annotations

import argparse
import pickle
import sys

import numpy as np

from weightreg import io
from weightreg.export import ROWS


class Model:
    """A kept model and the preprocessing that feeds it."""

    def __init__(self, path: str):
        from weightreg import backend

        try:
            with open(path + ROWS, "rb") as file:
                self.rows = pickle.load(file)
        except FileNotFoundError:
            raise io.BadInput(f"{path + ROWS}: no such file; `python -m weightreg.export "
                              f"{path}` writes it beside the model") from None
        try:
            self.network = backend.keras().models.load_model(path)
        except (OSError, ValueError) as error:
            raise io.BadInput(f"{path}: not a Keras model file ({error})") from None

    def inputs(self, frame, source: str) -> np.ndarray:
        """The network's inputs of raw rows."""
        from weightreg import preprocess

        fitted = self.rows["fitted"]
        if fitted is None:  # two moons: the features as they are
            fitted_columns = preprocess.Columns(tuple(self.rows["features"]), ())
            return preprocess.typed(frame, fitted_columns, source).to_numpy(np.float32)
        return np.asarray(fitted.inputs(preprocess.typed(frame, fitted.columns, source)),
                          np.float32)

    def predict(self, frame, source: str = "the rows") -> dict[str, list]:
        """One prediction per row of `frame`: the kept columns, then the prediction."""
        outputs = np.asarray(self.network.predict(self.inputs(frame, source), verbose=0),
                             np.float64)
        kept = {name: frame[name].tolist() for name in self.rows["keep"] if name in frame}
        classes = self.rows["classes"]
        if not classes:  # regression: back in the target's units
            fitted = self.rows["fitted"]
            values = outputs[:, 0] if fitted is None else fitted.units(outputs[:, 0])
            return {**kept, "prediction": values.tolist()}
        if len(classes) == 2:  # one sigmoid output: the probability of the second class
            probability = np.stack([1 - outputs[:, 0], outputs[:, 0]], axis=1)
            chosen = (outputs[:, 0] > 0.5).astype(int)  # Keras' accuracy: p > 0.5
        else:
            probability, chosen = outputs, outputs.argmax(axis=1)
        return {**kept, "prediction": [classes[c] for c in chosen],
                **{f"p({name})": probability[:, c].tolist() for c, name in enumerate(classes)}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m weightreg.predict", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", help="the .keras file that `python -m weightreg.export` wrote")
    parser.add_argument("rows", help="a CSV of rows with the study's feature columns")
    parser.add_argument("--out", help="the CSV to write (default: standard output)")
    args = parser.parse_args(argv)
    import pandas as pd

    try:
        try:
            frame = pd.read_csv(args.rows)
        except (OSError, UnicodeDecodeError, pd.errors.ParserError,
                pd.errors.EmptyDataError) as error:
            raise io.BadInput(f"{args.rows}: not a readable CSV file ({error})") from None
        table = io.to_csv(Model(args.model).predict(frame, args.rows), exact=True)
        if args.out:
            io.write({args.out: table})
        else:
            sys.stdout.write(table)
    except io.BadInput as error:
        print(f"weightreg predict: error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
