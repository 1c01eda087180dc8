"""Stage `summary`: the study's answer, in one short page a person reads (markdown).

Does weight decay help on this data, by how much, at which strength, does the gain survive
other splits, and what does cross-validation choose? Written from the other stages' metrics and
tables (no training): the headline with its 95% interval and p-value, and the warning when a
model is no better than predicting the majority class or the mean; the grid's best strength and
its shape; the re-splits; cross-validation's choice and the optimism of choosing on the test
rows.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np

from weightreg import data as prepared, io
from weightreg.params import Params


def _json(path: str, stage: str) -> dict:
    try:
        found = json.loads(Path(path).read_text())
    except OSError as error:
        raise io.BadInput(f"{path}: {error.strerror}; {io.rerun(stage)}") from None
    except ValueError:
        raise io.BadInput(f"{path}: not JSON; {io.rerun(stage)}") from None
    if not isinstance(found, dict):
        raise io.BadInput(f"{path}: not the metrics of the {stage} stage; {io.rerun(stage)}")
    return found


def _interval(diff: float, lo: float, hi: float) -> str:
    return f"{diff:+.3f} [{lo:+.3f}, {hi:+.3f}]"


def halving(table, seeds: int) -> str:
    """What successive halving decided against in the grid ("" where it did not run)."""
    if "rung" not in table:
        return ""
    last = max(table["rung"])
    stopped = [f"{kind}({value:g})" for kind, value, rung in
               zip(table["kind"], table["lambda"], table["rung"]) if rung < last]
    first = int(min(table["seeds"]))
    return (f" Successive halving trained every configuration on {first} seeds first; "
            + (f"{len(stopped)} of {len(table['rung'])} were clearly worse than the best "
               f"(paired 95% interval wholly below zero) and stopped there "
               f"({', '.join(stopped)}), the rest trained all {seeds}."
               if stopped else f"none was clearly worse than the best, and all trained all "
               f"{seeds}."))


def run(params: Params, *, data: str, regularized: str, grid: str, refine: str,
        replication: str, selection: str, grid_table: str, choices: str, out: str) -> str:
    dataset = prepared.load(data)
    head = _json(regularized, "regularized")
    best = _json(grid, "grid")
    finer = _json(refine, "refine")
    draws = _json(replication, "replication")
    chosen = _json(selection, "selection")
    table = io.read_csv(grid_table, "grid")
    picks = io.read_csv(choices, "selection")
    try:
        score, name = dataset.task.score_name, f"{params.regularizer}({params.lam:g})"
        split = dataset.split
        kinds = list(dict.fromkeys(table["kind"].astype(str)))
        values = sorted(set(table["lambda"].tolist()), reverse=True)
        cv = Counter(picks["cv_lambda"].tolist()).most_common(1)[0]
        lines = [
            f"# Does weight decay help on {dataset.source}?",
            "",
            f"{dataset.source}: {dataset.task.name}, {len(split.y_train)} training rows, "
            f"{len(split.y_test)} test rows, {len(dataset.features)} features; the score is "
            f"test {score} (`test_score`), the mean over {params.train.seeds} seeds.",
            "",
            f"**Headline.** {name} on the hidden kernel: test {score} "
            f"{head['test_score']:.3f} [{head['test_score_lo']:.3f}, "
            f"{head['test_score_hi']:.3f}], against {head['baseline_test_score']:.3f} "
            f"without a penalty: "
            f"{_interval(head['diff_vs_baseline'], head['diff_vs_baseline_lo'], head['diff_vs_baseline_hi'])}"
            f" (95% interval over seeds, sign-flip p = {head['p_value']:.3g}).",
        ]
        stopping = params.train.early_stopping
        if stopping:
            lines += ["", f"**Early stopping.** Every model trained on the first "
                      f"{1 - params.train.validation_split:.0%} of its training rows and "
                      f"stopped once its loss on the last {params.train.validation_split:.0%} "
                      f"had not improved for {stopping.patience} epochs, keeping its best "
                      f"epoch's weights (Keras' `EarlyStopping(restore_best_weights=True)`); "
                      f"the headline's models trained a median of {head['epochs_run']:g} of "
                      f"{params.train.epochs} epochs. The baseline stops early too, so every "
                      "gain here is the penalty's beyond early stopping's, itself a "
                      "regularizer. Set `train.early_stopping: null` to train every epoch."]
        if not (head["beats_trivial"] and head["baseline_beats_trivial"]):
            who = " and ".join(who for who, ok in (("the baseline", head["baseline_beats_trivial"]),
                                                   (name, head["beats_trivial"])) if not ok)
            what = "the majority class" if dataset.task.classifies else "the mean (R² 0)"
            lines += ["", f"**Warning.** {who[0].upper()}{who[1:]} no better than predicting "
                      f"{what}: test {score} {head['trivial_test_score']:.3f}. A gain between "
                      "models that do not learn from the features is no gain; look at the data "
                      "and the network before the penalty."]
        lines += [
            "",
            f"**Strength.** The grid ({len(kinds)} kinds x {len(values)} values, "
            f"{', '.join(kinds)} at {', '.join(f'{v:g}' for v in values)}): the best is "
            f"{best['best_kind']}({best['best_lambda']:g}), test {score} "
            f"{best['best_test_score']:.3f}; a finer grid inside its decade reaches "
            f"{finer['refined_test_score']:.3f}. Both pick on the test rows, which flatters "
            "them (see cross-validation)." + halving(table, params.train.seeds),
            "",
            f"**Other splits.** On {params.replication.draws} draws of the data, "
            f"l2({params.replication.lam:g}) minus no penalty: "
            f"{_interval(draws['replication_diff'], draws['replication_diff_lo'], draws['replication_diff_hi'])}"
            f" (p = {draws['replication_p']:.3g}); it helps on "
            f"{draws['replication_helps']:.0%} of draws.",
            "",
            f"**Cross-validation.** {params.selection.folds}-fold cross-validation on the "
            f"training rows of {len(picks['cv_lambda'])} draws chooses l2({cv[0]:g}) most often "
            f"({cv[1]} of {len(picks['cv_lambda'])}); its test {score} is "
            f"{np.mean(picks['cv_test_score']):.3f}, against "
            f"{np.mean(picks['oracle_test_score']):.3f} at the test rows' own choice: "
            f"choosing on the test rows overstates the score by "
            f"{_interval(chosen['optimism'], chosen['optimism_lo'], chosen['optimism_hi'])}.",
            "",
        ]
    except (KeyError, TypeError, ValueError, IndexError) as error:
        raise io.BadInput(f"the other stages' metrics or tables lack {error}; rerun the study "
                          "(`dvc repro`)") from None
    io.write({out: "\n".join(lines)})
    verdict = ("no better than a trivial predictor" if not head["beats_trivial"] else
               "helps" if head["diff_vs_baseline_lo"] > 0 else
               "hurts" if head["diff_vs_baseline_hi"] < 0 else "changes nothing measurable")
    return f"{out}: {name} {verdict} on {dataset.source}"
