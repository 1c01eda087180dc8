"""End to end: the real DVC pipeline on tiny params, in a temporary git copy of the project
(`tiny.py`)."""

import json
import re
import os
import shutil
import time

import numpy as np
import pytest
import yaml

from tiny import ROOT, TINY, make_project, run
from weightreg import io, stats

FIGURES = ("data", "learning_curves", "lambda_curve", "weight_norms", "layerwise", "decoupled",
           "progressive", "placement", "sequence")
TRAINED = ("baseline", "regularized", "grid", "refine", "layerwise", "decoupled", "placement",
           "progressive", "sequence", "replication", "selection")
WITH_METRICS = ("data", "regularized", "grid", "refine", "layerwise", "decoupled", "placement",
                "progressive", "sequence", "replication", "selection")
PLOT_DATA = ("baseline", "regularized", "grid", "refine", "layerwise", "decoupled", "placement",
             "progressive", "repeated", "sequence", "replication", "selection")
# What the pipeline computes: every metric, table and figure.
RESULTS = ("data/split.npz", "data/points.csv", *(f"members/{name}.csv" for name in TRAINED),
           *(f"metrics/{name}.json" for name in WITH_METRICS),
           *(f"plots/{name}.csv" for name in PLOT_DATA),
           "plots/boundaries.png", "plots/replication.png", "metrics/summary.md",
           *(f"figures/{name}.png" for name in FIGURES))
# The metrics `dvc exp show` has as columns, in this order: the headline first.
HEADLINE = ["test_score", "test_score_lo", "test_score_hi", "diff_vs_baseline",
            "diff_vs_baseline_lo", "diff_vs_baseline_hi", "p_value", "mcnemar_p",
            "baseline_test_score", "train_score", "test_loss", "trivial_test_score",
            "beats_trivial", "baseline_beats_trivial"]


def stages_run(output: str) -> set[str]:
    return {line.split("'")[1] for line in output.splitlines() if line.startswith("Running stage")}


def metrics(project) -> dict[str, dict]:
    return {name: json.loads((project / f"metrics/{name}.json").read_text())
            for name in WITH_METRICS}


def test_repro_writes_every_output(project):
    for name in RESULTS:
        assert (project / name).stat().st_size > 0, name
    baseline = io.read_csv(project / "members/baseline.csv")
    assert list(baseline["seed"]) == list(range(TINY["train"]["seeds"]))
    grid = io.read_csv(project / "members/grid.csv")
    kinds, values = TINY["grid"]["kinds"], TINY["grid"]["values"]
    assert len(grid["seed"]) == len(kinds) * len(values) * TINY["train"]["seeds"]
    assert set(zip(grid["kind"], grid["lambda"])) == {(k, v) for k in kinds for v in values}
    # Exact values: accuracies are whole rows of the 70 test rows.
    assert np.array_equal(np.rint(grid["test_score"] * 70) / 70, grid["test_score"])
    # The grid's best, recomputed from its members, is what its metrics say.
    means = {(k, v): grid["test_score"][(grid["kind"] == k) & (grid["lambda"] == v)].mean()
             for k in kinds for v in values}
    best = max(means, key=lambda key: (means[key], key[1]))
    found = metrics(project)["grid"]
    assert (found["best_kind"], found["best_lambda"]) == best
    assert found["best_test_score"] == pytest.approx(means[best], abs=1e-6)
    # The headline's difference is paired seed by seed with the baseline's members.
    regularized = io.read_csv(project / "members/regularized.csv")
    expected = stats.paired(regularized["test_score"], baseline["test_score"])
    headline = metrics(project)["regularized"]
    assert headline["diff_vs_baseline"] == pytest.approx(expected["diff"], abs=1e-6)
    assert headline["p_value"] == pytest.approx(expected["p_value"], abs=1e-6)
    table = io.read_csv(project / "plots/grid.csv")
    assert list(table)[:2] == ["kind", "lambda"] and "test_score_lo" in table
    # Learning curves keep every 20th epoch and the last, with their 95% intervals.
    curves = io.read_csv(project / "plots/progressive.csv")
    assert list(curves["epoch"]) == [20, TINY["progressive"]["smithing"]["epochs"]]
    assert np.all(curves["test_score_lo"] <= curves["test_score"])
    assert np.all(curves["test_score"] <= curves["test_score_hi"])
    for name in FIGURES:
        assert (project / f"figures/{name}.png").read_bytes()[:4] == b"\x89PNG"
    assert "up to date" in run(project, "dvc", "status").stdout


