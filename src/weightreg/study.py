"""What the training stages share: members over seeds, engine calls from params, summaries."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from weightreg import data, engine, stats
from weightreg.params import Params
from weightreg.stats import mean_std


def load_split(path: str | Path) -> data.Split:
    """The data stage's output, with a clear error if it is missing or damaged."""
    try:
        text = Path(path).read_text()
    except OSError as error:
        raise ValueError(f"{path}: {error.strerror}; run the data stage first "
                         "(`dvc repro data`)") from None
    return data.from_csv(text, str(path))


def hidden_kernel_members(params: Params, kind: str, strength: float) -> list[engine.Member]:
    """One member per seed with the tutorial's placement: the hidden kernel only."""
    return [engine.Member.hidden_kernel(seed, kind, strength) for seed in range(params.train.seeds)]


def train(params: Params, split: data.Split, members: list[engine.Member], label: str,
          epochs: int | None = None) -> engine.Result:
    """One engine call with the model and training settings of params.yaml.

    A member whose loss turns NaN or infinite fails the stage, whatever the stage: its metrics
    would be meaningless, and a failure writes nothing, so earlier outputs stay intact.
    """
    result = engine.train(split, members, hidden_units=params.model.hidden_units,
                          epochs=epochs or params.train.epochs,
                          batch_size=params.train.batch_size,
                          learning_rate=params.train.learning_rate, label=label)
    bad = np.flatnonzero(result.diverged_at >= 0)
    if bad.size:
        shown = "; ".join(f"seed {members[k].seed}, {members[k].kind} strengths "
                          f"{list(members[k].strengths)}, from epoch {result.diverged_at[k] + 1}"
                          for k in bad[:5])
        raise ValueError(
            f"{label}: training diverged (loss NaN or infinite) for {bad.size} of "
            f"{len(members)} members ({shown}{'; ...' if bad.size > 5 else ''}); "
            f"lower train.learning_rate = {params.train.learning_rate!r} or the penalty strength")
    return result


def summary(result: engine.Result, columns: slice | list[int] = slice(None),
            baseline: np.ndarray | None = None) -> dict:
    """Final accuracies over the selected members (one per seed) and their weight norms.

    With the baseline's per-seed test accuracies, it adds the paired difference against them.
    """
    test = result.final_test_acc[columns]
    train_mean, train_std = mean_std(result.final_train_acc[columns])
    described = stats.describe(test)
    norms = {f"{group}_norm": mean_std(values[columns])[0]
             for group, values in result.norms().items()}
    comparison = {} if baseline is None else {"vs_baseline": stats.paired(test, baseline)}
    return {"train_acc": train_mean, "train_acc_std": train_std, "test_acc": described["mean"],
            "test_acc_std": described["std"], "test_acc_ci95": described["ci95"],
            **comparison, **norms, "test_acc_per_seed": list(test)}


def table(rows: list[dict]) -> dict[str, list]:
    """Summaries as plot-data columns: accuracies, 95% interval, paired difference to baseline."""
    return {
        **{key: [row[key] for row in rows] for key in ("train_acc", "test_acc", "test_acc_std")},
        "test_acc_ci95_low": [row["test_acc_ci95"][0] for row in rows],
        "test_acc_ci95_high": [row["test_acc_ci95"][1] for row in rows],
        "diff_vs_baseline": [row["vs_baseline"]["diff"] for row in rows],
        "p_value_vs_baseline": [row["vs_baseline"]["p_value"] for row in rows],
    }


def summaries(result: engine.Result, configurations: int, seeds: int,
              baseline: np.ndarray) -> list[dict]:
    """One summary per configuration, for members laid out configuration by configuration."""
    return [summary(result, slice(i * seeds, (i + 1) * seeds), baseline)
            for i in range(configurations)]


def best(indexes, test_acc, strength) -> int:
    """The index with the highest mean test accuracy; ties go to the stronger penalty (the
    simpler model), so the order of the values in params.yaml does not matter."""
    return max(indexes, key=lambda i: (test_acc[i], strength[i]))


def read_json(path: str | Path, keys: tuple[str, ...], stage: str) -> list:
    """The values of `keys` in another stage's JSON output, or an error naming that stage."""
    try:
        found = json.loads(Path(path).read_text())
        return [found[key] for key in keys]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ValueError(f"{path}: cannot read {', '.join(keys)} ({error}); "
                         f"rerun the {stage} stage (`dvc repro {stage}`)") from None


def load_baseline(path: str | Path, seeds: int, rows: int) -> np.ndarray:
    """The baseline stage's per-seed test accuracies, to pair other configurations with.

    Metrics keep 6 significant digits; snapping to whole rows of the `rows` test rows restores
    the exact fractions the engine computed.
    """
    (per_seed,) = read_json(path, ("test_acc_per_seed",), "baseline")
    if not isinstance(per_seed, list) or len(per_seed) != seeds:
        count = len(per_seed) if isinstance(per_seed, list) else 0
        raise ValueError(f"{path}: has {count} per-seed test accuracies, train.seeds = {seeds}; "
                         "rerun the baseline stage (`dvc repro baseline`)")
    return np.rint(np.array(per_seed, np.float64) * rows) / rows


def curves(result: engine.Result, columns: slice | list[int] = slice(None),
           epochs: int | None = None) -> dict[str, np.ndarray]:
    """Per-epoch means over the selected members: learning curves as plot data."""
    history = {name: values[:epochs, columns].astype(np.float64).mean(axis=1)
               for name, values in result.history.items()}
    return {"epoch": np.arange(1, len(history["test_acc"]) + 1),
            "train_acc": history["train_acc"], "test_acc": history["test_acc"],
            "train_loss": history["train_loss"], "test_loss": history["test_loss"]}
