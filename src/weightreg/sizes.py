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

import os
from dataclasses import dataclass

from weightreg import engine, models
from weightreg.io import BadInput
from weightreg.params import Params

FLOAT = 4  # bytes: float32 throughout
COPIES_OF_WEIGHTS = 8  # initial, trained, two Adam moments, gradients, and copies on the way
COPIES_OF_RECORDS = 3  # the program's records, the chunks gathered, the history


@dataclass(frozen=True)
class Need:
    stage: str
    members: int
    epochs: int
    members_key: str  # the key that sets the number of members
    epochs_key: str
    own_rows: bool = False  # members bring their own rows (draws, folds)


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


def needs(params: Params) -> list[Need]:
    """The largest engine call of each training stage."""
    seeds = params.train.seeds
    epochs = params.train.epochs
    grid = len(params.grid.kinds) * len(params.grid.values)
    smithing = params.progressive.smithing.epochs
    repeated = epochs + len(params.progressive.repeated.levels) * \
        params.progressive.repeated.epochs_per_level
    settings = 1 + len(set(params.grid.values) | {params.replication.lam})
    return [
        Need("grid", grid * seeds, epochs, "train.seeds", "train.epochs"),
        Need("layerwise", len(params.layerwise.hidden) * len(params.layerwise.output) * seeds,
             epochs, "train.seeds", "train.epochs"),
        Need("decoupled", 2 * len(params.decoupled.values) * seeds, epochs, "train.seeds",
             "train.epochs"),
        Need("refine", (params.grid.refine + 1) * seeds, epochs, "train.seeds", "train.epochs"),
        Need("progressive", seeds, max(smithing, repeated), "train.seeds",
             "progressive.smithing.epochs" if smithing >= repeated
             else "progressive.repeated.epochs_per_level"),
        Need("replication", params.replication.draws * settings * params.replication.seeds,
             epochs, "replication.draws", "train.epochs", own_rows=True),
        Need("selection", params.selection.draws * params.selection.folds
             * len(params.grid.values) * params.replication.seeds, epochs,
             "selection.draws", "train.epochs", own_rows=True),
    ]


def check(params: Params, inputs: int, outputs: int, train_rows: int, test_rows: int) -> None:
    """Refuse params whose study cannot fit in this machine's memory (`BadInput`)."""
    hidden = models.widths(params.model.hidden_units)
    sizes = (inputs, *hidden, outputs)
    weights = sum(a * b + b for a, b in zip(sizes, sizes[1:]))
    widest = max(sizes)
    batch = min(params.train.batch_size, train_rows)
    group = engine.CPU_GROUP
    evaluated = min(engine.EVALUATION_ROWS, max(train_rows, test_rows))  # rows scored at once
    rows = (train_rows + test_rows) * (inputs + 1)
    memory = available()
    for need in needs(params):
        parts = {
            "weights": need.members * weights * FLOAT * COPIES_OF_WEIGHTS,
            "records": need.members * need.epochs * FLOAT * (1 + 6 * COPIES_OF_RECORDS),
            "rows": need.members * rows * FLOAT if need.own_rows else 0,
            "activations": min(group, need.members) * (batch + evaluated) * widest
            * len(sizes) * FLOAT * 3,
        }
        total = sum(parts.values())
        if total > memory:
            largest = max(parts, key=parts.get)
            if need.members > 100_000 or largest == "rows":
                key = need.members_key
            elif largest in ("weights", "activations"):
                key = "model.hidden_units"
            else:
                key = need.epochs_key
            raise BadInput(
                f"params.yaml: {key} = {_value(params, key)!r} is too large for this machine: "
                f"the {need.stage} stage would hold about {total / 2**30:,.1f} GiB "
                f"({need.members:,} members x {need.epochs:,} epochs, {weights:,} weights "
                f"each), and {memory / 2**30:,.1f} GiB is available; expected a smaller value")
    # The decision-boundary picture: every mesh point through each of its three models.
    mesh = params.boundaries.resolution ** 2
    total = mesh * FLOAT * (3 * widest * len(sizes) * 2 + 8)
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
    return list(node) if isinstance(node, tuple) else node