def test_replication_draw_zero_is_the_main_study(project):
    """Draw 0 is the tutorial's data: its members equal the baseline's and the regularized
    stage's, seed by seed, in every exact value the replication keeps."""
    replication = io.read_csv(project / "members/replication.csv")
    first = replication["random_state"] == TINY["data"]["random_state"]
    assert (TINY["regularizer"], TINY["lambda"]) == ("l2", TINY["replication"]["lambda"])
    for stage, kind in (("baseline", "none"), ("regularized", "l2")):
        main = io.read_csv(project / f"members/{stage}.csv")
        mine = first & (replication["kind"] == kind) & (
            replication["lambda"] == (0.0 if kind == "none" else TINY["lambda"]))
        for column in ("seed", "train_score", "test_score"):
            assert list(replication[column][mine]) == list(main[column]), (stage, column)
    draws, seeds = TINY["replication"]["draws"], TINY["replication"]["seeds"]
    settings = 1 + len(set(TINY["grid"]["values"]) | {TINY["replication"]["lambda"]})
    assert len(replication["seed"]) == draws * seeds * settings
    table = io.read_csv(project / "plots/replication.csv")
    assert table["helps"] + table["ties"] + table["hurts"] == pytest.approx(np.ones(settings))
    assert table["best"].sum() == pytest.approx(1.0)


def test_selection_refits_are_the_replication_members(project):
    selection = io.read_csv(project / "plots/selection.csv")
    replication = io.read_csv(project / "members/replication.csv")
    assert len(selection["random_state"]) == TINY["selection"]["draws"]
    for r, value, accuracy in zip(selection["random_state"], selection["cv_lambda"],
                                  selection["cv_test_score"]):
        mine = ((replication["random_state"] == r) & (replication["kind"] == "l2")
                & (replication["lambda"] == value))
        assert accuracy == pytest.approx(replication["test_score"][mine].mean(), abs=1e-6)
    assert np.all(selection["optimism"] >= 0)  # the test rows' choice is best on the test rows
    members = io.read_csv(project / "members/selection.csv")
    folds, values = TINY["selection"]["folds"], len(TINY["grid"]["values"])
    expected = TINY["selection"]["draws"] * folds * values * TINY["replication"]["seeds"]
    assert len(members["seed"]) == expected
    assert "test_rows" not in members  # no comparison reads them


def test_mcnemar_p_is_computed_from_the_rows(project):
    baseline = io.read_csv(project / "members/baseline.csv")
    regularized = io.read_csv(project / "members/regularized.csv")

    def consensus(table):
        return stats.consensus([[mark == "+" for mark in rows] for rows in table["test_rows"]])

    expected = stats.mcnemar_p(consensus(regularized), consensus(baseline))
    assert metrics(project)["regularized"]["mcnemar_p"] == pytest.approx(expected, abs=1e-6)
    grid = io.read_csv(project / "plots/grid.csv")
    header = list(grid)
    assert header.index("mcnemar_p") == header.index("p_value") + 1


