"""Stage `progressive`: lambda that rises during training, on the hidden kernel.

(a) The Neural Smithing schedule: lambda 0, then 1e-5, 1e-4 and 1e-3 from given epochs on.
(b) Repeated regularization: the baseline's training (train.epochs epochs at lambda 0, exactly
    what the baseline stage runs), continued at each of `repeated.levels` in turn.
"""

import numpy as np

from weightreg import data as prepared, io, schedules, stats, study
from weightreg.params import Params


def scheduled(label: str, kind: str, schedule: np.ndarray) -> study.Configuration:
    """`kind` on the hidden kernel at strength schedule[epoch]."""
    return study.Configuration(label, {"schedule": label}, kind, {"hidden_kernel": 1.0},
                               schedule=schedule)


def run(params: Params, *, data: str, members: str, curves: str, levels: str,
        metrics: str) -> str:
    dataset = prepared.load(data)
    smithing, repeated = params.progressive.smithing, params.progressive.repeated
    trained = params.train.epochs
    repeated_epochs = trained + len(repeated.levels) * repeated.epochs_per_level
    kind = params.regularizer
    smithing_lambda = schedules.smithing(smithing.epochs, smithing.points, smithing.interpolation)
    repeated_lambda = schedules.repeated(trained, repeated.levels, repeated.epochs_per_level)
    # Two engine calls of the same shape share one compiled program. No early stopping: the
    # schedules are the study, and they need every epoch.
    (smith,) = study.sweep(params, dataset, [scheduled("smithing", kind, smithing_lambda)],
                           "progressive", epochs=smithing.epochs, curves=True, stopping=False)
    (levelled,) = study.sweep(params, dataset, [scheduled("repeated", kind, repeated_lambda)],
                              "progressive", epochs=repeated_epochs, curves=True,
                              stopping=False)
    smith_summary, curve = study.summary(smith), study.curves(smith)
    score = study.score(smith.task)
    # The test score at the end of the plain training, then at the end of each level.
    ends = [trained + i * repeated.epochs_per_level for i in range(len(repeated.levels) + 1)]
    level_stats = [stats.describe(levelled.history["test_score"][end - 1]) for end in ends]
    level_lambdas = [0.0, *repeated.levels]
    top = max(range(len(ends)), key=lambda i: (level_stats[i]["mean"], level_lambdas[i]))
    io.write({
        members: study.members_table([smith, levelled]),
        curves: io.to_csv(curve | {"lambda": smithing_lambda[curve["epoch"] - 1]}),
        levels: io.to_csv({"lambda": level_lambdas, "epoch": ends,
                           **{f"{score}{suffix}": [level[key] for level in level_stats]
                              for suffix, key in (("", "mean"), ("_std", "std"), ("_lo", "lo"),
                                                  ("_hi", "hi"))}}),
        metrics: io.to_json({f"smithing_{score}": smith_summary[score],
                             f"repeated_{score}": level_stats[top]["mean"]}),
    })
    return (f"{kind} by schedule, Neural Smithing "
            f"{study.headline(smith, smith_summary, smithing.epochs)}; repeated levels "
            f"{level_stats[0]['mean']:.3f} -> best {level_stats[top]['mean']:.3f} at "
            f"{level_lambdas[top]:g}")


def figures(picture, tables):
    from weightreg import plots

    return {"progressive": plots.progressive(tables["progressive"], tables["repeated"],
                                                picture.dataset.task)}
