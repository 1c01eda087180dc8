"""`python -m weightreg STAGE --params params.yaml --OUTPUT path ...`: one command per DVC stage.

Paths come from dvc.yaml; this module only maps them onto the stage functions and turns every
expected failure (bad params, missing or damaged inputs) into one clear line and exit status 2.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

# Each stage's path arguments, in the order of its `run` function after `params`.
STAGES = {
    "data": ("out",),
    "baseline": ("data", "metrics", "curves"),
    "regularized": ("data", "baseline", "metrics", "curves", "model"),
    "grid": ("data", "baseline", "metrics", "table"),
    "refine": ("data", "baseline", "grid", "coarse", "metrics", "table"),
    "layerwise": ("data", "baseline", "metrics", "table"),
    "decoupled": ("data", "baseline", "metrics", "table"),
    "placement": ("data", "baseline", "metrics", "table"),
    "boundaries": ("data", "grid", "table"),
    "progressive": ("data", "metrics", "curves", "levels"),
    "sequence": ("metrics", "table"),
    "plots": ("data", "baseline", "regularized", "grid", "refine", "layerwise", "decoupled",
              "progressive", "levels", "placement", "boundaries", "sequence", "data_png",
              "curves_png", "grid_png", "norms_png", "layerwise_png", "decoupled_png",
              "progressive_png", "placement_png", "boundaries_png", "sequence_png"),
}
USES_PARAMS = {name for name in STAGES if name != "plots"}


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python -m weightreg", description=__doc__.split("\n")[0])
    commands = root.add_subparsers(dest="stage", required=True, metavar="STAGE")
    for name, paths in STAGES.items():
        module = importlib.import_module(f"weightreg.stages.{name}")
        command = commands.add_parser(name, help=module.__doc__.split("\n")[0])
        if name in USES_PARAMS:
            command.add_argument("--params", default="params.yaml", help="the params file")
        for path in paths:
            command.add_argument(f"--{path.replace('_', '-')}", dest=path, required=True,
                                 metavar="PATH")
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    # TensorFlow's C++ start-up chatter hides the messages that matter; keep its warnings.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "1")
    from weightreg import params as params_module

    module = importlib.import_module(f"weightreg.stages.{args.stage}")
    paths = {path: getattr(args, path) for path in STAGES[args.stage]}
    try:
        if args.stage in USES_PARAMS:
            module.run(params_module.load(args.params), **paths)
        else:
            module.run(**paths)
    except ValueError as error:  # ParamsError included: the message names key, value, allowed
        print(f"weightreg {args.stage}: error: {error}", file=sys.stderr)
        return 2
    return 0
