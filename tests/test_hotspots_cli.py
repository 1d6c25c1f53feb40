"""``lcasolve tree`` and ``lcasolve paths`` through the console script."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def cli(*argv):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = ["lcasolve", *[str(a) for a in argv]]
    return subprocess.run(cmd, capture_output=True, text=True, check=False, env=env)


@pytest.fixture(scope="module")
def example(shared_data):
    fx = shared_data / "bw2calc-fixtures"
    return [fx / "bw2io_example_db.zip", fx / "ipcc_simple.zip"]


def test_tree_text_and_json(example):
    proc = cli("tree", *example, "--demand", "1=1", "--cutoff", "0.0001")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert "coverage 100.0%" in lines[0] and "7 nodes" in lines[0]
    # indented two spaces per level: the root, then its two largest inputs, then theirs
    depth = [len(line) - len(line.lstrip(" ")) for line in lines[2:7]]
    assert depth == [0, 2, 2, 4, 4]
    assert "|  0.1825 " in lines[2] and "(+100.0%)" in lines[2]
    proc = cli("tree", *example, "--demand", "1=1", "--cutoff", "0.0001", "--json")
    payload = json.loads(proc.stdout)
    assert payload["score"] == pytest.approx(0.18248161259647164, rel=1e-12)
    assert payload["n_nodes"] == 7 and payload["coverage"] == pytest.approx(1.0, rel=1e-12)
    rows = [r for r in payload["rows"] if r["kind"] == "activity"]
    assert [r["path"] for r in rows][:3] == ["0", "0/4", "0/1"]
    proc = cli("tree", *example, "--demand", "1=1", "--max-depth", "1", "--json")
    assert json.loads(proc.stdout)["n_nodes"] == 3


def test_paths_top(example):
    proc = cli("paths", *example, "--demand", "1=1", "--top", "3", "--json")
    assert proc.returncode == 0, proc.stderr
    paths = json.loads(proc.stdout)["paths"]
    assert [p["rank"] for p in paths] == [1, 2, 3]
    # activity 5 is reached by two paths; together they are its contribution (test_bw_fixtures)
    five = [p["contribution"] for p in paths if p["activity_id"] == 5]
    assert len(five) == 2 and sum(five) == pytest.approx(0.16800001296144934, rel=1e-4)
    text = cli("paths", *example, "--demand", "1=1", "--top", "3").stdout
    assert "top 3 paths explain 100.0%" in text


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["--cutoff", "0"], 2, "cutoff must be in (0, 1)"),
        (["--cutoff", "1.5"], 2, "cutoff must be in (0, 1)"),
        (["--max-nodes", "0"], 2, "max_nodes must be >= 1"),
        (["--max-depth", "-2"], 2, "max_depth must be >= 0"),
        (["--demand", "999=1"], 1, "demand id 999 is not a product"),
    ],
)
def test_tree_bad_input(example, args, code, message):
    demand = [] if "--demand" in args else ["--demand", "1=1"]
    proc = cli("tree", *example, *demand, *args)
    assert proc.returncode == code
    assert message in proc.stderr and "Traceback" not in proc.stderr
    if code == 1:
        assert len(proc.stderr.strip().splitlines()) == 1
