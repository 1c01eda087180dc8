"""Benchmark what users wait for, side by side in one run, against what it is measured by.

`python -m weightreg.bench.waits [--repeats N]` (`make bench-waits`, about 6 minutes on 2 cores)
works in fresh clones of the committed project (HEAD), with this environment's Python first on
the PATH and a new, empty XLA cache folder, and measures:

1. a bare `python -c "import tensorflow"`;
2. `dvc repro --force`: every stage, replication and selection included, with the XLA cache
   cold (a first run on this machine compiles every program);
3. `dvc exp run -S lambda=3e-3` in a fresh clone each time (its run-cache is empty, so it
   trains), with the XLA cache warm from step 2, as on a machine that has run the study once;
4. plain Keras: the tutorial's model (Dense 500 relu, Dense 1 sigmoid, Adam) fit for 4000 epochs
   with `validation_data`, as the tutorial runs it, import and compile excluded.

Medians of N repeats (the repro and the Keras fit: one run each, they take minutes), then the
two ratios: exp run against the import, and the whole repro against the one Keras model.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from weightreg.bench.speed import log

ROOT = Path(__file__).resolve().parents[3]  # the project: src/weightreg/bench/waits.py

KERAS_FIT = """
import time
from weightreg import data, models, params
split = data.make(params.moons())
model = models.mlp(500)
model.fit(split.x_train, split.y_train, epochs=1, verbose=0,
          validation_data=(split.x_test, split.y_test))  # traces: not timed
started = time.perf_counter()
model.fit(split.x_train, split.y_train, epochs=4000, verbose=0,
          validation_data=(split.x_test, split.y_test))
print(time.perf_counter() - started)
"""


def timed(command: list[str], cwd: Path, env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    return time.perf_counter() - started


def clone(into: Path) -> Path:
    subprocess.run(["git", "clone", "-q", str(ROOT), str(into)], check=True)
    offline_page = ROOT / ".dvc/offline_plots.html"
    if offline_page.exists():  # built by `make`, not tracked
        (into / ".dvc/offline_plots.html").write_bytes(offline_page.read_bytes())
    return into


def measure(repeats: int, log) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
               "DVC_NO_ANALYTICS": "1", "WEIGHTREG_QUIET": "1",
               "WEIGHTREG_XLA_CACHE": str(scratch / "xla")}
        for name in ("TF_XLA_FLAGS", "WEIGHTREG_BACKEND"):  # in this process, as users run it
            env.pop(name, None)
        log("import tensorflow")
        imports = [timed([sys.executable, "-c", "import tensorflow"], scratch, env)
                   for _ in range(repeats)]
        log("dvc repro --force (XLA cache cold)")
        project = clone(scratch / "repro")
        repro = timed(["dvc", "repro", "--force"], project, env)
        exp_runs = []
        for i in range(repeats):
            log(f"dvc exp run -S lambda=3e-3 ({i + 1}/{repeats})")
            exp_runs.append(timed(["dvc", "exp", "run", "-S", "lambda=3e-3"],
                                  clone(scratch / f"exp{i}"), env))
        log("Keras fit, one tutorial model, 4000 epochs")
        keras = float(subprocess.run([sys.executable, "-c", KERAS_FIT], cwd=ROOT,
                                     env={**env, "PYTHONPATH": str(ROOT / "src")},
                                     check=True, capture_output=True, text=True).stdout)
    results = {"repeats": repeats, "import_tensorflow_s": statistics.median(imports),
               "exp_run_s": statistics.median(exp_runs), "repro_force_s": repro,
               "keras_fit_4000_s": keras}
    results["exp_run_vs_import"] = results["exp_run_s"] / results["import_tensorflow_s"]
    results["repro_vs_keras_fit"] = repro / keras
    return results


def table(r: dict[str, float]) -> str:
    return "\n".join([
        f"what users wait for (median of {r['repeats']}; repro and Keras once each)",
        f"  import tensorflow                      {r['import_tensorflow_s']:7.1f} s",
        f"  dvc exp run -S lambda=3e-3             {r['exp_run_s']:7.1f} s  "
        f"= {r['exp_run_vs_import']:.2f}x the import (target <= 3)",
        f"  dvc repro --force, XLA cache cold      {r['repro_force_s']:7.1f} s  "
        f"= {r['repro_vs_keras_fit']:.2f}x one Keras fit (target <= 1)",
        f"  Keras fit, 1 model x 4000 epochs       {r['keras_fit_4000_s']:7.1f} s",
    ])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m weightreg.bench.waits",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="repeats of the short commands")
    args = parser.parse_args(argv)
    results = measure(args.repeats, log)
    print(table(results))
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
