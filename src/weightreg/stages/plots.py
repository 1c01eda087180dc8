"""Stage `plots`: PNG figures from the saved plot data; no training, no TensorFlow."""

from weightreg import io, plots


def run(data: str, baseline: str, regularized: str, grid: str, progressive: str, levels: str,
        data_png: str, curves_png: str, grid_png: str, progressive_png: str) -> None:
    figures = {
        data_png: plots.data_scatter(io.read_csv(data)),
        curves_png: plots.learning_curves({"baseline": io.read_csv(baseline),
                                           "regularized": io.read_csv(regularized)}),
        grid_png: plots.lambda_curve(io.read_csv(grid)),
        progressive_png: plots.progressive(io.read_csv(progressive), io.read_csv(levels)),
    }
    io.write({path: plots.png(figure) for path, figure in figures.items()})
