"""The typed PCF report: one call, typed sections, JSON = CLI output, extensible by a section."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pytest

from lcasolve.cli.main import main
from lcasolve.errors import InputError
from lcasolve.examples import example_path, load_example
from lcasolve.lca import LCA
from lcasolve.pcf.report import (
    CutoffSection,
    ExternalCostSection,
    GhgSection,
    MonteCarloSection,
    PCFReport,
    Section,
    ThresholdsSection,
    build_report,
)


@pytest.fixture(scope="module")
def cement():
    system, demand = load_example("cement")
    return LCA(system), demand


def test_report_in_one_call_matches_the_cli(cement, capsys):
    lca, demand = cement
    report = build_report(lca, demand, iterations=50, seed=3, thresholds=[816.0, 751.0])
    assert isinstance(report, PCFReport)
    assert [s.key for s in report.sections] == [
        "metadata",
        "ghg_split",
        "disclosures",
        "data_quality",
        "hotspots",
        "monte_carlo",
        "thresholds",
        "external_cost",
        "cutoff",
    ]
    assert all(isinstance(s, Section) for s in report.sections)
    with pytest.raises(dataclasses.FrozenInstanceError):
        report.top = 3  # type: ignore[misc]
    mc = report.section(MonteCarloSection)
    assert mc is not None and mc.samples.shape == (50,)
    # statistics from the samples, computed here independently
    assert mc.mean == pytest.approx(np.mean(mc.samples), rel=1e-12)
    assert mc.lo == pytest.approx(np.percentile(mc.samples, 2.5), rel=1e-12)
    limits = report.section(ThresholdsSection)
    assert limits is not None
    assert [t.p_exceed for t in limits.rows] == [
        float(np.mean(mc.samples > 816.0)),
        float(np.mean(mc.samples > 751.0)),
    ]
    cost = report.section(ExternalCostSection)
    assert cost is not None and cost.cost == pytest.approx(report.footprint.total * 0.09)
    reference = lca.calculate(demand).score("IPCC AR6 GWP100")
    assert report.footprint.total == pytest.approx(reference, rel=1e-12)
    rc = main(
        [
            "report",
            str(example_path("cement")),
            "--demand",
            "cement=1",
            "--iterations",
            "50",
            "--seed",
            "3",
            "--threshold",
            "816",
            "--threshold",
            "751",
            "--json",
        ]
    )
    assert rc == 0
    cli = json.loads(capsys.readouterr().out)
    cli.pop("seconds")
    # the CLI reads leniently with --unlinked cutoff (its defaults), which the report states
    # (policies, cut-off rule): the same report from a system read that way
    import lcasolve
    from lcasolve.methods import with_methods

    as_cli = with_methods(lcasolve.load(example_path("cement"), unlinked="cutoff", strict=False))
    report = build_report(LCA(as_cli), demand, iterations=50, seed=3, thresholds=[816.0, 751.0])
    ours = json.loads(report.to_json())
    assert cli["metadata"].pop("date") and ours["metadata"].pop("date")
    assert cli == ours
    text = report.to_text()
    assert "by origin" in text and "cut-off check" in text and "limit 816" in text


@dataclass(frozen=True)
class _Note:
    key: ClassVar[str] = "reviewer_note"
    title: ClassVar[str] = "Reviewer note"
    words: str

    def to_dict(self) -> dict[str, Any]:
        return {"words": self.words}

    def to_html(self, report: PCFReport) -> str:
        return f"<p id='note-body'>{self.words} ({report.footprint.unit})</p>"

    def to_text(self, report: PCFReport) -> list[str]:
        return [f"note: {self.words}"]


def test_a_section_is_added_in_one_place(cement):
    lca, demand = cement
    report = build_report(lca, demand, sections=[_Note("checked")])
    assert report.sections[-1].key == "reviewer_note"
    assert report.to_dict()["reviewer_note"] == {"words": "checked"}
    html = report.to_html()
    assert "<h2 id='reviewer_note'>Reviewer note</h2><p id='note-body'>checked (kg CO2-eq)" in html
    assert report.to_text().endswith("note: checked")
    assert report["reviewer_note"].to_dict() == {"words": "checked"}
    assert "<h2 id='cutoff'>" in report._repr_html_()
    with pytest.raises(InputError, match="repeated"):
        dataclasses.replace(report, sections=(*report.sections, _Note("again")))


def test_without_monte_carlo_and_with_given_samples(cement):
    lca, demand = cement
    plain = build_report(lca, demand)
    assert plain.section(MonteCarloSection) is None
    assert "monte_carlo" not in plain.to_dict()
    assert plain.to_dict()["external_cost"] == {
        "price": 90.0,
        "currency": "EUR",
        "per": "t CO2e",
        "cost": pytest.approx(plain.footprint.total * 0.09, rel=1e-12),
    }
    assert isinstance(plain.section(CutoffSection), CutoffSection)
    ghg = plain.section(GhgSection)
    assert ghg is not None and ghg.split.total == plain.footprint.total
    given = build_report(lca, demand, samples=np.array([700.0, 800.0, 900.0]), benchmark=800.0)
    rating = given.to_dict()["rating"]
    assert rating["p_better"] == pytest.approx(1 / 3)
    with pytest.raises(InputError, match="samples or iterations"):
        build_report(lca, demand, samples=np.ones(3), iterations=5)
    with pytest.raises(InputError, match="non-negative"):
        build_report(lca, demand, iterations=-1)


def test_library_json_is_strict_json_without_nan():
    """``Footprint.to_json`` and ``PCFReport.to_json`` write null where a value is not finite."""
    import json
    import math

    from lcasolve._json import json_text

    text = json_text({"a": float("nan"), "b": [1.0, float("inf")], "c": np.float64(-np.inf)})
    assert json.loads(text, parse_constant=lambda c: pytest.fail(c)) == {
        "a": None,
        "b": [1.0, None],
        "c": None,
    }
    assert not math.isnan(json.loads(json_text({"x": 2.5}))["x"])
