"""Stage `plots`: PNG figures from the saved plot data; no training, no TensorFlow."""

from weightreg import io, plots


def run(data: str, baseline: str, regularized: str, grid: str, refine: str, layerwise: str,
        decoupled: str, progressive: str, levels: str, placement: str, boundaries: str,
        sequence: str, data_png: str, curves_png: str, grid_png: str, norms_png: str,
        layerwise_png: str, decoupled_png: str, progressive_png: str, placement_png: str,
        boundaries_png: str, sequence_png: str) -> None:
    points, grid_table = io.read_csv(data), io.read_csv(grid)
    figures = {
        data_png: plots.data_scatter(points),
        curves_png: plots.learning_curves({"baseline": io.read_csv(baseline),
                                           "regularized": io.read_csv(regularized)}),
        grid_png: plots.lambda_curve(grid_table, io.read_csv(refine)),
        norms_png: plots.weight_norms(grid_table),
        layerwise_png: plots.layerwise(io.read_csv(layerwise)),
        decoupled_png: plots.lambda_curve(io.read_csv(decoupled), title="Coupled l2 against "
                                          "decoupled weight decay (AdamW), hidden kernel",
                                          xlabel="strength"),
        progressive_png: plots.progressive(io.read_csv(progressive), io.read_csv(levels)),
        placement_png: plots.placement(io.read_csv(placement)),
        boundaries_png: plots.boundaries(io.read_csv(boundaries), points),
        sequence_png: plots.sequence(io.read_csv(sequence)),
    }
    io.write({path: plots.png(figure) for path, figure in figures.items()})
