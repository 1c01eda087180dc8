"""Stage `boundaries`: the decision functions of seed 0 without a penalty, at the grid's best
lambda and at its strongest, over a mesh around the data (as scikit-learn's "Varying
regularization in Multi-layer Perceptron" example draws them). A picture of two inputs and one
probability: on data with more features, or another task, it draws why it does not apply."""

import numpy as np

from weightreg import data as prepared, engine, io, plots, study
from weightreg.params import Params

MARGIN = 0.5  # how far the mesh reaches beyond the data, in input units


def run(params: Params, *, data: str, points: str, grid: str, figure: str) -> str:
    dataset = prepared.load(data)
    coarse = study.Members(grid, "grid", needs=("kind", "lambda", "test"))
    if len(dataset.features) != 2 or dataset.task.name != "binary":
        why = (f"decision boundaries need two features and two classes; {dataset.source} has "
               f"{len(dataset.features)} features ({dataset.task.name})")
        io.write({figure: plots.png(plots.note("Decision boundaries", why))})
        return f"does not apply: {why}"
    split = dataset.split
    winner = study.best_label(coarse)
    kind, best = str(coarse.field(winner, "kind")), float(coarse.field(winner, "lambda"))
    strongest = max(params.grid.values)
    configurations = [study.Configuration(study.BASELINE),
                      study.hidden_kernel(f"best: {study.describe(kind, best)}", kind, best),
                      study.hidden_kernel(f"strongest: {study.describe(kind, strongest)}", kind,
                                          strongest)]
    outcomes = study.sweep(params, dataset, configurations, "boundaries", seeds=[0])
    coordinates = np.concatenate([split.x_train, split.x_test])
    axes = [np.linspace(low - MARGIN, high + MARGIN, params.boundaries.resolution)
            for low, high in zip(coordinates.min(axis=0), coordinates.max(axis=0))]
    x1, x2 = (a.ravel() for a in np.meshgrid(*axes))
    mesh = np.stack([x1, x2], axis=1).astype(np.float32)
    weights = tuple(np.concatenate(group) for group in zip(*(o.weights for o in outcomes)))
    # [configurations, mesh points]
    probability = engine.predict(study.network_of(params, dataset), weights, mesh)
    labels = [c.label for c in configurations]
    mesh_table = {"model": np.repeat(labels, len(mesh)), "x1": np.tile(x1, len(labels)),
                  "x2": np.tile(x2, len(labels)), "p": probability.ravel()}
    # The mesh is only a picture's worth of data: the stage draws it rather than put thousands
    # of rows on the review page.
    io.write({figure: plots.png(plots.boundaries(mesh_table, io.read_csv(points, "data")))})
    return f"seed 0: {', '.join(labels)}, {len(mesh)} mesh points each"
