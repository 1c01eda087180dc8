"""What a study needs in memory, estimated from params.yaml and the data before anything runs.

A size too large for the machine (a hidden layer of ten million units, a hundred thousand
seeds, a hundred million epochs, a million draws, a mesh of ten billion points) is bad input:
the `data` stage refuses it with one line naming the key, the estimate and the memory there is,
before DVC deletes any later stage's outputs, instead of a crash, a MemoryError after minutes of
training, or a segmentation fault.

The estimate counts, for the largest engine call of each stage, what the engine holds per
member (initial and final weights, Adam's two moments and the gradients; the lambda multipliers
and the per-epoch records; a member's own rows), what one group of members computes at once
(a batch's and an evaluation chunk's activations), and the boundary mesh. It is an estimate:
within a small factor, which is all a refusal needs.
"""

from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass

from weightreg import engine, models
from weightreg.io import BadInput
from weightreg.layers import Network
from weightreg.params import Params
from weightreg.stages import decoupled, grid, placement, replication
from weightreg.stages.sequence import ARCHITECTURES

FLOAT = 4  # bytes: float32 throughout
COPIES_OF_WEIGHTS = 8  # initial, trained, two Adam moments, gradients, and copies on the way
COPIES_OF_RECORDS = 3  # the program's records, the chunks gathered, the history


@dataclass(frozen=True)
class Need:
    """One engine call of a stage: how many members train for how many epochs, and on what."""

    stage: str
    factors: dict[str, int]  # the keys whose values multiply into the number of members
    epochs: int
    epochs_key: str
    own_rows: bool = False  # members bring their own rows (draws, folds)
    rest: int = 1  # a factor of the members that no key sets alone (configurations)
    rows: float = 1.0  # the share of the training rows a member trains on (a fold's)
    curves: bool = False  # the test rows scored every epoch (a learning curve)
    # Early stopping (train.early_stopping): the last `validation_split` of the rows is scored
    # every epoch instead of trained on, and each member keeps a copy of its best weights.
    validation_split: float = 0.0

    @property
    def members(self) -> int:
        return math.prod(self.factors.values()) * self.rest

    @property
    def members_key(self) -> str:
        """The key to blame for too many members: the one with the largest value."""
        return max(self.factors, key=self.factors.get)


def available() -> int:
    """Bytes of memory this process can have: Linux's MemAvailable, else the physical memory."""
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def needs(params: Params, boundaries: bool = True) -> list[Need]:
    """Every engine call of the study, stage by stage (`boundaries`: whether that stage
    trains, which only two features and two classes let it)."""
    seeds = params.train.seeds
    epochs = params.train.epochs
    # Each stage's configurations, as the stage itself makes them.
    grids = len(grid.configurations(params))
    smithing = params.progressive.smithing.epochs
    repeated = epochs + len(params.progressive.repeated.levels) * \
        params.progressive.repeated.epochs_per_level
    settings = len(replication.settings(params))
    folds = params.selection.folds
    train = {"train.seeds": seeds}
    held = params.train.validation_split if params.train.early_stopping else 0.0
    return [dataclasses.replace(need, validation_split=held)
            if need.stage not in UNSTOPPED else need for need in [
        Need("baseline", train, epochs, "train.epochs", curves=True),
        Need("regularized", train, epochs, "train.epochs", curves=True),
        Need("grid", train, epochs, "train.epochs", rest=grids),
        Need("refine", {**train, "grid.refine": params.grid.refine + 1}, epochs, "train.epochs"),
        Need("layerwise", train, epochs, "train.epochs",
             rest=len(params.layerwise.hidden) * len(params.layerwise.output)),
        Need("decoupled", train, epochs, "train.epochs",
             rest=len(decoupled.configurations(params))),
        Need("placement", train, epochs, "train.epochs", rest=len(placement.PLACEMENTS)),
        *([Need("boundaries", {}, epochs, "train.epochs", rest=3)] if boundaries else []),
        Need("progressive", train, smithing, "progressive.smithing.epochs", curves=True),
        Need("progressive", train, repeated, "progressive.repeated.epochs_per_level",
             curves=True),
        Need("replication", {"replication.draws": params.replication.draws,
                             "replication.seeds": params.replication.seeds}, epochs,
             "train.epochs", own_rows=True, rest=settings),
        Need("selection", {"selection.draws": params.selection.draws,
                           "selection.folds": folds,
                           "replication.seeds": params.replication.seeds}, epochs,
             "train.epochs", own_rows=True, rest=len(params.grid.values),
             rows=(folds - 1) / folds),
    ]]


UNSTOPPED = ("progressive",)  # stages that train every epoch whatever train.early_stopping says


