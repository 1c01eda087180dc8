"""dvc.yaml against the code: one stage per module of src/weightreg/stages, each running it
from the project root and depending on the code folder and listing every params key it reads, so that changing a key reruns exactly the
stages that read it."""

import ast
from pathlib import Path

import pytest
import yaml

from weightreg import cli

ROOT = Path(__file__).resolve().parents[1]
CODE = "src/weightreg"  # the code folder, relative to the project root
PACKAGE = ROOT / CODE
PIPELINE = yaml.safe_load((ROOT / "dvc.yaml").read_text())
STAGES = PIPELINE["stages"]


def test_every_stage_module_is_a_stage():
    modules = cli.stage_modules()
    assert modules, "found no stage modules"
    assert all(Path(module.__file__).parent == PACKAGE / "stages" for module in modules.values())
    assert set(STAGES) == set(modules)


def test_the_command_prefix_imports_the_checkout_code():
    # One `vars` entry holds the prefix; `src`, relative to the project root where DVC runs every
    # stage, is the checkout's code (a queued experiment's copy has its own), not an install.
    (prefix,) = [entry["weightreg"] for entry in PIPELINE["vars"] if "weightreg" in entry]
    assert prefix == "PYTHONPATH=src python -m weightreg"
    assert (ROOT / "src/weightreg/__main__.py").is_file()


@pytest.mark.parametrize("stage", sorted(STAGES))
def test_stage_runs_its_module_and_depends_on_the_code_once(stage):
    assert STAGES[stage]["cmd"].startswith(f"${{weightreg}} {stage} "), stage
    assert (PACKAGE / "stages" / f"{stage}.py").is_file(), stage
    deps = STAGES[stage]["deps"]
    assert [dep for dep in deps if dep.startswith("src")] == [CODE], stage


def test_the_benchmarks_are_hidden_from_the_stages_code_dependency():
    assert "src/weightreg/bench/" in (ROOT / ".dvcignore").read_text().splitlines()
    stage_code = [ROOT / "src/weightreg/cli.py", *(PACKAGE / "stages").glob("*.py")]
    assert not any("weightreg/bench" in str(path) for path in
                   set().union(*(imported_modules(path) for path in stage_code)))


def test_no_output_turns_the_run_cache_off():
    # DVC's run-cache skips a stage with a `persist` output or an `outs` entry with
    # `cache: false`; `metrics:` and `plots:` entries with `cache: false` keep it. Only `data`
    # persists, on purpose: it validates params.yaml and must not lose its split first. Its
    # split, which can be large, is DVC's to cache, not git's.
    # `summary` writes a markdown page, which is neither metrics nor plots: it reruns in about a
    # second (no training), where the run-cache would restore it.
    assert STAGES["data"]["outs"] == [{"data/split.npz": {"persist": True}}]
    assert STAGES["summary"]["outs"] == [{"metrics/summary.md": {"cache": False}}]
    for name, stage in STAGES.items():
        assert "outs" not in stage or name in ("data", "summary"), name
        for entry in stage.get("metrics", []) + stage.get("plots", []):
            ((path, options),) = entry.items()
            assert options["cache"] is False, (name, path)
            assert options.get("persist", False) == (name == "data"), (name, path)


def test_data_stage_reads_all_params():
    assert STAGES["data"]["params"] == [{"params.yaml": None}]


def imported_modules(path: Path) -> set[Path]:
    """The weightreg modules that `path` imports, directly or through other weightreg modules."""
    seen, todo = set(), [path]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        for node in ast.walk(ast.parse(current.read_text())):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(
                    "weightreg"):
                names = [f"{node.module}.{alias.name}" for alias in node.names] + [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names if alias.name.startswith("weightreg")]
            for name in names:
                candidate = ROOT / "src" / (name.replace(".", "/") + ".py")
                if candidate.exists():
                    todo.append(candidate)
    return seen


def params_read(path: Path) -> set[str]:
    """The params keys a module reads, as `params.section.key` (or `params.key`) expressions."""
    keys = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute) \
                and isinstance(node.value.value, ast.Name) and node.value.value.id == "params":
            keys.add(f"{node.value.attr}.{({'lam': 'lambda'}).get(node.attr, node.attr)}")
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                and node.value.id == "params":
            keys.add({"lam": "lambda"}.get(node.attr, node.attr))
    # A section read whole (`p = params.sequence`) stands for itself; drop it where one of its
    # keys is listed too.
    return {key for key in keys if not any(other.startswith(key + ".") for other in keys)}


@pytest.mark.parametrize("stage", sorted(set(STAGES) - {"data"}))
def test_stage_lists_the_params_it_reads(stage):
    modules = imported_modules(PACKAGE / "stages" / f"{stage}.py")
    read = set().union(*(params_read(path) for path in modules if path.name != "params.py"))
    listed = STAGES[stage].get("params", [])
    missing = {key for key in read
               if not any(key == item or key.startswith(item + ".") for item in listed)}
    assert missing == set(), f"{stage} reads params that dvc.yaml does not list for it"


def test_the_stages_that_read_the_source_depend_on_its_file():
    # The CSV of source csv (data.path): changing the file reruns what reads it.
    for stage in ("data", "replication", "selection"):
        assert "${data.path}" in STAGES[stage]["deps"], stage
