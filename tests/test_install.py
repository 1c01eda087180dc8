"""The install: every imported package is declared, and the declared dependencies resolve on
the platforms TensorFlow ships for (uv's resolver, as `make lock` runs it)."""

import ast
import re
import subprocess
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def name(requirement: str) -> str:
    # PEP 503's normalized name: ruamel.yaml and ruamel-yaml are one package.
    return re.sub(r"[-_.]+", "-", re.split(r"[ ;=<>\[!~]", requirement, maxsplit=1)[0].lower())


DECLARED = {name(r) for r in PROJECT["dependencies"]}
DASK = {name(r) for r in PROJECT["optional-dependencies"]["dask"]}  # WEIGHTREG_BACKEND=dask
GPU_BENCH = {name(r) for r in PROJECT["optional-dependencies"]["gpu-bench"]}  # bench.gpu run
BUILDS = {"tensorflow", "tensorflow-cpu"}  # one of them per platform, by environment marker


def imported_top_level(folder: Path) -> set[str]:
    names = set()
    for path in folder.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
    return names


def test_every_package_the_code_imports_is_declared():
    distributions = packages_distributions()
    third_party = {module for module in imported_top_level(ROOT / "src/weightreg")
                   if module != "weightreg" and module not in sys.stdlib_module_names}
    for module in sorted(third_party):
        # A package that this environment lacks (JAX, for the GPU benchmark's runner) must be
        # declared under its import name.
        provided_by = {name(d) for d in distributions.get(module, [])} or {module}
        assert provided_by & (DECLARED | DASK | GPU_BENCH), (
            f"`import {module}` ({provided_by}) is not declared")


@pytest.mark.parametrize("platform, python, tensorflow", [
    ("aarch64-apple-darwin", "3.12", "tensorflow"),
    ("aarch64-unknown-linux-gnu", "3.12", "tensorflow"),
    ("x86_64-unknown-linux-gnu", "3.11", "tensorflow-cpu"),
])
def test_dependencies_resolve(platform, python, tensorflow, tmp_path):
    uv = Path(sys.executable).parent / "uv"
    out = tmp_path / "pins.txt"
    done = subprocess.run([str(uv), "pip", "compile", "--quiet", "--python-platform", platform,
                           "--python-version", python, "--extra", "test", "--extra", "dask",
                           str(ROOT / "pyproject.toml"), "-o", str(out)],
                          capture_output=True, text=True, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr
    pins = {name(line) for line in out.read_text().splitlines() if line and line[0].isalpha()}
    assert tensorflow in pins and (BUILDS - {tensorflow}).isdisjoint(pins)
    assert (DECLARED | DASK) - BUILDS <= pins


def pins(lock: str) -> dict[tuple[str, str], str]:
    """(package, environment marker) -> version, for every pin of a lock file."""
    found = {}
    for line in (ROOT / lock).read_text().splitlines():
        if line and line[0].isalpha():
            assert line.endswith("\\"), f"{lock}: {line!r} is not followed by its hashes"
            requirement, _, marker = line.rstrip(" \\").partition(";")
            package, _, pinned = requirement.partition("==")
            found[name(package), marker.strip()] = pinned.strip()
    return found


def test_the_study_lock_pins_what_the_study_needs_and_nothing_more():
    pinned = {package for package, _ in pins("requirements.lock")}
    assert DECLARED <= pinned  # both TensorFlow builds, each with its marker
    assert not ({"pytest"} | DASK) & pinned  # `make repro` installs no test tools


def test_the_test_lock_adds_the_test_tools_to_the_same_pins():
    study, test = pins("requirements.lock"), pins("requirements-test.lock")
    assert DECLARED | DASK | {"pytest"} <= {package for package, _ in test}
    assert study.items() <= test.items()  # the same versions, for every platform
