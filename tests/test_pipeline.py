"""End to end: the real DVC pipeline on tiny params, in a temporary git copy of the project."""

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from weightreg import io, stats

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

TINY = {
    "lambda": 1.0e-3, "regularizer": "l2",
    "data": {"n_samples": 100, "noise": 0.2, "random_state": 1, "n_train": 30},
    "model": {"hidden_units": 16},
    "train": {"epochs": 30, "batch_size": 32, "learning_rate": 1.0e-2, "seeds": 2},
    "grid": {"kinds": ["l1", "l2"], "values": [1.0e-2, 1.0e-4], "refine": 2},
    "layerwise": {"hidden": [0.0, 1.0e-3], "output": [0.0, 1.0e-2]},
    "decoupled": {"values": [1.0, 1.0e-2]},
    "progressive": {
        "smithing": {"points": [[0, 0.0], [10, 1.0e-4], [20, 1.0e-3]],
                     "interpolation": "step", "epochs": 25},
        "repeated": {"levels": [1.0e-4, 1.0e-2], "epochs_per_level": 5},
    },
    "boundaries": {"resolution": 5},
    "sequence": {"n_train": 20, "n_test": 40, "length": 10, "units": 4, "epochs": 3, "seeds": 2,
                 "strengths": [1.0e-3]},
}


