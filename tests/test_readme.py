"""The README's results table must say what the committed metrics say."""

import json
import re
from pathlib import Path

from weightreg import io

ROOT = Path(__file__).resolve().parents[1]


def table_rows():
    text = (ROOT / "README.md").read_text()
    block = text.split("<!-- results: checked")[1].split("<!-- results: end -->")[0]
    rows = [[cell.strip() for cell in line.strip("|").split("|")]
            for line in block.splitlines() if line.startswith("| ") and "---" not in line]
    return {row[0]: row for row in rows[1:]}


def cell(train, test, std):
    return f"{train:.3f}", f"{test:.3f} ± {std:.3f}"


def test_results_table_matches_metrics():
    rows = table_rows()
    expected = {}
    for name, label in (("baseline", "baseline"), ("regularized", "l2(0.001)")):
        members = io.read_csv(ROOT / f"members/{name}.csv")
        expected[label] = cell(members["train_score"].mean(), members["test_score"].mean(),
                               members["test_score"].std(ddof=1))
    grid = io.read_csv(ROOT / "plots/grid.csv")
    for kind, lam, train, test, std in zip(grid["kind"], grid["lambda"], grid["train_score"],
                                           grid["test_score"], grid["test_score_std"]):
        if kind == "l2":  # the tutorial's grid
            expected[f"grid {lam:.0e}"] = cell(train, test, std)
    assert set(rows) == set(expected)
    for label, (train, test) in expected.items():
        assert tuple(rows[label][2:4]) == (train, test), label
    headline = json.loads((ROOT / "metrics/regularized.json").read_text())
    assert f"{headline['test_score']:.3f}" == expected["l2(0.001)"][1][:5]
    params = (ROOT / "params.yaml").read_text()
    assert re.search(r"^lambda: 1\.0e-3$", params, re.M) and re.search(r"^regularizer: l2$", params, re.M), "the l2(0.001) row"
