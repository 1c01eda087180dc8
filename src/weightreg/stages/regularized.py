"""Stage `regularized`: the tutorial's model with `regularizer(lambda)` on the hidden kernel."""

from weightreg import io, study
from weightreg.params import Params


def run(params: Params, data: str, metrics: str, curves: str) -> None:
    split = study.load_split(data)
    members = study.hidden_kernel_members(params, params.regularizer, params.lam)
    result = study.train(params, split, members, "regularized")
    io.write({metrics: io.to_json(study.summary(result)),
              curves: io.to_csv(study.curves(result))})