def before(params: Params) -> None:
    """Refuse what params alone size beyond this machine's memory, before the data are made:
    the two moons' sample (`make_moons` holds about eight float64 copies of it) and the
    `sequence` stage's arrays (its rows, their activations in a model, its records)."""
    memory = available()
    if params.data.source == "moons":
        samples = params.data.moons.n_samples
        _refuse_above(memory, "data.moons.n_samples", samples, samples * 2 * 8 * 8,
                      f"{samples:,} points of two features")
    seq = params.sequence
    rows, length, units = seq.n_train + seq.n_test, seq.length, seq.units
    per_network = (1 + len(params.grid.values)) * params.train.seeds  # members of one call
    models_trained = len(ARCHITECTURES) * per_network
    group = min(per_network, engine.CPU_GROUP)  # members trained at once
    weights = units * units * 4 * FLOAT * COPIES_OF_WEIGHTS
    records = seq.epochs * FLOAT * (1 + 6 * COPIES_OF_RECORDS)
    parts: dict[str, float] = {}

    def add(key: str, factor: float, other: float, other_key: str) -> None:
        """`factor` x `other` bytes: the larger factor of a product takes the blame."""
        blamed = key if factor >= other else other_key
        parts[blamed] = parts.get(blamed, 0.0) + factor * other

    rows_key = ("sequence.length" if length > rows else
                "sequence.n_test" if seq.n_test >= seq.n_train else "sequence.n_train")
    add(rows_key, rows * length, 8 * 3 + group * FLOAT * (units + 1) * 4 * 6, "sequence.units")
    add("sequence.units", weights, models_trained, "train.seeds")
    add("sequence.epochs", records, models_trained, "train.seeds")
    add("train.seeds", models_trained, 64 * 6, "train.seeds")  # a row of results per member
    total = sum(parts.values())
    key = max(parts, key=parts.get)
    _refuse_above(memory, key, _value(params, key), total,
                  f"{rows:,} sequences of {length:,} steps, {units:,} units, "
                  f"{models_trained:,} models x {seq.epochs:,} epochs", stage="sequence stage")


def _refuse_above(memory: int, key: str, value, total: float, what: str,
                  stage: str = "data stage") -> None:
    if total > memory:
        raise BadInput(f"params.yaml: {key} = {value!r} is too large for this machine: the "
                       f"{stage} would hold about {total / 2**30:,.1f} GiB ({what}), and "
                       f"{memory / 2**30:,.1f} GiB is available; expected a smaller value")


def row_values(network: Network) -> int:
    """The values one row makes in a forward pass: each layer's (`Layer.values`), then the
    output."""
    return network.layers[-1].units + sum(
        layer.values(shape) for layer, shape in zip(network.layers, network.shapes()))


def check(params: Params, network: Network, train_rows: int, test_rows: int) -> None:
    """Refuse params whose study cannot fit in this machine's memory (`BadInput`)."""
    inputs = math.prod(network.input_shape)
    weights = sum(math.prod(w.shape) for _, w in network.weights())
    values = row_values(network)
    batch = min(params.train.batch_size, train_rows)
    group = engine.CPU_GROUP
    evaluated = min(engine.EVALUATION_ROWS, max(train_rows, test_rows))  # rows scored at once
    rows = (train_rows + test_rows) * (inputs + 1)
    memory = available()

    def parts_of(need: Need) -> dict[str, float]:
        return {
            "weights": need.members * weights * FLOAT * (COPIES_OF_WEIGHTS
                                                         + (need.validation_split > 0)),
            "records": need.members * need.epochs * FLOAT * (1 + 6 * COPIES_OF_RECORDS),
            "rows": need.members * rows * FLOAT if need.own_rows else 0,
            "activations": min(group, need.members) * (batch + evaluated) * values * FLOAT * 3,
        }

    # The largest engine call speaks for the study: its key is the one to blame.
    need = max(needs(params), key=lambda call: sum(parts_of(call).values()))
    parts = parts_of(need)
    total = sum(parts.values())
    if total > memory:
        largest = max(parts, key=parts.get)
        if need.members > 100_000 or largest == "rows":
            key = need.members_key
        elif largest in ("weights", "activations"):
            key = "model.hidden_units" if params.model.layers is None else "model.layers"
        else:
            key = need.epochs_key
        raise BadInput(
            f"params.yaml: {key} = {_value(params, key)!r} is too large for this machine: "
            f"the {need.stage} stage would hold about {total / 2**30:,.1f} GiB "
            f"({need.members:,} members x {need.epochs:,} epochs, {weights:,} weights "
            f"each), and {memory / 2**30:,.1f} GiB is available; expected a smaller value")
    # The decision-boundary picture: every mesh point through each of its three models.
    mesh = params.boundaries.resolution ** 2
    total = mesh * FLOAT * (3 * values * 2 + 8)
    if total > memory:
        raise BadInput(
            f"params.yaml: boundaries.resolution = {params.boundaries.resolution!r} is too "
            f"large for this machine: its mesh of {mesh:,} points would hold about "
            f"{total / 2**30:,.1f} GiB, and {memory / 2**30:,.1f} GiB is available; expected "
            "a smaller value")


def _value(params: Params, key: str):
    node = params
    for part in key.split("."):
        node = getattr(node, {"lambda": "lam"}.get(part, part))
    if isinstance(node, tuple):
        return [getattr(item, "describe", lambda item=item: item)() for item in node]
    return node
