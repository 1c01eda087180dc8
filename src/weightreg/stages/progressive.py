"""Stage `progressive`: lambda that rises during training, in one engine call.

(a) The Neural Smithing schedule: lambda 0, then 1e-5, 1e-4 and 1e-3 from given epochs on.
(b) Repeated regularization: the baseline's training (train.epochs epochs at lambda 0, exactly
    what the baseline stage runs), continued at each of `repeated.levels` in turn.
Both run side by side; each member's metrics are read at the end of its own schedule.
"""

import numpy as np

from weightreg import engine, io, schedules, stats, study
from weightreg.params import Params


def run(params: Params, data: str, metrics: str, curves: str, levels: str) -> None:
    split = study.load_split(data)
    smithing, repeated = params.progressive.smithing, params.progressive.repeated
    trained = params.train.epochs
    repeated_epochs = trained + len(repeated.levels) * repeated.epochs_per_level
    epochs = max(smithing.epochs, repeated_epochs)
    # Schedules hold their last value after their own end; those epochs are not read.
    smithing_lambda = schedules.smithing(epochs, smithing.points, smithing.interpolation)
    repeated_lambda = np.concatenate([
        schedules.repeated(trained, repeated.levels, repeated.epochs_per_level),
        np.full(epochs - repeated_epochs, repeated.levels[-1])])
    seeds = range(params.train.seeds)
    members = ([engine.Member(s, params.regularizer, (1.0, 0.0, 0.0, 0.0), smithing_lambda)
                for s in seeds]
               + [engine.Member(s, params.regularizer, (1.0, 0.0, 0.0, 0.0), repeated_lambda)
                  for s in seeds])
    result = study.train(params, split, members, "progressive", epochs)
    first, second = slice(0, len(seeds)), slice(len(seeds), 2 * len(seeds))

    smithing_curves = study.curves(result, first, smithing.epochs)
    smithing_test = result.history["test_acc"][smithing.epochs - 1, first]
    # Test accuracy at the end of the plain training, then at the end of each level.
    ends = [trained] + [trained + (i + 1) * repeated.epochs_per_level
                        for i in range(len(repeated.levels))]
    level_stats = [stats.describe(result.history["test_acc"][end - 1, second]) for end in ends]
    level_lambdas = [0.0, *repeated.levels]
    level_means = [level["mean"] for level in level_stats]
    smithing_stats = stats.describe(smithing_test)
    io.write({
        metrics: io.to_json({
            # Train accuracy as fit's history reports it for the last epoch (the batch pass
            # before its update): these members train on past smithing.epochs, toward
            # the repeated run's length, so their final weights are not the schedule's.
            "smithing": {"test_acc": smithing_stats["mean"],
                         "test_acc_std": smithing_stats["std"],
                         "test_acc_ci95": smithing_stats["ci95"],
                         "train_acc_last_epoch": smithing_curves["train_acc"][-1]},
            "repeated": {"baseline_test_acc": level_means[0], "final_test_acc": level_means[-1],
                         "best_test_acc": max(level_means),
                         "best_lambda": level_lambdas[int(np.argmax(level_means))]},
        }),
        curves: io.to_csv({**smithing_curves, "lambda": smithing_lambda[:smithing.epochs]}),
        levels: io.to_csv({"lambda": level_lambdas, "epoch": ends,
                           "test_acc": level_means,
                           "test_acc_std": [level["std"] for level in level_stats],
                           "test_acc_ci95_low": [level["ci95"][0] for level in level_stats],
                           "test_acc_ci95_high": [level["ci95"][1] for level in level_stats]}),
    })
