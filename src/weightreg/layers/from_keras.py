"""`python -m weightreg.layers.from_keras MODEL.keras`: the architecture of a model you saved with
Keras, as params.yaml takes it (`data.shape` and `model.layers`), to paste there and study.

What is taken: every layer's type and the arguments the engine computes (`Layer.ARGUMENTS`); a
`Reshape` first becomes `data.shape`; the last layer, a `Dense`, is the output layer, which the
study makes from the task. What is not: the trained weights and their initializers (the study
draws Keras' own initial weights per seed), and the regularizers (the study sets them). Any
other setting that differs from Keras' default (`padding="same"`, `strides=2`, dropout, ...)
is refused in one line that names the layer, the setting and its value.

Not a pipeline stage: the printed lines go into params.yaml, which DVC tracks, so a study never
depends on a file it does not list.
"""

from __future__ import annotations

import argparse
import sys

import yaml

from weightreg import backend, io
from weightreg.layers import TYPES, parse

# Settings a saved layer may carry without changing what the engine computes.
IGNORED = {"name", "trainable", "dtype", "seed", "kernel_regularizer", "bias_regularizer",
           "recurrent_regularizer", "activity_regularizer", "kernel_initializer",
           "bias_initializer", "recurrent_initializer", "kernel_constraint",
           "bias_constraint", "recurrent_constraint"}


def architecture(path: str) -> dict:
    """{"data": {"shape": ...}, "model": {"hidden_units": "auto", "layers": [...]}} of the
    model saved at `path`, or `io.BadInput` naming what the engine cannot take."""
    keras = backend.keras()

    try:
        model = keras.models.load_model(path, compile=False)
    except (OSError, ValueError) as error:
        raise io.BadInput(f"{path}: not a Keras model file ({error})") from None
    # A functional model lists its input as a layer; a Sequential one does not.
    saved = [layer for layer in model.layers if type(layer).__name__ != "InputLayer"]
    if not isinstance(model.input_shape, tuple) or None in model.input_shape[1:]:
        raise io.BadInput(f"{path}: its input is {model.input_shape}; expected one input of "
                          "fixed sizes (a row of the data, data.shape)")
    shape = [int(n) for n in model.input_shape[1:]]
    if saved and type(saved[0]).__name__ == "Reshape":
        shape = [int(n) for n in saved.pop(0).target_shape]
    if not saved or type(saved[-1]).__name__ != "Dense":
        raise io.BadInput(f"{path}: the last layer is not Dense; expected a Dense output layer, "
                          "which the study makes from the task")
    layers = []
    for i, layer in enumerate(saved[:-1]):
        name = type(layer).__name__
        if name not in TYPES:
            raise io.BadInput(f"{path}: layer {i} ({layer.name}) is a {name}, which the engine "
                              f"does not compute; expected one of {', '.join(TYPES)}")
        config = layer.get_config()
        try:
            ours = parse({name: {argument: _plain(config[argument])
                                 for argument in TYPES[name].ARGUMENTS if argument in config}},
                         key=f"layer {i} ({layer.name})")
        except ValueError as error:  # an activation the engine does not compute, say
            raise io.BadInput(f"{path}: {error}") from None
        default = ours.keras({}).get_config()
        for key, value in config.items():
            if key not in IGNORED and key in default and _plain(default[key]) != _plain(value):
                raise io.BadInput(f"{path}: layer {i} ({layer.name}, {name}) has {key} = "
                                  f"{_plain(value)!r}; the engine computes "
                                  f"{_plain(default[key])!r} only")
        layers.append({name: {k: _plain(v) for k, v in ours.describe()[name].items()}})
    return {"data": {"shape": shape if len(shape) > 1 else None},
            "model": {"hidden_units": "auto", "layers": layers}}


def _plain(value):
    """A config value as YAML writes it: tuples as lists, `linear` as no activation."""
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return None if value == "linear" else value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m weightreg.layers.from_keras",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("model", help="a model saved with Keras (`model.save('x.keras')`)")
    args = parser.parse_args(argv)
    try:
        found = architecture(args.model)
    except io.BadInput as error:
        print(f"weightreg from_keras: error: {error}", file=sys.stderr)
        return 2
    print(f"# {args.model}, for params.yaml (data.shape and model.layers)")
    print(yaml.safe_dump(found, sort_keys=False, default_flow_style=None), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
