"""The study table: a study's configurations, each trained once per seed, and their results.

A study declares its configurations (`Configuration`: a label, the fields that describe it in
its tables, and how its members train, with penalties named per weight group). `sweep` lays
the members out, trains them in one engine call and hands back one `Outcome` per
configuration: the population axis is made and consumed here and nowhere else.

Each training stage writes its outcomes as a per-member table (`members_table`, exact values)
that later stages read back (`Members`), and summarizes them over seeds for people
(`summary`, `summary_table`).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from weightreg import engine, io, params as parameters, stats
from weightreg.data import Dataset, Split
from weightreg.layers import Network
from weightreg.params import Params
from weightreg.tasks import Task


@dataclass(frozen=True)
class Configuration:
    """One setting of a study, trained once per seed.

    `fields` describe it in the study's tables (for example {"kind": "l2", "lambda": 1e-3}); the
    other attributes say how its members train (see `engine.Member`).
    """

    label: str
    fields: Mapping[str, Any] = field(default_factory=dict)
    kind: str = "l2"
    penalties: Mapping[str, float] = field(default_factory=dict)
    decay: Mapping[str, float] = field(default_factory=dict)
    schedule: np.ndarray | None = field(default=None, compare=False, repr=False)
    data: Split | None = field(default=None, compare=False, repr=False)  # rows of its own

    def member(self, seed: int) -> engine.Member:
        return engine.Member(seed, self.kind, self.penalties, self.decay, self.schedule,
                             self.data)


def hidden_kernel(label: str, kind: str, strength: float, **fields: Any) -> Configuration:
    """The tutorial's placement: a `kind` penalty on the hidden layers' kernels only (every
    hidden layer's, as `kernel_regularizer=` on each hidden Dense puts it)."""
    return Configuration(label, {"kind": kind, "lambda": strength, **fields}, kind,
                         {"hidden_kernel": strength})


def describe(kind: str, strength: float) -> str:
    """A penalty as Keras writes it, e.g. `l2(0.001)`."""
    return f"{kind}({strength:g})"


@dataclass(frozen=True)
class Outcome:
    """What the members of one configuration reached: per-seed arrays in `seeds` order."""

    configuration: Configuration
    task: Task
    seeds: np.ndarray
    train_score: np.ndarray  # accuracy or R², with the final weights, as model.evaluate gives it
    test_score: np.ndarray
    train_loss: np.ndarray  # the data loss (the task's), without the penalty
    test_loss: np.ndarray
    norms: dict[str, np.ndarray]  # the L2 norm of each weight group
    # [seeds, test rows]: which test rows each member classifies right, or their squared errors
    test_rows: np.ndarray
    history: dict[str, np.ndarray]  # per epoch: [epochs, seeds]; NaN past a member's epochs
    weights: tuple[np.ndarray, ...]  # final weights [seeds, ...], in `Network.groups` order
    # With early stopping (None without): the epochs each member trained, and the epoch,
    # counted from 1, whose weights it kept.
    epochs_run: np.ndarray | None = None
    best_epoch: np.ndarray | None = None
    # With successive halving (`search`; None without): the rung at which this configuration
    # stopped, and the seeds it had by then (all of them at the last rung).
    rung: int | None = None

    def joined(self, more: Outcome) -> Outcome:
        """This configuration's members and `more` of its members (other seeds), one outcome."""
        def both(a, b, axis=0):
            return None if a is None else np.concatenate([a, b], axis=axis)

        return dataclasses.replace(
            self, seeds=both(self.seeds, more.seeds),
            **{name: both(getattr(self, name), getattr(more, name))
               for name in ("train_score", "test_score", "train_loss", "test_loss", "test_rows",
                            "epochs_run", "best_epoch")},
            norms={group: both(values, more.norms[group]) for group, values in self.norms.items()},
            history={name: both(values, more.history[name], axis=1)
                     for name, values in self.history.items()},
            weights=tuple(both(a, b) for a, b in zip(self.weights, more.weights, strict=True)))

    def measure(self, name: str) -> np.ndarray:
        """A per-member column by its table name: `test_score`, `test_loss`,
        `hidden_kernel_norm`, ..."""
        if name.endswith("_norm"):
            return self.norms[name[:-5]]
        if name in ("epochs_run", "best_epoch"):
            return getattr(self, name)
        split, _, what = name.partition("_")
        return getattr(self, f"{split}_{what}")


def score(task: Task, split: str = "test") -> str:
    """The column of a task's score (accuracy or R², as `task.score_name` says): test_score
    for every task, so that one chart and one metric serve them all."""
    return f"{split}_score"


def early_stopping(params: Params) -> engine.EarlyStopping | None:
    """train.early_stopping and train.validation_split, as the engine takes them."""
    stopping = params.train.early_stopping
    return stopping and engine.EarlyStopping(stopping.patience, stopping.min_delta,
                                             params.train.validation_split)


def check_stopping(params: Params, train_rows: int, folds: int) -> None:
    """Refuse (`BadInput`) a train.validation_split that leaves no rows to train on or none
    to validate, in the split's `train_rows` or in the smallest of `folds` folds of them
    (selection's)."""
    stopping = early_stopping(params)
    if stopping is None:
        return
    smallest = train_rows - -(-train_rows // folds)
    for rows in sorted({smallest, train_rows}):
        cut = stopping.cut(rows)
        if cut == 0 or cut == rows:
            raise io.BadInput(
                f"params.yaml: train.validation_split = {stopping.validation_split!r} leaves "
                f"{cut} of {rows} training rows to train on and {rows - cut} to watch early "
                "stopping; expected a fraction that leaves rows on both sides (or "
                "train.early_stopping: null)")


def sweep(params: Params, dataset: Dataset, configurations: Sequence[Configuration],
          stage: str, seeds: Sequence[int] | None = None, epochs: int | None = None,
          curves: bool = False, network: Network | None = None,
          stopping: bool = True) -> list[Outcome]:
    """Train every configuration once per seed (default: seeds 0 .. train.seeds-1) in one
    engine call, with the model (or `network`) and training settings of params.yaml, early
    stopping included unless `stopping` is False. The test metrics of every epoch (for
    `curves()`) are recorded only when asked for: they cost a forward pass over the test rows
    each epoch.

    A member whose loss turns NaN or infinite fails the stage: its metrics would be
    meaningless, and a failure writes nothing, so earlier outputs stay intact.
    """
    seeds = np.arange(params.train.seeds) if seeds is None else np.asarray(seeds)
    members = [c.member(int(seed)) for c in configurations for seed in seeds]
    settings = early_stopping(params) if stopping else None
    result = engine.train(dataset.split, members,
                          network=network or network_of(params, dataset),
                          task=dataset.task, epochs=epochs or params.train.epochs,
                          batch_size=params.train.batch_size,
                          learning_rate=params.train.learning_rate, label=stage,
                          curves=curves, early_stopping=settings)
    bad = np.flatnonzero(result.diverged_at >= 0)
    if bad.size:
        n = len(seeds)
        shown = "; ".join(f"{configurations[k // n].label}, seed {members[k].seed}, from epoch "
                          f"{result.diverged_at[k] + 1}" for k in bad[:5])
        raise io.BadInput(
            f"{stage}: training diverged (loss NaN or infinite) for {bad.size} of "
            f"{len(members)} members ({shown}{'; ...' if bad.size > 5 else ''}); "
            f"lower train.learning_rate = {params.train.learning_rate!r} or the penalty strength")
    norms = result.norms()
    outcomes = []
    for i, configuration in enumerate(configurations):
        mine = slice(i * len(seeds), (i + 1) * len(seeds))
        outcomes.append(Outcome(
            configuration, dataset.task, seeds, result.final_train_score[mine],
            result.final_test_score[mine], result.final_train_loss[mine],
            result.final_test_loss[mine],
            {group: values[mine] for group, values in norms.items()},
            result.final_test_rows[mine, :result.test_counts[mine.start]],  # without padding
            {name: values[:, mine] for name, values in result.history.items()},
            tuple(w[mine] for w in result.weights),
            result.epochs_run[mine] if settings else None,
            result.best_epoch[mine] if settings else None))
    return outcomes


HALVING = 3  # successive halving's factor: each rung trains 3 times the seeds of the one before
MIN_SEEDS = 3  # the fewest seeds a rung judges by: a paired interval needs a few


def rungs(seeds: int) -> list[int]:
    """The seeds each rung of successive halving ends with, the last one all `seeds`: each a
    third of the next (rounded up), down to MIN_SEEDS (10 seeds: [4, 10]; 30: [4, 10, 30])."""
    budgets = [seeds]
    while -(-budgets[0] // HALVING) >= MIN_SEEDS:
        budgets.insert(0, -(-budgets[0] // HALVING))
    return budgets


def search(params: Params, dataset: Dataset, configurations: Sequence[Configuration],
           stage: str, how: str) -> list[Outcome]:
    """`sweep` (`how`, study.search: exhaustive), or successive halving over seeds (as
    scikit-learn's HalvingGridSearchCV spends a resource): every configuration trains on the
    first rung's seeds; a configuration whose paired difference with the best (the highest mean test
    score), seed by seed, has a 95% interval wholly below zero is decided against and stops
    there; the others go on to the next rung's seeds, up to train.seeds. No member is trained
    twice: a rung adds seeds. Each outcome says its rung (`Outcome.rung`)."""
    if how == "exhaustive" or len(rungs(params.train.seeds)) == 1:
        return sweep(params, dataset, configurations, stage)
    budgets = rungs(params.train.seeds)
    outcomes: list[Outcome | None] = [None] * len(configurations)
    going = list(range(len(configurations)))
    done = 0
    for rung, budget in enumerate(budgets):
        trained = sweep(params, dataset, [configurations[i] for i in going],
                        f"{stage} (rung {rung + 1} of {len(budgets)}, {budget} seeds)",
                        seeds=range(done, budget))
        for i, outcome in zip(going, trained, strict=True):
            outcomes[i] = dataclasses.replace(
                outcome if outcomes[i] is None else outcomes[i].joined(outcome), rung=rung)
        done = budget
        if rung + 1 < len(budgets):
            best = max(going, key=lambda i: float(np.mean(outcomes[i].test_score)))
            going = [i for i in going
                     if stats.paired(outcomes[i].test_score, outcomes[best].test_score)["hi"]
                     >= 0]
    return outcomes


def pruned(outcomes: Sequence[Outcome]) -> str:
    """What successive halving decided against, for a result line ("" without it)."""
    if outcomes[0].rung is None:
        return ""
    last = max(outcome.rung for outcome in outcomes)
    stopped = sum(outcome.rung < last for outcome in outcomes)
    return (f"; successive halving: {stopped} of {len(outcomes)} configurations stopped "
            f"early, clearly below the best")


def network_of(params: Params, dataset: Dataset) -> Network:
    """The network the study trains: model.layers on the dataset's rows (data.shape) or the MLP
    of model.hidden_units, then the task's output layer."""
    return parameters.network(params.model, dataset.shape, dataset.task.outputs,
                              len(dataset.features))


def measures(outcome: Outcome) -> tuple[str, ...]:
    """The per-member columns of a full table: the task's scores, the losses, weight norms,
    and with early stopping its epochs."""
    return (score(outcome.task, "train"), score(outcome.task), "train_loss", "test_loss",
            *(f"{group}_norm" for group in outcome.norms), *stopping_measures(outcome))


def scores(outcome: Outcome) -> tuple[str, ...]:
    """The per-member columns of a lean table: the task's scores (and early stopping's
    epochs)."""
    return score(outcome.task, "train"), score(outcome.task), *stopping_measures(outcome)


def stopping_measures(outcome: Outcome) -> tuple[str, ...]:
    """With early stopping: each member's epochs trained and the epoch it kept."""
    return ("epochs_run", "best_epoch") if outcome.epochs_run is not None else ()


def members_table(outcomes: Sequence[Outcome], test_rows: bool = False,
                  measures: Callable[[Outcome], Sequence[str]] = measures) -> str:
    """One row per member, exact values: configuration, its fields, seed, the `measures`
    (scores, losses, weight norms) and, with `test_rows`, which test rows it classifies right
    (`+`) or wrong (`-`), in the data's order, for the McNemar tests of later stages (for
    regression: each test row's squared error, for a paired test on them).
    Later stages read it back with `Members`; `dvc plots` puts it on the review page, so large
    populations keep fewer measures (`scores`)."""
    measures = measures(outcomes[0])
    names = list(outcomes[0].configuration.fields)
    columns: dict[str, list] = {"configuration": [], **{name: [] for name in names}, "seed": [],
                                **{measure: [] for measure in measures}}
    if test_rows:
        columns["test_rows"] = []
    for outcome in outcomes:
        configuration = outcome.configuration
        if list(configuration.fields) != names:
            raise ValueError(f"configuration {configuration.label!r} has fields "
                             f"{list(configuration.fields)}, the study's first has {names}")
        for k, seed in enumerate(outcome.seeds):
            columns["configuration"].append(configuration.label)
            for name in names:
                columns[name].append(configuration.fields[name])
            columns["seed"].append(int(seed))
            for measure in measures:
                columns[measure].append(outcome.measure(measure)[k])
            if test_rows:
                columns["test_rows"].append(rows_text(outcome.test_rows[k]))
    return io.to_csv(columns, exact=True)


def rows_text(rows: np.ndarray) -> str:
    """A member's test rows in one cell: `+` right, `-` wrong; squared errors, space apart."""
    if rows.dtype == bool:
        return "".join("+" if hit else "-" for hit in rows)
    return " ".join(repr(float(value)) for value in rows)


class Members:
    """A per-member table written by another stage, read back with its exact values. `needs`
    names further columns ("test" for the test score)."""

    # What each column a stage may read must hold: numbers within a range (low, high, whole).
    RANGES = {"seed": (0, math.inf, True), "random_state": (0, math.inf, True),
              "lambda": (0, math.inf, False), "train_score": (-math.inf, 1, False),
              "test_score": (-math.inf, 1, False), "fold": (0, math.inf, True)}

    def __init__(self, path: str | Path, stage: str, needs: Sequence[str] = ("test",)):
        self.path, self.stage = path, stage
        self.columns = io.read_csv(path, stage)
        needs = ["test_score" if name == "test" else name for name in needs]
        missing = [name for name in ("configuration", "seed", *needs) if name not in self.columns]
        if missing:
            raise io.BadInput(f"{path}: not the per-member table this stage reads (no column "
                              f"{', '.join(missing)}); {io.rerun(stage)}")
        # Every column this stage reads, checked before any training.
        for name in ("seed", *needs):
            if name in self.RANGES:
                low, high, whole = self.RANGES[name]
                self.columns.numbers(name, low, high, whole)
        if "test_rows" in needs:
            self._check_rows()

    def _check_rows(self) -> None:
        """Each member's test rows: `+`/`-` marks (classification), or numbers >= 0 (the
        squared errors of a regression), as many for every member."""
        lengths = set()
        for i, text in enumerate(self.columns["test_rows"].astype(str)):
            cells = list(text) if self.classifies else text.split()
            valid = (set(cells) <= {"+", "-"} if self.classifies
                     else all(io._is_number(c) and float(c) >= 0 for c in cells))
            if not cells or not valid:
                raise io.BadInput(f"{self.path}: column test_rows, row {i + 1}: not the test "
                                  f"rows' marks; {io.rerun(self.stage)}")
            lengths.add(len(cells))
        if len(lengths) != 1:
            raise io.BadInput(f"{self.path}: column test_rows: members have different numbers "
                              f"of test rows; {io.rerun(self.stage)}")

    @property
    def classifies(self) -> bool:
        """Whether the test rows are marks (`+`/`-`: classification) or squared errors (which
        always hold digits): any row of marks says so, a damaged one is then named."""
        text = self.columns["test_rows"].astype(str)
        return any(row and set(row) <= {"+", "-"} for row in text)

    @property
    def labels(self) -> list[str]:
        return list(dict.fromkeys(self.columns["configuration"].astype(str)))

    def rows(self, label: str) -> np.ndarray:
        return np.flatnonzero(self.columns["configuration"].astype(str) == label)

    def field(self, label: str, name: str):
        """A field of one configuration (the same in all its rows)."""
        return self.columns[name][self.rows(label)[0]]

    def by_seed(self, label: str, measure: str | None = None) -> dict[int, float]:
        """One configuration's values of `measure` (default: the test score), by seed."""
        measure = measure or "test_score"
        rows = self.rows(label)
        return dict(zip(self.columns["seed"][rows].astype(int).tolist(),
                        self.columns[measure][rows].tolist()))

    def test_rows(self, label: str, seeds: Sequence[int]) -> np.ndarray:
        """Which test rows the members of one configuration, with these seeds, classify right:
        [seeds, rows] booleans; for regression, their squared errors."""
        text = self.paired(label, seeds, "test_rows")
        if not self.classifies:
            return np.array([[float(value) for value in row.split()] for row in text])
        return np.array([[mark == "+" for mark in row] for row in text])

    def paired(self, label: str, seeds: Sequence[int], measure: str | None = None) -> np.ndarray:
        """One configuration's values for these seeds, in this order: the control of a paired
        comparison. A seed it lacks means the table is from other params."""
        values = self.by_seed(label, measure)
        missing = [int(seed) for seed in seeds if int(seed) not in values]
        if missing:
            raise io.BadInput(f"{self.path}: {label!r} has no member with seed {missing[0]}; "
                              f"rerun the {self.stage} stage (`dvc repro {self.stage}`)")
        return np.array([values[int(seed)] for seed in seeds])


BASELINE = "no penalty"  # the baseline stage's one configuration


def baseline(path: str | Path) -> Members:
    """The baseline stage's members, to pair other configurations with seed by seed."""
    table = Members(path, "baseline", needs=("test", "test_rows"))
    if table.labels != [BASELINE]:
        raise io.BadInput(f"{path}: expected the baseline's members; rerun the baseline stage "
                          "(`dvc repro baseline`)")
    return table



def rows_p(task: Task) -> str:
    """The name of the row-level test's p-value: McNemar's for classification, Wilcoxon's
    signed-rank test on the test rows' squared errors for regression."""
    return "mcnemar_p" if task.classifies else "wilcoxon_p"


def summary(outcome: Outcome, control: np.ndarray | None = None,
            control_rows: np.ndarray | None = None) -> dict[str, float]:
    """An outcome over seeds: mean scores (accuracy or R²), the test score's standard deviation
    and 95% interval, mean weight norms and, against the control's per-seed test scores, the
    paired difference with its interval and p-value (seed noise). With the control's test rows
    ([seeds, rows]), a row-level test (test-set noise): the exact McNemar test of the two
    consensus classifiers, or for regression Wilcoxon's signed-rank test on the rows' squared
    errors (each a mean over seeds)."""
    test = stats.describe(outcome.test_score)
    result = {"train_score": float(np.mean(outcome.train_score)), "test_score": test["mean"],
              "test_score_std": test["std"], "test_score_lo": test["lo"],
              "test_score_hi": test["hi"]}
    if control is not None:
        comparison = stats.paired(outcome.test_score, control)
        result.update(diff_vs_baseline=comparison["diff"], diff_lo=comparison["lo"],
                      diff_hi=comparison["hi"], p_value=comparison["p_value"])
    if control_rows is not None:
        if outcome.task.classifies:
            result["mcnemar_p"] = stats.mcnemar_p(stats.consensus(outcome.test_rows),
                                                  stats.consensus(control_rows))
        else:
            result["wilcoxon_p"] = stats.wilcoxon_p(outcome.test_rows.mean(axis=0),
                                                    control_rows.mean(axis=0))
    result.update({f"{group}_norm": float(np.mean(values))
                   for group, values in outcome.norms.items()})
    if outcome.rung is not None:  # successive halving: how far this configuration went
        result.update(seeds=len(outcome.seeds), rung=outcome.rung + 1)
    return result


def summaries(outcomes: Sequence[Outcome], baseline: Members) -> list[dict[str, float]]:
    """Each outcome's summary, paired seed by seed with the baseline's members, and the
    row-level test of its test rows against the baseline's (McNemar's, or Wilcoxon's for
    regression)."""
    results = []
    for outcome in outcomes:
        control_rows = baseline.test_rows(BASELINE, outcome.seeds)
        if control_rows.shape[1] != outcome.test_rows.shape[1]:
            raise io.BadInput(f"{baseline.path}: its members were tested on "
                              f"{control_rows.shape[1]} rows, this data has "
                              f"{outcome.test_rows.shape[1]}; {io.rerun('baseline')}")
        results.append(summary(outcome, baseline.paired(BASELINE, outcome.seeds), control_rows))
    return results


def summary_table(outcomes: Sequence[Outcome], summaries: Sequence[Mapping[str, float]],
                  columns: Sequence[str] | None = None) -> str:
    """One row per configuration for people and plots: its fields, then its summary (all of
    it, or the keys in `columns`)."""
    keys = list(columns or summaries[0])
    table: dict[str, list] = {name: [o.configuration.fields[name] for o in outcomes]
                              for name in outcomes[0].configuration.fields}
    table.update({key: [row[key] for row in summaries] for key in keys})
    return io.to_csv(table)


def best_label(table: Members, labels: Sequence[str] | None = None) -> str:
    """The configuration of a per-member table (or among `labels`) with the highest mean test
    score (ties: the larger lambda), as `best` picks it from summaries."""
    labels = list(labels or table.labels)
    # Successive halving: among the configurations that trained every seed.
    most = max(len(table.rows(label)) for label in labels)
    labels = [label for label in labels if len(table.rows(label)) == most]
    key = "test_score"
    means = [{key: float(np.mean(list(table.by_seed(label).values())))} for label in labels]
    return labels[best(means, [float(table.field(label, "lambda")) for label in labels], key)]


def best(summaries: Sequence[Mapping[str, float]], strength: Sequence[float],
         key: str = "test_score") -> int:
    """The configuration with the highest mean test score (`key`); ties go to the stronger
    penalty (the simpler model). Means are compared to 12 digits, so that the same rows right,
    split differently over seeds, count as a tie rather than being decided by round-off.
    With successive halving, only configurations of the last rung compete: the others' means
    are over fewer seeds."""
    last = max((row.get("rung", 0) for row in summaries), default=0)
    return max((i for i in range(len(summaries)) if summaries[i].get("rung", 0) == last),
               key=lambda i: (round(summaries[i][key], 12), strength[i]))


CURVE_EVERY = 20  # learning curves keep every 20th epoch and the last: plenty for a chart


def curves(outcome: Outcome) -> dict[str, np.ndarray]:
    """Per-epoch means over seeds, with the scores' 95% intervals: learning curves as
    plot-data columns, every CURVE_EVERY-th epoch and the last."""
    epochs = len(outcome.history["test_score"])
    if outcome.epochs_run is not None:  # early stopping: to the last epoch any member ran
        epochs = int(outcome.epochs_run.max())
    keep = np.unique(np.r_[np.arange(CURVE_EVERY - 1, epochs, CURVE_EVERY), epochs - 1])
    columns = {"epoch": keep + 1}
    if outcome.epochs_run is not None:  # each epoch's means are over the members it trained
        columns["members_training"] = np.sum(keep[:, None] < outcome.epochs_run[None, :], axis=1)
    for record in ("score", "loss"):
        for split in ("train", "test"):
            values = outcome.history[f"{split}_{record}"][keep].astype(np.float64)
            name = score(outcome.task, split) if record == "score" else f"{split}_loss"
            columns[name] = (values.mean(axis=1) if outcome.epochs_run is None
                             else np.nanmean(values, axis=1))
            if record == "score":
                columns[f"{name}_lo"], columns[f"{name}_hi"] = stats.t_intervals(values)
    return columns


def headline(outcome: Outcome, result: Mapping[str, float], epochs: int) -> str:
    """`N seeds x E epochs: test accuracy 0.943 (sd 0.000)` for a stage's result line: the
    mean over seeds, and their standard deviation (seed noise, not an interval)."""
    key = score(outcome.task)
    length = f"{epochs} epochs"
    if outcome.epochs_run is not None:
        length = (f"up to {epochs} epochs (early stopping: {outcome.epochs_run.min()} to "
                  f"{outcome.epochs_run.max()} run)")
    return (f"{len(outcome.seeds)} seeds x {length}: test {outcome.task.score_name} "
            f"{result[key]:.3f} (sd {result[key + '_std']:.3f})")
