"""Report sections of the study's metadata, its disclosures and its data quality (pedigree)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from lcasolve.pcf.disclosure import Assumption, DataGaps
from lcasolve.pcf.metadata import StudyMetadata
from lcasolve.pcf.quality import DataQuality
from lcasolve.pcf.report import blocks as h

if TYPE_CHECKING:
    from lcasolve.pcf.report._base import PCFReport

__all__ = ["DataQualitySection", "DisclosureSection", "MetadataSection"]

#: gaps listed one by one in the HTML page (all are in the JSON)
_LISTED = 40


@dataclass(frozen=True)
class MetadataSection:
    """Functional unit, boundary, reference year, data sources, rules, method, software, date."""

    key: ClassVar[str] = "metadata"
    title: ClassVar[str] = "Study"

    metadata: StudyMetadata

    def to_dict(self) -> dict[str, Any]:
        """:meth:`StudyMetadata.to_dict`."""
        return self.metadata.to_dict()

    def to_html(self, report: PCFReport) -> str:
        """Key/value table; an unstated reference year is marked."""
        rows = []
        for label, value in self.metadata.rows():
            cell = h.esc(value)
            if label == "Reference year" and self.metadata.reference_year is None:
                cell = "<span class='bad'>not stated</span>"
            rows.append((label, cell, False))
        return h.pairs(rows)

    def to_text(self, report: PCFReport) -> list[str]:
        """One line per item."""
        return [f"{label.lower()}: {value}" for label, value in self.metadata.rows()]


@dataclass(frozen=True)
class DisclosureSection:
    """Assumptions of the flow matching and the data gaps of the supply chain."""

    key: ClassVar[str] = "disclosures"
    title: ClassVar[str] = "Disclosures: assumptions and data gaps"

    assumptions: tuple[Assumption, ...]
    gaps: DataGaps

    def to_dict(self) -> dict[str, Any]:
        """``assumptions`` (records) and ``data_gaps`` (:meth:`DataGaps.to_dict`)."""
        return {
            "assumptions": [a.to_dict() for a in self.assumptions],
            "data_gaps": self.gaps.to_dict(),
        }

    def gap_lines(self) -> list[str]:
        """The data gaps in a few sentences (text and HTML)."""
        d = self.gaps
        n = len(d.gaps)
        lines = []
        if d.summary is None:
            lines.append(
                f"No link report recorded for this system ({d.source}): no input is known to be "
                "cut off."
            )
        elif n:
            lines.append(
                f"{n} inputs of {len({g.process for g in d.gaps})} of the {d.processes} "
                f"processes the functional unit reaches are cut off (no provider in the data), "
                f"{len(d.own)} of them inputs of the product's own process; "
                f"{n - d.unestimated} have an estimate (together {d.estimated_share:.3%} of the "
                f"footprint), {d.unestimated} have none."
            )
        else:
            lines.append(f"No input of the {d.processes} processes reached is cut off.")
        if d.ambiguous_linked:
            lines.append(
                f"{d.ambiguous_linked} inputs with several providers were linked to one of them "
                "by the linking rules."
            )
        if d.coproducts_left_out:
            lines.append(f"{d.coproducts_left_out} co-product outputs are left out.")
        if d.uncertainty_dropped:
            lines.append(
                f"{d.uncertainty_dropped} uncertainty distributions in the data were invalid and "
                "dropped on import (those amounts are kept, fixed)."
            )
        if d.problems:
            lines.append(f"{len(d.problems)} other problems were skipped on import.")
        return lines

    def to_html(self, report: PCFReport) -> str:
        """Table of assumptions, the gap summary and the gaps, own process first."""
        unit = report.footprint.unit
        out = ["<h3>Assumptions made by flow matching</h3>"]
        if self.assumptions:
            header = [
                ("Rule", False),
                ("Flows", False),
                ("Amount [kg]", True),
                (h.with_unit("Score", unit), True),
                ("Share", True),
            ]
            rows = [
                [
                    h.esc(a.rule),
                    h.esc("; ".join(a.flows)),
                    h.num(a.amount),
                    h.num(a.score),
                    h.share(a.share),
                ]
                for a in self.assumptions
            ]
            out.append(h.table(header, rows))
        else:
            out.append(h.note("None: every characterized flow got its method's own value."))
        out.append("<h3>Data gaps</h3>")
        text = " ".join(h.esc(x) for x in self.gap_lines())
        d = self.gaps
        out.append(h.warning(text) if d.unestimated or d.uncertainty_dropped else f"<p>{text}</p>")
        if d.gaps:
            header = [
                ("Process", False),
                ("Input cut off", False),
                ("Issue", False),
                ("Amount per functional unit", True),
                ("Estimated share", True),
                ("Estimate basis", False),
            ]
            rows = [
                [
                    h.esc(g.process_name) + (" <b>(own)</b>" if g.own else ""),
                    h.esc(g.flow_name),
                    h.esc(g.issue),
                    h.num(g.amount),
                    h.share(g.share) if g.share is not None else "no estimate",
                    h.esc(g.basis),
                ]
                for g in d.gaps[:_LISTED]
            ]
            out.append(h.table(header, rows))
            if len(d.gaps) > _LISTED:
                out.append(h.note(f"… and {len(d.gaps) - _LISTED} more (all in the JSON)."))
        return "".join(out)

    def to_text(self, report: PCFReport) -> list[str]:
        """Assumptions with amount and share, then the gap summary."""
        out = ["assumptions:"]
        out += [
            f"  {a.rule}: {a.amount:.4g} kg"
            + (f", {a.share:.1%} of the footprint" if a.share is not None else "")
            for a in self.assumptions
        ] or ["  none"]
        out.append("data gaps:")
        out += [f"  {x}" for x in self.gap_lines()]
        return out


@dataclass(frozen=True)
class DataQualitySection:
    """Pedigree scores of the footprint's supply chain (:mod:`lcasolve.pcf.quality`)."""

    key: ClassVar[str] = "data_quality"
    title: ClassVar[str] = "Data quality (pedigree)"

    quality: DataQuality

    def to_dict(self) -> dict[str, Any]:
        """:meth:`DataQuality.to_dict`."""
        return self.quality.to_dict()

    def lines(self) -> list[str]:
        """What the scores cover, in a few sentences (text and HTML)."""
        q = self.quality
        if not q.recorded:
            return ["The data record no pedigree (data-quality) scores: none can be summarized."]
        if not q.exchanges:
            out = ["No elementary exchange of the supply chain has pedigree scores"]
            if q.technosphere:
                out[0] += f" ({q.technosphere} technosphere inputs have, not weighted)"
            return [out[0] + ": 100 % of the footprint has no pedigree data."]
        out = [
            f"{q.exchanges} elementary exchanges with pedigree scores make "
            f"{1.0 - q.share_without:.1%} of the footprint; {q.share_without:.1%} has no "
            f"pedigree data.",
            "Mean scores weighted by each exchange's absolute contribution, 1 (best) to 5.",
        ]
        if q.technosphere:
            out.append(
                f"{q.technosphere} technosphere inputs of the processes reached also have "
                f"pedigree scores (not weighted: they score an input amount, not an emission)."
            )
        return out

    def to_html(self, report: PCFReport) -> str:
        """Indicator table and what it covers; a warning when most of the footprint has none."""
        q = self.quality
        text = " ".join(h.esc(x) for x in self.lines())
        uncovered = not math.isfinite(q.share_without) or q.share_without > 0.5
        out = [h.warning(text) if uncovered else f"<p>{text}</p>"]
        if q.exchanges:
            header = [("Indicator", False), ("Mean score (1-5)", True)]
            rows = [[h.esc(k), h.num(v)] for k, v in q.indicators.items()]
            out.append(h.table(header, rows))
        return "".join(out)

    def to_text(self, report: PCFReport) -> list[str]:
        """The coverage, then one line of the five mean scores."""
        out = [f"  {x}" for x in self.lines()]
        q = self.quality
        if q.exchanges:
            out.append(
                "  mean scores: " + ", ".join(f"{k} {v:.2f}" for k, v in q.indicators.items())
            )
        return ["data quality (pedigree):", *out]
