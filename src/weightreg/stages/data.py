"""Stage `data`: the two-moons split as plain data."""

from weightreg import data, io
from weightreg.params import Params


def run(params: Params, out: str) -> None:
    io.write({out: data.to_csv(data.make(params.data))})
