"""The hotspot section of the PCF report (JSON, HTML, text)."""

from __future__ import annotations

import numpy as np
import pytest

from lcasolve.examples import load_example
from lcasolve.lca import LCA
from lcasolve.pcf.report import HotspotsSection, build_report


@pytest.fixture(scope="module")
def report():
    system, demand = load_example("cement")
    return build_report(LCA(system), demand)


def test_section_in_json_adds_up(report):
    section = report.section(HotspotsSection)
    assert section is not None
    d = report.to_dict()["hotspots"]
    total = report.footprint.total
    assert d["score"] == pytest.approx(total, rel=1e-12)
    assert d["max_depth"] == 3 and 0.9 < d["coverage"] <= 1.0 + 1e-12
    rows = d["tree"]
    nodes = [r for r in rows if r["kind"] == "activity"]
    assert max(r["depth"] for r in nodes) <= 3
    # the root's cumulative is its direct score, its children and its rest
    tree = section.summary.tree
    root_children = sum(r["cumulative"] for r in nodes if r["depth"] == 1)
    assert nodes[0]["cumulative"] == pytest.approx(
        nodes[0]["direct"] + root_children + tree.rest[0, tree.k], rel=1e-12
    )
    values = np.array([p["contribution"] for p in d["paths"]])
    assert len(values) == 10 and (np.diff(np.abs(values)) <= 0).all()
    assert values.sum() <= total * (1 + 1e-12)


def test_section_in_html_and_text(report):
    html = report.to_html()
    assert "<h2 id='hotspots'>Supply-chain hotspots</h2>" in html
    i = html.index("id='hotspots'")
    part = html[i : html.index("<h2", i + 10)]
    assert "Top structural paths" in part and "Upstream tree" in part
    assert "data:image/png;base64," in part and "plotly" not in part
    assert "Clinker production" in part
    text = report.to_text()
    assert "top 5 supply-chain paths" in text and "upstream tree to depth 3" in text


def test_section_options():
    system, demand = load_example("cement")
    lca = LCA(system)
    assert build_report(lca, demand, hotspots=False).section(HotspotsSection) is None
    pytest.importorskip("plotly")
    html = build_report(lca, demand, hotspots="interactive")["hotspots"].to_html(None)
    assert "plotly" in html.lower() and "sankey" in html.lower()
