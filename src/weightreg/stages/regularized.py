"""Stage `regularized`: the tutorial's model with `regularizer(lambda)` on the hidden kernel."""

from weightreg import io, models, study
from weightreg.params import Params


def run(params: Params, data: str, baseline: str, metrics: str, curves: str, model: str) -> None:
    split = study.load_split(data)
    control = study.load_baseline(baseline, params.train.seeds, len(split.y_test))
    members = study.hidden_kernel_members(params, params.regularizer, params.lam)
    result = study.train(params, split, members, "regularized")
    # The seed-0 member as a model users can keep: plain Keras loads it and predicts the same.
    seed_zero = models.keras_bytes(tuple(w[0] for w in result.weights), params.regularizer,
                                   {"hidden_kernel": params.lam}, params.train.learning_rate)
    io.write({metrics: io.to_json(study.summary(result, baseline=control)),
              curves: io.to_csv(study.curves(result)), model: seed_zero})
