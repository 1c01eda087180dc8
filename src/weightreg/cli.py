"""`python -m weightreg STAGE [--params params.yaml] --NAME PATH ...`: one command per DVC stage.

A stage is a module in `weightreg.stages` with a `run` function. Its keyword-only arguments are
the stage's paths (`--data`, `--members`, ...), which come from dvc.yaml; a first argument
`params` gets params.yaml, read and validated in full before anything runs. `run` returns the
stage's result, printed as one line with the time it took.

Bad input (params, input files, the command line) stops a stage with one line and exit status
2; any other exception is a programming error and keeps its traceback.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import os
import pkgutil
import sys
import time
from pathlib import Path

from weightreg import cluster, guard, stages
from weightreg.io import BadInput


def stage_modules() -> dict:
    return {module.name: importlib.import_module(f"weightreg.stages.{module.name}")
            for module in pkgutil.iter_modules(stages.__path__)}


def parser(modules: dict) -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python -m weightreg", description=__doc__.split("\n")[0])
    commands = root.add_subparsers(dest="stage", required=True, metavar="STAGE")
    for name, module in modules.items():
        command = commands.add_parser(name, help=module.__doc__.split("\n")[0])
        for argument in inspect.signature(module.run).parameters.values():
            if argument.kind is inspect.Parameter.KEYWORD_ONLY:
                command.add_argument(f"--{argument.name}", required=True, metavar="PATH")
            elif argument.name == "params":
                command.add_argument("--params", default="params.yaml", help="the params file")
            else:
                raise TypeError(f"weightreg.stages.{name}.run: argument {argument.name!r} is "
                                "neither `params` nor keyword-only (a path)")
    return root


def writable(paths: dict[str, str]) -> None:
    """Refuse, before anything runs, an output that cannot be written: a path that does not
    exist yet (so it is not an input) in a folder this process may not write to."""
    for name, path in paths.items():
        folder = Path(path).parent
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent
        if not Path(path).exists() and not os.access(folder, os.W_OK):
            raise BadInput(f"--{name} {path}: its folder {folder} is not writable; nothing was "
                           "run: make it writable and run again")


def main(argv: list[str] | None = None) -> int:
    modules = stage_modules()
    args = vars(parser(modules).parse_args(argv))
    stage = args.pop("stage")
    started = time.perf_counter()
    try:
        writable(args)
    except BadInput as error:
        print(f"weightreg {stage}: error: {error}", file=sys.stderr)
        return 2
    # What the stage reads, fingerprinted before it reads it: its outputs are written only if
    # that is unchanged at the end (`guard`).
    guard.start(args.get("params"))
    try:
        if "params" in args:
            from weightreg import params

            result = modules[stage].run(params.load(args.pop("params")), **args)
        else:
            result = modules[stage].run(**args)
    except BadInput as error:
        print(f"weightreg {stage}: error: {error}", file=sys.stderr)
        return 2
    finally:
        guard.stop()
    ran = cluster.where()  # where the engine trained, if it did
    print(f"{stage}: {result}, {time.perf_counter() - started:.1f} s{f' {ran}' if ran else ''}",
          flush=True)
    return 0
