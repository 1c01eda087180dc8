"""Stage `boundaries`: the decision functions of seed 0 without a penalty, at the grid's best
lambda and at its strongest, over a mesh around the data (as scikit-learn's "Varying
regularization in Multi-layer Perceptron" example draws them)."""

import numpy as np

from weightreg import engine, io, study
from weightreg.params import Params

MARGIN = 0.5  # how far the mesh reaches beyond the data, in input units


def run(params: Params, data: str, grid: str, table: str) -> None:
    split = study.load_split(data)
    kind, best_lambda = study.read_json(grid, ("best_kind", "best_lambda"), "grid")
    best_lambda = float(best_lambda)
    strongest = max(params.grid.values)
    models = {"no penalty": 0.0, f"best: {kind}({best_lambda:g})": best_lambda,
              f"strongest: {kind}({strongest:g})": strongest}
    members = [engine.Member.hidden_kernel(0, kind, value) for value in models.values()]
    result = study.train(params, split, members, "boundaries")
    points = np.concatenate([split.x_train, split.x_test])
    axes = [np.linspace(low - MARGIN, high + MARGIN, params.boundaries.resolution)
            for low, high in zip(points.min(axis=0), points.max(axis=0))]
    x1, x2 = (a.ravel() for a in np.meshgrid(*axes))
    mesh = np.stack([x1, x2], axis=1).astype(np.float32)
    probability = engine.predict(result.weights, mesh)  # [models, mesh points]
    io.write({table: io.to_csv({"model": np.repeat(list(models), len(mesh)),
                                "x1": np.tile(x1, len(models)), "x2": np.tile(x2, len(models)),
                                "p": probability.ravel()})})
