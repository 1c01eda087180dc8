"""Stage `baseline`: the overfit MLP, without regularization, once per seed."""

from weightreg import data as prepared, io, study
from weightreg.params import Params


def run(params: Params, *, data: str, members: str, curves: str) -> str:
    (outcome,) = study.sweep(params, prepared.load(data), [study.Configuration(study.BASELINE)],
                             "baseline", curves=True)
    # Its test rows are the control of every row-level test.
    io.write({members: study.members_table([outcome], test_rows=True),
              curves: io.to_csv(study.curves(outcome))})
    return f"no penalty, {study.headline(outcome, study.summary(outcome), params.train.epochs)}"
