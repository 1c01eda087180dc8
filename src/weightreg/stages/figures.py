"""Stage `figures`: every study's PNG figures, drawn from the saved plot data; no training, no
TensorFlow. A study draws figures by defining `figures(picture, tables)` in its stage module:
`picture` has the data's points and what the data is (`Picture`), `tables` the plot data."""

import importlib
import pkgutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from weightreg import data as prepared, io, plots, stages


@dataclass(frozen=True)
class Picture:
    points: Mapping[str, np.ndarray]  # data/points.csv: x1, x2, y, split
    dataset: prepared.Dataset


# The stage that writes each plot-data table, where it is not the table's name.
WRITTEN_BY = {"repeated": "progressive"}


class Tables(Mapping):
    """The plot-data tables of a folder by name (`grid` for grid.csv), read when first used; a
    missing or damaged one, or a missing column, names the stage to rerun."""

    def __init__(self, folder: str):
        self.folder, self.read = Path(folder), {}

    def __getitem__(self, name: str):
        if name not in self.read:
            self.read[name] = io.read_csv(self.folder / f"{name}.csv",
                                          WRITTEN_BY.get(name, name)).check_numbers()
        return self.read[name]

    def __iter__(self):
        return (path.stem for path in sorted(self.folder.glob("*.csv")))

    def __len__(self):
        return len(list(self.folder.glob("*.csv")))


def run(*, data: str, points: str, tables: str, out: str) -> str:
    picture = Picture(io.read_csv(points, "data"), prepared.load(data))
    found = Tables(tables)
    drawn = {}
    for module in pkgutil.iter_modules(stages.__path__):
        stage = importlib.import_module(f"weightreg.stages.{module.name}")
        if hasattr(stage, "figures"):
            drawn.update(stage.figures(picture, found))
    out = Path(out)
    io.write({out / f"{name}.png": plots.png(figure) for name, figure in sorted(drawn.items())})
    return f"{len(drawn)} figures in {out}/"