def test_metrics_are_few_scalars_with_fixed_names_headline_first(project):
    found = metrics(project)
    leaves = [value for values in found.values() for value in values.values()]
    assert len(leaves) <= 40
    assert all(isinstance(value, (int, float, str)) for value in leaves)
    assert list(found["regularized"]) == HEADLINE
    # No key carries a param value or a configuration's label.
    keys = [key for values in found.values() for key in values]
    assert all(key.replace("_", "").isalnum() and key.islower() for key in keys), keys
    assert len(set(keys)) == len(keys), "a name in two files gets a file prefix in exp show"
    shown = json.loads(run(project, "dvc", "exp", "show", "--json").stdout)
    files = list(shown[0]["data"]["metrics"])
    assert files[:2] == ["metrics/data.json", "metrics/regularized.json"], files


def test_same_params_give_byte_identical_results(project):
    before = {name: (project / name).read_bytes() for name in RESULTS}
    run(project, "dvc", "repro", "--force")
    for name in RESULTS:
        assert (project / name).read_bytes() == before[name], name


def test_exp_run_reruns_only_what_depends_on_lambda(project):
    done = run(project, "dvc", "exp", "run", "-S", "lambda=1e-05")
    # `data` checks all of params.yaml first; its split is unchanged, so nothing else reruns
    # (`summary` rewrites its page, which the run-cache does not keep: about a second).
    assert stages_run(done.stdout) == {"data", "regularized", "summary", "figures"}
    # Before anything trains, the whole study's time (README, "How long").
    assert re.search(r"^data: two moons: .*; the whole study: about \d+ s on this machine "
                     r"\(\w+ \d+ s, \w+ \d+ s, \w+ \d+ s\)", done.stdout, re.M), done.stdout
    assert "regularized: l2(1e-05) on the hidden kernel, 2 seeds x 30 epochs: test" in done.stdout
    assert "oneDNN" not in done.stdout + done.stderr and "absl" not in done.stdout + done.stderr
    diff = json.loads(run(project, "dvc", "metrics", "diff", "HEAD", "--json").stdout)
    assert set(diff) <= {"metrics/regularized.json"}
    assert sum(len(rows) for rows in diff.values()) <= len(HEADLINE)
    plots = json.loads(run(project, "dvc", "plots", "diff", "HEAD", "--json").stdout)["data"]
    curves = plots["plots/regularized.csv"][0]
    assert curves["content"]["title"]["text"] == "regularized: learning curve"
    assert set(curves["revisions"]) == {"HEAD", "workspace"}
    assert len(curves["content"]["data"]["values"]) == 2 * 2  # epochs 20 and 30, 2 revisions
    lambda_curve = plots["plots/grid.csv"][0]["content"]
    # lambda > 0 on a log axis, told apart by revision; lambda = 0 (none here) as a rule.
    area, line, zero = lambda_curve["layer"]
    assert line["encoding"]["x"]["scale"]["type"] == "log"
    assert line["encoding"]["strokeDash"]["field"] == "rev"
    assert zero["layer"][0]["mark"]["type"] == "rule"
    assert {row["kind"] for row in lambda_curve["data"]["values"]} == {"l1", "l2"}
    assert all(f"figures/{name}.png" in plots for name in FIGURES)


def test_revisiting_params_restores_from_the_run_cache(project):
    first = run(project, "dvc", "exp", "run", "-S", "lambda=3e-3")
    assert "regularized" in stages_run(first.stdout)
    trained = (project / "members/regularized.csv").read_bytes()
    run(project, "dvc", "exp", "run", "-S", "lambda=1e-3")
    again = run(project, "dvc", "exp", "run", "-S", "lambda=3e-3")
    assert stages_run(again.stdout) == {"data", "summary"}, again.stdout
    for stage in ("regularized", "figures"):
        assert f"Stage '{stage}' is cached - skipping run" in again.stdout
    assert (project / "members/regularized.csv").read_bytes() == trained


