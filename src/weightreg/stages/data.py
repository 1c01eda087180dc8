"""Stage `data`: the prepared split (two moons, a scikit-learn dataset or a CSV; see
`weightreg.data`), and a table of its points for the data picture.

It depends on all of params.yaml, and `python -m weightreg` validates all of it before any stage
runs, so a bad value anywhere stops `dvc repro` here, before DVC deletes any later stage's
outputs. It also reads and checks the source (a CSV's columns, classes and missing values) and
every split the study will make of it (replication's draws, selection's folds), what the study
needs in memory (`sizes`), and WEIGHTREG_BACKEND (and a Dask scheduler's address). Its outputs
persist, and the same params and source give the same bytes, so later stages rerun only when
the split changes.
"""

from weightreg import cluster, data, io, sizes, study, timing
from weightreg.params import Params


def run(params: Params, *, split: str, points: str, metrics: str) -> str:
    sizes.before(params)  # what params alone size, before anything is made
    dataset = data.prepare(params.data, params.selection.folds)
    # A study too large for this machine's memory stops here, before anything is deleted.
    # model.layers on the rows' shape (data.shape): a layer that does not fit stops here too.
    network = study.network_of(params, dataset)
    sizes.check(params, network, len(dataset.split.y_train), len(dataset.split.y_test))
    # Every draw of replication and fold of selection, as those stages will make them.
    data.check_study(dataset, params.data, params.replication.draws, params.selection.folds,
                     params.selection.draws)
    study.check_stopping(params, len(dataset.split.y_train), params.selection.folds)
    where = cluster.check()
    # Before anything trains: how long the rest will take (README, "Your own data": "How
    # long"), from the engine's speed in this process; a Dask cluster's is its own.
    took = "" if cluster.chosen() else f"; {timing.estimate(params, dataset)}"
    io.write({split: data.to_bytes(dataset), points: data.points_csv(dataset),
              # What the study ran on, the first columns of `dvc exp show`; `test_score`
              # everywhere is this score.
              metrics: io.to_json({"data": dataset.source, "task": dataset.task.name,
                                   "score": dataset.task.score_name,
                                   # Your own network, in one line (the MLP shorthand's
                                   # widths are a params column already).
                                   **({"network": network.summary()} if params.model.layers
                                      else {})})})
    return f"{dataset.describe()}; the engine trains {where}{took}"


def figures(picture, tables):
    from weightreg import plots

    return {"data": plots.data_scatter(picture.points, picture.dataset)}