def run(cwd, *command, ok=True):
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}",
           "DVC_NO_ANALYTICS": "1", "GIT_AUTHOR_NAME": "test", "GIT_AUTHOR_EMAIL": "t@example.invalid",
           "GIT_COMMITTER_NAME": "test", "GIT_COMMITTER_EMAIL": "t@example.invalid"}
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL)
    if ok and done.returncode != 0:
        pytest.fail(f"{' '.join(command)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return done


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """A git copy of the tracked project with tiny params, after one `dvc repro`."""
    path = tmp_path_factory.mktemp("project")
    tracked = run(ROOT, "git", "ls-files", "-z").stdout.split("\0")
    for name in filter(None, tracked):
        if (ROOT / name).is_file():
            (path / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, path / name)
    (path / "params.yaml").write_text(yaml.safe_dump(TINY, sort_keys=False))
    run(path, "git", "init", "-q")
    run(path, "git", "add", "-A")
    run(path, "git", "commit", "-qm", "tiny")
    run(path, "dvc", "repro")
    run(path, "git", "add", "-A")
    run(path, "git", "commit", "-qm", "tiny results")
    return path


FIGURES = ("data", "learning_curves", "lambda_curve", "weight_norms", "layerwise", "decoupled",
           "progressive", "placement", "boundaries", "sequence")
# What the pipeline computes: every metric and every plot data file (figures are drawn from them).
STUDIES = ("baseline", "regularized", "grid", "refine", "layerwise", "decoupled", "placement",
           "progressive", "sequence")
RESULTS = ("data/moons.csv", *(f"metrics/{name}.json" for name in STUDIES),
           "plots/baseline.csv", "plots/regularized.csv", "plots/grid.csv", "plots/refine.csv",
           "plots/layerwise.csv", "plots/decoupled.csv", "plots/placement.csv",
           "plots/boundaries.csv", "plots/progressive.csv", "plots/repeated.csv",
           "plots/sequence.csv", *(f"plots/figures/{name}.png" for name in FIGURES))


def test_repro_writes_every_output(project):
    for stage in ("baseline", "regularized"):
        metrics = json.loads((project / f"metrics/{stage}.json").read_text())
        assert 0.5 <= metrics["test_acc"] <= 1.0
        assert len(metrics["test_acc_per_seed"]) == TINY["train"]["seeds"]
    grid = (project / "plots/grid.csv").read_text().splitlines()
    assert grid[0].startswith("kind,lambda,train_acc,test_acc,test_acc_std")
    assert len(grid) == 1 + len(TINY["grid"]["kinds"]) * len(TINY["grid"]["values"])
    best = json.loads((project / "metrics/grid.json").read_text())
    table = io.read_csv(project / "plots/grid.csv")
    top = max(range(len(table["lambda"])),
              key=lambda i: (table["test_acc"][i], table["lambda"][i]))
    assert (best["best_kind"], best["best_lambda"]) == (table["kind"][top], table["lambda"][top])
    assert set(best["by_kind"]) == {"l1", "l2"}
    placement = json.loads((project / "metrics/placement.json").read_text())
    everything, tutorial = (placement[name]["test_acc_per_seed"]
                            for name in ("everything", "hidden_kernel"))
    expected = stats.paired(everything, tutorial)
    for key, value in placement["everything"]["vs_hidden_kernel"].items():
        assert value == pytest.approx(expected[key], abs=1e-6), key
    refine = json.loads((project / "metrics/refine.json").read_text())
    assert refine["kind"] == best["best_kind"] and len(refine["decade"]) == 2
    assert len((project / "plots/refine.csv").read_text().splitlines()) == 1 + 3
    layerwise = (project / "plots/layerwise.csv").read_text().splitlines()
    assert layerwise[0].startswith("hidden_lambda,output_lambda,") and len(layerwise) == 1 + 4
    decoupled = json.loads((project / "metrics/decoupled.json").read_text())
    assert set(decoupled) == {"l2 (coupled)", "decay (AdamW)"}
    sequence = json.loads((project / "metrics/sequence.json").read_text())
    assert set(sequence) == {"conv1d", "lstm"} and "vs_none" in sequence["lstm"]["l2(0.001)"]
    boundaries = (project / "plots/boundaries.csv").read_text().splitlines()
    assert len(boundaries) == 1 + 3 * 5 * 5
    curves = (project / "plots/progressive.csv").read_text().splitlines()
    assert len(curves) == 1 + TINY["progressive"]["smithing"]["epochs"]
    for name in FIGURES:
        assert (project / f"plots/figures/{name}.png").read_bytes()[:4] == b"\x89PNG"
    assert "up to date" in run(project, "dvc", "status").stdout


def test_same_params_give_byte_identical_results(project):
    before = {name: (project / name).read_bytes() for name in RESULTS}
    run(project, "dvc", "repro", "--force")
    for name in RESULTS:
        assert (project / name).read_bytes() == before[name], name


def test_exp_run_reruns_only_what_depends_on_lambda(project):
    done = run(project, "dvc", "exp", "run", "-S", "lambda=1e-05")
    ran = {line.split("'")[1] for line in done.stdout.splitlines()
           if line.startswith("Running stage")}
    assert ran == {"regularized", "placement", "plots"}
    shown = json.loads(run(project, "dvc", "exp", "show", "--json").stdout)
    assert "lambda" in json.dumps(shown) and "1e-05" in json.dumps(shown)
    plots = json.loads(run(project, "dvc", "plots", "diff", "HEAD", "--json").stdout)["data"]
    curves = plots["Learning curves, baseline and regularized"][0]
    assert set(curves["revisions"]) == {"HEAD", "workspace"}
    rows = curves["content"]["data"]["values"]
    assert {row["rev"] for row in rows} == {"HEAD", "workspace"}
    assert len(rows) == 2 * 2 * 2 * TINY["train"]["epochs"]  # revisions x files x columns
    lambda_curve = plots["Test accuracy against lambda, one line per kind (log axis)"][0]
    assert lambda_curve["content"]["encoding"]["x"]["scale"]["type"] == "log"
    assert {row["kind"] for row in lambda_curve["content"]["data"]["values"]} == {"l1", "l2"}
    assert all(f"plots/figures/{name}.png" in plots for name in FIGURES)


def test_bad_lambda_fails_clearly_and_keeps_outputs(project):
    before = (project / "metrics/regularized.json").read_bytes()
    done = run(project, "dvc", "exp", "run", "-S", "lambda=-1", ok=False)
    assert done.returncode != 0
    assert "lambda = -1" in done.stderr + done.stdout and ">= 0" in done.stderr + done.stdout
    assert (project / "metrics/regularized.json").read_bytes() == before


def test_queued_sweep_runs_every_variant(project):
    run(project, "dvc", "exp", "run", "--queue", "-S", "lambda=1e-4,1e-3,1e-2")
    run(project, "dvc", "queue", "start", "-j", "2")
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        status = run(project, "dvc", "queue", "status").stdout
        if not any(word in status for word in ("Queued", "Running")):
            break
        time.sleep(3)
    run(project, "dvc", "queue", "stop", ok=False)
    assert "Failed" not in status, status
    shown = json.loads(run(project, "dvc", "exp", "show", "--json").stdout)
    found = {}
    for revision in shown:
        for experiment in revision.get("experiments") or []:
            for entry in experiment["revs"]:
                data = entry.get("data") or {}
                lam = data.get("params", {}).get("params.yaml", {}).get("data", {}).get("lambda")
                metrics = data.get("metrics", {}).get("metrics/regularized.json", {})
                if lam is not None and "test_acc" in metrics.get("data", {}):
                    found[float(lam)] = metrics["data"]["test_acc"]
    assert {1e-4, 1e-3, 1e-2} <= set(found), shown


def test_offline_page_renders_every_plot(project, tmp_path):
    """`dvc plots show` with the project's offline page, in headless Chromium, no network."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    page = ROOT / ".dvc/offline_plots.html"
    if not (browser and page.exists()):
        if os.environ.get("CI"):
            pytest.fail("CI must test the page in Chromium: install it and run `make setup`")
        pytest.skip("needs Chromium and the page `make setup` builds")
    shutil.copy(page, project / ".dvc/offline_plots.html")
    run(project, "dvc", "config", "--local", "plots.html_template", "offline_plots.html")
    out = tmp_path / "page"
    run(project, "dvc", "plots", "show", "-o", str(out))
    html = (out / "index.html").read_text()
    assert "cdn.jsdelivr" not in html and "<script src=" not in html
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=20000",
             "--window-size=1400,2600"]
    url = (out / "index.html").as_uri()
    dom = run(tmp_path, browser, *flags, "--dump-dom", url).stdout
    declared = [next(iter(p)) if isinstance(p, dict) else p
                for p in yaml.safe_load((ROOT / "dvc.yaml").read_text())["plots"]]
    vega_plots = html.count("vegaEmbed(")
    assert vega_plots == sum(not name.endswith(".png") for name in declared)
    # vega-embed draws each chart into a <canvas> inside its div; an error in a spec or a
    # missing library leaves the div without one.
    assert dom.count("<canvas") == vega_plots, dom[-3000:]
    assert dom.count('<img src="static/') == len(FIGURES)
    shot = tmp_path / "screenshot.png"
    run(tmp_path, browser, *flags, f"--screenshot={shot}", url)
    import matplotlib.image

    pixels = matplotlib.image.imread(shot)
    colours = len({tuple(p) for p in pixels[::7, ::7, :3].reshape(-1, 3).round(2).tolist()})
    assert colours > 50, "the screenshot is nearly blank"
    keep = os.environ.get("WEIGHTREG_SCREENSHOT")
    if keep:  # a path where a person can look at the page
        shutil.copy(shot, keep)