def test_bad_lambda_fails_clearly_and_keeps_outputs(project):
    kept = ("data/split.npz", "data/points.csv", "members/regularized.csv", "metrics/regularized.json",
            "plots/regularized.csv", "figures/learning_curves.png")
    before = {name: (project / name).read_bytes() for name in kept}
    done = run(project, "dvc", "exp", "run", "-S", "lambda=-1", ok=False)
    assert done.returncode != 0
    message = done.stderr + done.stdout
    assert "weightreg data: error: params.yaml: lambda = -1 is not allowed" in message
    assert ">= 0" in message and "Traceback" not in message
    for name in kept:
        assert (project / name).read_bytes() == before[name], name
    run(project, "git", "checkout", "params.yaml")


def test_queued_experiments_run_the_code_they_were_queued_with(project):
    run(project, "dvc", "exp", "run", "--queue", "-S", "lambda=1e-4,1e-3,1e-2")
    # An edit of the workspace's code after queueing must not reach the queued runs.
    stage = project / "src/weightreg/stages/regularized.py"
    original = stage.read_text()
    stage.write_text(original + '\nraise SystemExit("the workspace\'s edited code ran")\n')
    try:
        run(project, "dvc", "queue", "start", "-j", "2")
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            status = run(project, "dvc", "queue", "status").stdout
            if not any(word in status for word in ("Queued", "Running")):
                break
            time.sleep(3)
        run(project, "dvc", "queue", "stop", "--kill", ok=False)
    finally:
        stage.write_text(original)
    assert "Failed" not in status, status
    shown = json.loads(run(project, "dvc", "exp", "show", "--json").stdout)
    found = {}
    for revision in shown:
        for experiment in revision.get("experiments") or []:
            for entry in experiment["revs"]:
                data = entry.get("data") or {}
                lam = data.get("params", {}).get("params.yaml", {}).get("data", {}).get("lambda")
                metrics = data.get("metrics", {}).get("metrics/regularized.json", {})
                if lam is not None and "test_score" in metrics.get("data", {}):
                    found[float(lam)] = metrics["data"]["test_score"]
    assert {1e-4, 1e-3, 1e-2} <= set(found), shown


PAGE_LIMIT = 2.5e6  # bytes: a two-revision `dvc plots diff` page stays light enough to open


def browser_flags(tmp_path):
    return ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=20000",
            "--window-size=1400,2600"]


def needs_the_page():
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if not (browser and (ROOT / ".dvc/offline_plots.html").exists()):
        if os.environ.get("CI"):
            pytest.fail("CI must test the page in Chromium: install it and run `make setup`")
        pytest.skip("needs Chromium and the page `make setup` builds")
    return browser


def test_offline_page_renders_every_plot(project, tmp_path):
    """`dvc plots diff` with the project's offline page, in headless Chromium, no network."""
    browser = needs_the_page()
    shutil.copy(ROOT / ".dvc/offline_plots.html", project / ".dvc/offline_plots.html")
    run(project, "dvc", "config", "--local", "plots.html_template", "offline_plots.html")
    out = tmp_path / "page"
    run(project, "dvc", "plots", "diff", "HEAD", "-o", str(out))  # two revisions
    html = (out / "index.html").read_text()
    assert "cdn.jsdelivr" not in html and "<script src=" not in html
    url = (out / "index.html").as_uri()
    dom = run(tmp_path, browser, *browser_flags(tmp_path), "--dump-dom", url).stdout
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    declared = [next(iter(entry)) for stage in stages.values() for entry in stage.get("plots", [])]
    images = [path for path in declared if path.endswith(".png")]
    vega_plots = html.count("vegaEmbed(")
    assert vega_plots == len(declared) - len(images) - 1  # and the folder of figures
    # vega-embed draws each chart into an element of class "marks" (an SVG or a canvas) inside
    # its div; an error in a spec or a missing library leaves the div without one.
    assert dom.count('class="marks"') == vega_plots, dom[-3000:]
    assert dom.count('<img src="static/') == 2 * (len(FIGURES) + len(images))
    assert 'class="mark-area' in dom, "no chart drew an interval band"
    shown = json.loads(run(project, "dvc", "plots", "show", "--json").stdout)["data"]
    moons = shown["data/points.csv"][0]["content"]["encoding"]
    assert (moons["color"]["field"], moons["shape"]["field"]) == ("colour", "split")
    shot = tmp_path / "screenshot.png"
    run(tmp_path, browser, *browser_flags(tmp_path), f"--screenshot={shot}", url)
    import matplotlib.image

    pixels = matplotlib.image.imread(shot)
    colours = len({tuple(p) for p in pixels[::7, ::7, :3].reshape(-1, 3).round(2).tolist()})
    assert colours > 50, "the screenshot is nearly blank"
    keep = os.environ.get("WEIGHTREG_SCREENSHOT")
    if keep:  # a path where a person can look at the page
        shutil.copy(shot, keep)


