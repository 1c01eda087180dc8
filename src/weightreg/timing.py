"""How long the whole study will take on this machine: the `data` stage prints it before
anything trains, so that a user can shrink the study first (README, "Your own data": "How long").

Each engine call of the study (`sizes.needs`) costs about

    compile + call + epochs x (batches + the test rows scored, for a learning curve)
                     x step(group) x groups / parallel

Its members train in groups (`engine.group_sizes`), one group per CPU at a time;
step(n) = a + b * n is what one batch costs a group of n members, `parallel` is how much faster
two groups run at once than one after the other, and a call also costs its own setup and final
scoring. The engine measures these itself on this split, network and batch size (`measure`: a
few short trainings, with TensorFlow's import and three compiles): rows, widths and batch
size move them by orders of magnitude, so no constant would do. The measurement is kept
beside XLA's compiled programs (one folder per machine and TensorFlow version,
`backend.xla_cache_folder`) under a key of what it depends on, so that `dvc exp run -S
lambda=...` reads it instead of importing TensorFlow to measure again.

What does not train (a stage's start, the `sequence` stage's plain Keras models, the figures)
costs what it cost on the 2-core machine this was written on: seconds, beside minutes.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import time
from dataclasses import asdict, dataclass, fields
from importlib.metadata import PackageNotFoundError

from weightreg import backend, cluster, engine, sizes, study
from weightreg.params import Params
from weightreg.stages.sequence import ARCHITECTURES

STAGE_START_S = 2.0  # a stage's process: Python, DVC's bookkeeping; TensorFlow's import is measured
# `sequence`: compiling one of its networks, and one member's batch per time step
SEQUENCE_COMPILE_S, SEQUENCE_MEMBER_STEP_S = 3.0, 4e-6  # the stage: 17 s
SUMMARY_S, FIGURES_S = 1.0, 5.0  # no training: reading tables, and matplotlib
STEPS = 900  # batches per measurement: fewer time the call more than its batches (measured)
GROUP = 16  # the measured group size (below 2 * engine.MIN_GROUP: one group)


@dataclass(frozen=True)
class Rate:
    """What the engine costs on this machine for one network, split and batch size."""

    import_s: float  # TensorFlow's import
    compile_s: float  # one program shape
    call_s: float  # an engine call's own work: initial weights, the final scores
    step_1_s: float  # one batch of a group of one member
    step_group_s: float  # one batch of a group of GROUP members
    parallel: float  # two groups at once against one after the other (1 to 2)

    def step(self, members: int) -> float:
        slope = (self.step_group_s - self.step_1_s) / (GROUP - 1)
        return max(self.step_1_s + slope * (members - 1), self.step_1_s)


def measure(params: Params, dataset) -> Rate:
    """Time the engine on the dataset's split: GROUP members for about STEPS and 3 * STEPS
    batches (the difference is the batches' cost, the rest the call's own), one member, and
    two groups at once; each program shape once before it is timed, to compile it."""
    started = time.perf_counter()
    backend.tensorflow()
    imported = time.perf_counter() - started
    split = dataset.split
    batches = math.ceil(len(split.y_train) / params.train.batch_size)
    epochs = max(1, round(STEPS / batches))
    steps = epochs * batches

    def timed(members: int, epochs: int) -> float:
        began = time.perf_counter()
        engine.train(split, [engine.Member(seed) for seed in range(members)],
                     network=study.network_of(params, dataset), epochs=epochs,
                     batch_size=params.train.batch_size,
                     learning_rate=params.train.learning_rate, task=dataset.task,
                     progress=False, members_per_call=GROUP, curves=False, label="timing")
        return time.perf_counter() - began

    first = timed(GROUP, epochs)  # compiles, then trains
    short = timed(GROUP, epochs)
    timed(GROUP, 3 * epochs)  # another chunk length: another program
    group = (timed(GROUP, 3 * epochs) - short) / (2 * steps)
    call = max(short - group * steps, 0.0)
    timed(1, epochs)
    one = max(timed(1, epochs) - call, 0.0) / steps
    two = max(timed(2 * GROUP, epochs) - call, 1e-9)  # two groups of GROUP: the same program
    return Rate(imported, max(first - short, 0.0), call, min(one, group), group,
                min(max(2 * group * steps / two, 1.0), 2.0))


def key(params: Params, dataset) -> str:
    """What a rate depends on: the code, the network, the rows and the batch size."""
    from weightreg import guard

    split = dataset.split
    return json.dumps([guard.code_digest(), dataset.task.name,
                       list(dataset.shape or (len(dataset.features),)),
                       study.network_of(params, dataset).describe(), len(split.y_train),
                       len(split.y_test), params.train.batch_size, cluster.cpus()])


def rate(params: Params, dataset) -> Rate:
    """The rate kept for this key on this machine, or measured now (and kept)."""
    try:
        folder = backend.xla_cache_folder()
    except (OSError, RuntimeError, PackageNotFoundError):  # no home, as `backend` allows
        folder = None
    path = folder / "rates.json" if folder else None
    kept = {}
    if path and path.exists():
        try:
            kept = json.loads(path.read_text())
        except (OSError, ValueError):
            kept = {}
    name = key(params, dataset)
    if isinstance(kept.get(name), dict) and set(kept[name]) == {f.name for f in fields(Rate)}:
        return Rate(**kept[name])
    measured = measure(params, dataset)
    if path:
        kept[name] = asdict(measured)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile("w", dir=path.parent, delete=False) as out:
                json.dump(kept, out)
            os.replace(out.name, path)  # whole or not at all, with other processes writing
        except OSError:
            pass  # a cache that cannot be written: measure again next time
    return measured


def seconds(params: Params, dataset, measured: Rate) -> dict[str, float]:
    """Each stage's time, estimated (the `data` stage, which is running, left out)."""
    split = dataset.split
    boundaries = len(dataset.features) == 2 and dataset.task.name == "binary"
    batch = params.train.batch_size
    cpus = cluster.cpus()
    stages: dict[str, float] = {}
    for need in sizes.needs(params, boundaries):
        groups, size = engine.group_sizes(need.members, engine.CPU_GROUP, engine.SPLIT)
        rows = len(split.y_train) * need.rows
        batches = math.ceil(rows * (1 - need.validation_split) / batch)
        if need.curves:  # the test rows, scored forward only: about a third of a batch's work
            batches += math.ceil(len(split.y_test) / batch) / 3
        if need.validation_split:  # early stopping's rows, scored forward only
            batches += math.ceil(rows * need.validation_split / batch) / 3
        # Groups at once: as measured for two, for as many as there are CPUs (and groups).
        at_once = min(groups, cpus) * measured.parallel / 2 if groups > 1 and cpus > 1 else 1.0
        train = need.epochs * batches * measured.step(size) * groups / at_once
        stages[need.stage] = (stages.get(need.stage, 0.0) + measured.compile_s
                              + measured.call_s + train)
    start = STAGE_START_S + measured.import_s
    stages = {stage: start + cost for stage, cost in stages.items()}
    # `sequence` trains its own networks on its own rows: its cost per member, batch and time
    # step, measured here, not on this dataset.
    seq = params.sequence
    per_network = (1 + len(params.grid.values)) * params.train.seeds
    steps = seq.epochs * math.ceil(seq.n_train / batch) * seq.length
    stages["sequence"] = start + len(ARCHITECTURES) * (
        SEQUENCE_COMPILE_S + per_network * steps * SEQUENCE_MEMBER_STEP_S)
    stages["summary"], stages["figures"] = SUMMARY_S, FIGURES_S
    return stages


def estimate(params: Params, dataset) -> str:
    """One line for the data stage: the whole study's time and its largest stages."""
    stages = seconds(params, dataset, rate(params, dataset))
    total = sum(stages.values())
    largest = sorted(stages, key=stages.get, reverse=True)[:3]
    cuts = [what for what, on in (("early stopping", params.train.early_stopping),
                                  ("successive halving", params.study.search == "halving"))
            if on]
    sooner = (f", less where {' and '.join(cuts)} cut it (every seed and epoch counted here)"
              if cuts else "")
    return (f"the whole study: about {total:.0f} s on this machine{sooner} ("
            + ", ".join(f"{stage} {stages[stage]:.0f} s" for stage in largest) + ")")
