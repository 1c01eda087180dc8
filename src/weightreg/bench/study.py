"""The whole default study on a table of about 6,000 rows (or more), stage by stage, with the
budgets that follow the data (early stopping and successive halving, the defaults) against the
full budget (every seed and epoch for every configuration), and against the time the `data`
stage estimated before anything trained.

`python -m weightreg.bench.study [--rows 6000]` (about 6 minutes on 2 cores at 6,000 rows)
writes scikit-learn's Friedman #1 regression table (`make_friedman1`: 10 features, 5 of them
informative, noise 1; no download) as a CSV into two fresh clones of the committed project
(HEAD), runs `dvc repro` in each, one after the other, at the default params with
`data.source=csv` (one of them with `train.early_stopping: null` and `study.search:
exhaustive`), and prints each stage's time (from its result line) and the whole run's wall
time, their ratios, and the data stage's estimate beside the time taken.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from weightreg.bench.speed import log
from weightreg.bench.waits import clone

TIME = re.compile(r"^(\w+): .*, (\d+\.\d) s(?: in this process| on .*)?$", re.M)
ESTIMATE = re.compile(r"the whole study: about (\d+) s")
SKIPPED = re.compile(r"^Stage '(\w+)' didn't change, skipping", re.M)


def table_csv(rows: int) -> str:
    import pandas as pd
    from sklearn.datasets import make_friedman1

    x, y = make_friedman1(n_samples=rows, n_features=10, noise=1.0, random_state=0)
    frame = pd.DataFrame(x, columns=[f"x{i + 1}" for i in range(x.shape[1])])
    frame["y"] = y
    return frame.to_csv(index=False, float_format="%.6g")


FULL = {"early_stopping: auto": "early_stopping: null", "search: auto": "search: exhaustive"}


def measure(rows: int, log, changes: dict[str, str] | None = None) -> dict:
    """`dvc repro` of the default study on `rows` rows, with params.yaml's `changes`."""
    with tempfile.TemporaryDirectory() as scratch:
        project = clone(Path(scratch) / "study")
        (project / "data/friedman.csv").write_text(table_csv(rows))
        env = {**os.environ, "DVC_NO_ANALYTICS": "1", "WEIGHTREG_QUIET": "1",
               "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
        env.pop("WEIGHTREG_BACKEND", None)  # in this process, as users run it
        params = (project / "params.yaml").read_text()
        for old, new in (("source: moons", "source: csv"),
                         ("path: data/example.csv", "path: data/friedman.csv"),
                         ("target: cultivar", "target: y"), *(changes or {}).items()):
            assert old in params, old
            params = params.replace(old, new, 1)
        (project / "params.yaml").write_text(params)
        log(f"dvc repro on {rows:,} rows x 10 features"
            + (f" ({', '.join(changes.values())})" if changes else ""))
        started = time.perf_counter()
        done = subprocess.run(["dvc", "repro"], cwd=project, env=env, capture_output=True,
                              text=True, stdin=subprocess.DEVNULL)
        wall = time.perf_counter() - started
        answers = {name: json.loads((project / f"metrics/{name}.json").read_text())
                   for name in ("regularized", "grid")} if not done.returncode else {}
    if done.returncode:
        raise SystemExit(f"dvc repro failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    estimate = ESTIMATE.search(done.stdout)
    return {"rows": rows, "repro_s": wall,
            "estimate_s": float(estimate.group(1)) if estimate else None,
            "stages_s": {stage: float(seconds) for stage, seconds in TIME.findall(done.stdout)},
            # Up to date in HEAD's dvc.lock: `sequence` does not read the data.
            "skipped": SKIPPED.findall(done.stdout), "answers": answers}


def table(r: dict, full: dict) -> str:
    lines = [f"the whole default study on {r['rows']:,} rows x 10 features (make_friedman1):",
             "  stage         budgets that follow the data   full budget   ratio"]
    for stage, seconds in r["stages_s"].items():
        other = full["stages_s"].get(stage)
        ratio = f"{other / seconds:5.2f}x" if other and seconds else ""
        lines.append(f"  {stage:<12} {seconds:10.1f} s {other or 0:24.1f} s   {ratio}")
    lines += [f"  {stage:<12} up to date, not run (the estimate counts it)"
              for stage in r.get("skipped", [])]
    lines.append(f"  dvc repro    {r['repro_s']:10.1f} s {full['repro_s']:24.1f} s   "
                 f"{full['repro_s'] / r['repro_s']:5.2f}x  (target <= 300 s at 20,000 rows)")
    for name, run in (("budgets that follow the data", r), ("full budget", full)):
        if run["estimate_s"]:
            lines.append(f"  {name}: estimated {run['estimate_s']:.0f} s = "
                         f"{run['estimate_s'] / run['repro_s']:.2f}x the time taken")
        head, grid = run["answers"]["regularized"], run["answers"]["grid"]
        lines.append(f"  {name}: headline test R² {head['test_score']:.4f}, gain "
                     f"{head['diff_vs_baseline']:+.4f} [{head['diff_vs_baseline_lo']:+.4f}, "
                     f"{head['diff_vs_baseline_hi']:+.4f}]; grid's best "
                     f"{grid['best_kind']}({grid['best_lambda']:g}), {grid['best_test_score']:.4f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m weightreg.bench.study",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=6000, help="rows of the table")
    args = parser.parse_args(argv)
    results = measure(args.rows, log)
    full = measure(args.rows, log, FULL)
    print(table(results, full))
    print(json.dumps({"data_decides": results, "full": full}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
