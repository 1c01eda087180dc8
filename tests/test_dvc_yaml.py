"""dvc.yaml against the code: every stage depends on every module its entry point imports, so
that editing one reruns exactly the stages it can change."""

import ast
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "weightreg"
# Parsing and dispatch only: what they pass on reaches DVC as params values or file paths.
HARNESS = {"__init__.py", "__main__.py", "cli.py", "params.py"}
STAGES = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]


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


@pytest.mark.parametrize("stage", sorted(STAGES))
def test_stage_depends_on_the_modules_it_runs(stage):
    entry = PACKAGE / "stages" / f"{stage}.py"
    assert STAGES[stage]["cmd"].startswith(f"python -m weightreg {stage} "), stage
    needed = {str(path.relative_to(ROOT)) for path in imported_modules(entry)
              if path.name not in HARNESS or path.parent.name == "stages"}
    listed = {dep for dep in STAGES[stage]["deps"] if dep.startswith("src/")}
    assert needed - listed == set(), f"{stage} misses deps"
    assert listed - needed == set(), f"{stage} lists deps it does not import"


def params_read(path: Path) -> set[str]:
    """The params keys a module reads, as `params.section.key` (or `params.key`) expressions."""
    keys = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Attribute) \
                and isinstance(node.value.value, ast.Name) and node.value.value.id == "params":
            keys.add(f"{node.value.attr}.{node.attr}")
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                and node.value.id == "params":
            keys.add({"lam": "lambda"}.get(node.attr, node.attr))
    # A section read whole (`p = params.sequence`) stands for itself; drop it where one of its
    # keys is listed too.
    return {key for key in keys if not any(other.startswith(key + ".") for other in keys)}


@pytest.mark.parametrize("stage", sorted(STAGES))
def test_stage_lists_the_params_it_reads(stage):
    modules = imported_modules(PACKAGE / "stages" / f"{stage}.py")
    read = set().union(*(params_read(path) for path in modules if path.name != "params.py"))
    listed = STAGES[stage].get("params", [])
    missing = {key for key in read
               if not any(key == item or key.startswith(item + ".") for item in listed)}
    assert missing == set(), f"{stage} reads params that dvc.yaml does not list for it"
