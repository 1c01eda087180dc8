"""`python -m weightreg.export OUT.keras [--seed S]`: one member of the `regularized` stage, to
keep and to use on new rows. It trains that member again (seconds) with the settings of
params.yaml and writes two files:

- `OUT.keras`, a standard Keras model file that `keras.models.load_model` opens and that
  predicts what the engine predicts, from the network's inputs (standardized numbers, one-hot
  columns);
- `OUT.keras.rows.pkl`, what turns rows as the source has them into those inputs, and outputs
  into the user's labels: the preprocessing fitted on the study's training rows (imputing,
  standardizing, one-hot), the class names, a regression target's units.

`python -m weightreg.predict OUT.keras ROWS.csv` uses both (`weightreg.predict`).

Not a pipeline stage: the file's bytes carry Keras' save date, and an output DVC cannot restore
from its run-cache would make every `dvc exp run -S lambda=...` train twice.
"""

from __future__ import annotations

import argparse
import pickle
import sys

from weightreg import data, io, models, params, study

ROWS = ".rows.pkl"  # the suffix of the preprocessing's file, after the model's own name


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m weightreg.export", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", help="the .keras file to write")
    parser.add_argument("--seed", type=int, default=0, help="the member's seed (default 0)")
    parser.add_argument("--params", default="params.yaml", help="the params file")
    args = parser.parse_args(argv)
    try:
        p = params.load(args.params)
        configuration = study.hidden_kernel(study.describe(p.regularizer, p.lam), p.regularizer,
                                            p.lam)
        dataset = data.prepare(p.data, p.selection.folds)
        (outcome,) = study.sweep(p, dataset, [configuration], "export", seeds=[args.seed])
    except io.BadInput as error:
        print(f"weightreg export: error: {error}", file=sys.stderr)
        return 2
    rows = {"task": dataset.task.name, "classes": dataset.classes, "features": dataset.features,
            "fitted": dataset.rows.fitted if dataset.rows else None,
            "keep": p.data.drop, "source": dataset.source}
    io.write({args.out: models.keras_bytes(study.network_of(p, dataset),
                                           tuple(w[0] for w in outcome.weights), p.regularizer,
                                           {"hidden_kernel": p.lam}, p.train.learning_rate,
                                           dataset.task),
              args.out + ROWS: pickle.dumps(rows, protocol=5)})
    print(f"{args.out} (and {args.out + ROWS}): {configuration.label} on the hidden kernel, "
          f"seed {args.seed}, test {dataset.task.score_name} {outcome.test_score[0]:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
