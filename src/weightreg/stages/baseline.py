"""Stage `baseline`: the overfit MLP, without regularization, once per seed."""

from weightreg import io, study
from weightreg.params import Params


def run(params: Params, data: str, metrics: str, curves: str) -> None:
    split = study.load_split(data)
    result = study.train(params, split, study.hidden_kernel_members(params, "l2", 0.0), "baseline")
    io.write({metrics: io.to_json(study.summary(result)),
              curves: io.to_csv(study.curves(result))})
