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


REAL_DATA = ROOT / "docs/real-data"  # each study's metrics/summary.md, as its run wrote it
PATTERNS = {
    "headline": r"test (?P<score>\S+) (?P<test>\S+) \[(?P<lo>\S+), (?P<hi>\S+)\], against "
                r"(?P<none>\S+) without a penalty: (?P<diff>\S+ \[\S+, \S+\]) \(95% interval "
                r"over seeds, sign-flip p = (?P<p>\S+)\)",
    "grid": r"the best is (?P<best>\S+), test \S+ (?P<best_score>[-\d.]+)",
    "splits": r"minus no penalty: (?P<splits>\S+ \[\S+, \S+\]) \(p = \S+\); it helps on "
              r"(?P<helps>\d+%)",
    "cv": r"overstates the score by (?P<optimism>\S+ \[\S+, \S+\])",
}


def real_data_row(name: str, summary: str) -> list[str]:
    """The README's row of one study, from its summary page."""
    found = {}
    for what, pattern in PATTERNS.items():
        match = re.search(pattern, summary)
        assert match, f"{name}: no {what} in its summary"
        found.update(match.groupdict())
    warning = " (no better than trivial)" if "**Warning.**" in summary else ""
    return [f"{name} ({found['score']})", found["none"],
            f"{found['test']} [{found['lo']}, {found['hi']}]{warning}",
            f"{found['diff']}, p = {found['p']}", f"{found['best']}: {found['best_score']}",
            f"{found['splits']}; helps on {found['helps']}", found["optimism"]]


def test_the_real_data_table_is_made_from_the_studies_summaries():
    text = (ROOT / "README.md").read_text()
    block = text.split("<!-- real data: made from docs/real-data -->")[1].split(
        "<!-- real data: end -->")[0]
    rows = [[cell.strip() for cell in line.strip().strip("|").split("|")]
            for line in block.splitlines() if line.startswith("| ") and "---" not in line][1:]
    summaries = sorted(REAL_DATA.glob("*.md"))
    assert len(rows) == len(summaries) >= 4
    for row, path in zip(rows, summaries):
        assert row == real_data_row(path.stem, path.read_text()), path.name
