"""`python -m weightreg.export OUT.keras [--seed S]`: one member of the `regularized` stage as a
standard Keras model file, which `keras.models.load_model` opens and which predicts what the
engine predicts. It trains that member again (seconds) with the settings of params.yaml.

Not a pipeline stage: the file's bytes carry Keras' save date, and an output DVC cannot restore
from its run-cache would make every `dvc exp run -S lambda=...` train twice.
"""

from __future__ import annotations

import argparse
import sys

from weightreg import data, io, models, params, study


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m weightreg.export", description=__doc__)
    parser.add_argument("out", help="the .keras file to write")
    parser.add_argument("--seed", type=int, default=0, help="the member's seed (default 0)")
    parser.add_argument("--params", default="params.yaml", help="the params file")
    parser.add_argument("--data", default="data/split.npz", help="the data stage's split")
    args = parser.parse_args(argv)
    try:
        p = params.load(args.params)
        configuration = study.hidden_kernel(study.describe(p.regularizer, p.lam), p.regularizer,
                                            p.lam)
        dataset = data.load(args.data)
        (outcome,) = study.sweep(p, dataset, [configuration], "export", seeds=[args.seed])
    except io.BadInput as error:
        print(f"weightreg export: error: {error}", file=sys.stderr)
        return 2
    io.write({args.out: models.keras_bytes(tuple(w[0] for w in outcome.weights), p.regularizer,
                                           {"hidden_kernel": p.lam}, p.train.learning_rate,
                                           dataset.task)})
    print(f"{args.out}: {configuration.label} on the hidden kernel, seed {args.seed}, test "
          f"{dataset.task.score_name} {outcome.test_score[0]:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