def test_the_real_two_revision_page_stays_small(tmp_path):
    """The committed results at the real settings, as `dvc plots diff` pages them for two
    revisions (HEAD and the workspace), with the offline page's scripts inlined."""
    needs_the_page()
    out = tmp_path / "page"
    run(ROOT, "dvc", "plots", "diff", "HEAD", "-o", str(out),
        "--html-template", str(ROOT / ".dvc/offline_plots.html"))
    size = (out / "index.html").stat().st_size
    assert size <= PAGE_LIMIT, f"{size / 1e6:.1f} MB"


# Your own data: the whole pipeline, tiny, on a real dataset of each task (the CSV is
# scikit-learn's wine table with string labels, data/example.csv), two hidden layers.
OWN_DATA = {
    "csv": ("multiclass", "accuracy", "mcnemar_p"),
    "diabetes": ("regression", "R²", "wilcoxon_p"),
    "breast_cancer": ("binary", "accuracy", "mcnemar_p"),
}


@pytest.mark.parametrize("source", OWN_DATA)
def test_the_pipeline_runs_on_your_own_data(source, tmp_path):
    task, score_name, rows_p = OWN_DATA[source]
    tiny_params = yaml.safe_load(yaml.safe_dump(TINY))
    tiny_params["data"].update(source=source, n_train=60)
    tiny_params["model"]["hidden_units"] = [8, 8]
    tiny_params["replication"]["draws"] = 2
    project = make_project(tmp_path, tiny_params)
    found = metrics(project)
    # One name for every task's score, so that one column and one chart serve them all; with
    # early stopping (on for every source but two moons), how long the headline trained.
    assert list(found["regularized"]) == [
        rows_p if name == "mcnemar_p" else name for name in HEADLINE] + ["epochs_run"]
    assert 1 <= found["regularized"]["epochs_run"] <= TINY["train"]["epochs"]
    assert found["data"] == {"data": "data/example.csv" if source == "csv" else source,
                             "task": task, "score": score_name}
    assert all("_score" in key for key in found["grid"] if key != "best_kind"
               and key != "best_lambda")
    members = io.read_csv(project / "members/grid.csv")
    assert {"hidden_1_kernel_norm", "hidden_2_kernel_norm", "output_kernel_norm"} <= set(members)
    if task == "regression":  # R² of a fit can be negative, never above 1
        assert np.all(members["test_score"] <= 1)
    else:
        assert np.all((members["test_score"] >= 0) & (members["test_score"] <= 1))
    done = run(project, "dvc", "repro", "--force", "-s", "boundaries")
    assert "does not apply: decision boundaries need two features" in done.stdout
    line = run(project, "dvc", "repro", "--force", "-s", "regularized").stdout
    assert f"test {score_name} " in line
    data_line = run(project, "dvc", "repro", "--force", "-s", "data").stdout
    assert f"({task})" in data_line and "60 training rows" in data_line
    for name in FIGURES:
        assert (project / f"figures/{name}.png").read_bytes()[:4] == b"\x89PNG"
    assert "up to date" in run(project, "dvc", "status").stdout
