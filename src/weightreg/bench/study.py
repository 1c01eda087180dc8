"""The whole default study on a table of about 6,000 rows, stage by stage, against the time
the `data` stage estimated before anything trained.

`python -m weightreg.bench.study [--rows 6000]` (about 5 minutes on 2 cores) writes scikit-learn's
Friedman #1 regression table (`make_friedman1`: 10 features, 5 of them informative, noise 1; no
download) as a CSV into a fresh clone of the committed project (HEAD), runs `dvc repro` there
at the default params with `data.source=csv`, and prints each stage's time (from its result
line) and the whole run's wall time beside the data stage's estimate, with their ratio.
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


def measure(rows: int, log) -> dict:
    with tempfile.TemporaryDirectory() as scratch:
        project = clone(Path(scratch) / "study")
        (project / "data/friedman.csv").write_text(table_csv(rows))
        env = {**os.environ, "DVC_NO_ANALYTICS": "1", "WEIGHTREG_QUIET": "1",
               "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
        env.pop("WEIGHTREG_BACKEND", None)  # in this process, as users run it
        params = (project / "params.yaml").read_text()
        for old, new in (("source: moons", "source: csv"),
                         ("path: data/example.csv", "path: data/friedman.csv"),
                         ("target: cultivar", "target: y")):
            assert old in params, old
            params = params.replace(old, new, 1)
        (project / "params.yaml").write_text(params)
        log(f"dvc repro on {rows:,} rows x 10 features")
        started = time.perf_counter()
        done = subprocess.run(["dvc", "repro"], cwd=project, env=env, capture_output=True,
                              text=True, stdin=subprocess.DEVNULL)
        wall = time.perf_counter() - started
    if done.returncode:
        raise SystemExit(f"dvc repro failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    estimate = ESTIMATE.search(done.stdout)
    return {"rows": rows, "repro_s": wall,
            "estimate_s": float(estimate.group(1)) if estimate else None,
            "stages_s": {stage: float(seconds) for stage, seconds in TIME.findall(done.stdout)},
            # Up to date in HEAD's dvc.lock: `sequence` does not read the data.
            "skipped": SKIPPED.findall(done.stdout)}


def table(r: dict) -> str:
    lines = [f"the whole default study on {r['rows']:,} rows x 10 features (make_friedman1)"]
    lines += [f"  {stage:<12} {seconds:7.1f} s" for stage, seconds in r["stages_s"].items()]
    lines += [f"  {stage:<12} up to date, not run (the estimate counts it)"
              for stage in r.get("skipped", [])]
    lines.append(f"  dvc repro    {r['repro_s']:7.1f} s  (target <= 300, moonshot 180)")
    if r["estimate_s"]:
        ratio = r["estimate_s"] / r["repro_s"]
        lines.append(f"  estimated    {r['estimate_s']:7.1f} s  = {ratio:.2f}x the time taken "
                     "(target within 1.5x either way)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m weightreg.bench.study",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=6000, help="rows of the table")
    args = parser.parse_args(argv)
    results = measure(args.rows, log)
    print(table(results))
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
