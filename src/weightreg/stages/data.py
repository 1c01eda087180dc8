"""Stage `data`: the two-moons split as plain data.

It depends on all of params.yaml, and `python -m weightreg` validates all of it before any stage
runs, so a bad value anywhere stops `dvc repro` here, before DVC deletes any later stage's
outputs. It checks WEIGHTREG_BACKEND (and a Dask scheduler's address) here too. Its output persists, and the same params give the same bytes, so later stages rerun only
when the split changes.
"""

from weightreg import cluster, data, io
from weightreg.params import Params


def run(params: Params, *, out: str) -> str:
    split = data.make(params.data)
    where = cluster.check()
    io.write({out: data.to_csv(split)})
    return (f"{len(split.y_train)} training rows, {len(split.y_test)} test rows; the engine "
            f"trains {where}")


def figures(data, tables):
    from weightreg import plots

    return {"data": plots.data_scatter(data)}
