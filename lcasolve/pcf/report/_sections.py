"""The standard report sections: limits, rating, external cost, cut-off, GHG split."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from lcasolve.pcf.cutoff import CutoffCheck
from lcasolve.pcf.disclosure import DataGaps
from lcasolve.pcf.ghg import GhgSplit
from lcasolve.pcf.plots import format_number, format_share
from lcasolve.pcf.report import blocks as h

if TYPE_CHECKING:
    from lcasolve.pcf.report._base import PCFReport

__all__ = [
    "CutoffSection",
    "ExternalCostSection",
    "GhgSection",
    "RatingSection",
    "Threshold",
    "ThresholdsSection",
]


@dataclass(frozen=True)
class Threshold:
    """A limit compared with the footprint.

    Attributes
    ----------
    name : str
    limit : float
    exceeds : bool
        The deterministic footprint is above the limit.
    distance, relative : float
        Footprint − limit, and that over the limit.
    p_exceed : float, optional
        Share of the Monte Carlo samples above the limit.
    """

    name: str
    limit: float
    exceeds: bool
    distance: float
    relative: float
    p_exceed: float | None = None


@dataclass(frozen=True)
class ThresholdsSection:
    """The footprint against limits (e.g. eco-label or regulation thresholds)."""

    key: ClassVar[str] = "thresholds"
    title: ClassVar[str] = "Limits"

    rows: tuple[Threshold, ...]

    def to_dict(self) -> list[dict[str, Any]]:
        """One record per limit."""
        return [
            {
                "name": t.name,
                "limit": t.limit,
                "exceeds": t.exceeds,
                "distance": t.distance,
                "relative": _finite(t.relative),
                "p_exceed": t.p_exceed,
            }
            for t in self.rows
        ]

    def to_html(self, report: PCFReport) -> str:
        """Table of limits with exceedance and its probability."""
        unit = report.footprint.unit
        named = any(t.name != f"{t.limit:g}" for t in self.rows)
        has_p = any(t.p_exceed is not None for t in self.rows)
        header: list[tuple[str, bool]] = [("Name", False)] if named else []
        header += [
            (h.with_unit("Limit", unit), True),
            ("Exceeded", False),
            (h.with_unit("Footprint − limit", unit), True),
            ("(Footprint − limit) / limit", True),
        ]
        if has_p:
            header.append(("P(footprint > limit)", True))
        rows = []
        for t in self.rows:
            row = [h.esc(t.name)] if named else []
            row += [
                h.num(t.limit),
                h.yes_no(t.exceeds, good=False),
                h.num(t.distance, sign=True),
                h.esc(h.signed_share(t.relative)),
            ]
            if has_p:
                row.append(h.share(t.p_exceed))
            rows.append(row)
        text = (
            "“Exceeded” compares the deterministic footprint with the limit. The distance is "
            "footprint − limit: positive (red “yes”) is by how much the limit is exceeded, "
            "negative (green “no”) the margin left. "
        )
        if has_p:
            text += "P(footprint > limit) is the share of the Monte Carlo iterations above it."
        return h.table(header, rows) + h.note(text)

    def to_text(self, report: PCFReport) -> list[str]:
        """One line per limit."""
        out = []
        for t in self.rows:
            pe = "" if t.p_exceed is None else f", P(>) = {t.p_exceed:.3f}"
            out.append(f"limit {t.limit:g}: {'exceeded' if t.exceeds else 'met'}{pe}")
        return out


@dataclass(frozen=True)
class RatingSection:
    """Rating against an industry average (:func:`lcasolve.pcf.rating`)."""

    key: ClassVar[str] = "rating"
    title: ClassVar[str] = "Rating against the benchmark"

    rating_class: str | None
    benchmark: float
    ratio: float
    distance: float
    relative: float
    p_better: float | None = None

    @classmethod
    def from_rating(cls, r: dict[str, Any]) -> RatingSection:
        """From the dict :func:`lcasolve.pcf.rating` returns."""
        return cls(
            rating_class=r["class"],
            benchmark=float(r["benchmark"]),
            ratio=float(r["ratio"]),
            distance=float(r["distance"]),
            relative=float(r["relative"]),
            p_better=r.get("p_better"),
        )

    def to_dict(self) -> dict[str, Any]:
        """Class, benchmark, ratio, distance, relative distance, P(better)."""
        out = {
            "class": self.rating_class,
            "benchmark": self.benchmark,
            "ratio": self.ratio,
            "distance": self.distance,
            "relative": self.relative,
        }
        if self.p_better is not None:
            out["p_better"] = self.p_better
        return out

    def to_html(self, report: PCFReport) -> str:
        """Key/value table."""
        unit = report.footprint.unit
        rows = [
            ("Class", h.esc(str(self.rating_class)), False),
            (h.with_unit("Benchmark (industry average)", unit), h.num(self.benchmark), True),
            ("Ratio footprint / benchmark", h.num(self.ratio), True),
            (
                h.with_unit("Distance = footprint − benchmark", unit),
                h.num(self.distance, sign=True),
                True,
            ),
            ("Relative distance", h.esc(h.signed_share(self.relative)), True),
        ]
        if self.p_better is not None:
            rows.append(("P(footprint < benchmark), Monte Carlo", h.share(self.p_better), True))
        return h.pairs(rows)

    def to_text(self, report: PCFReport) -> list[str]:
        """One line."""
        p = "" if self.p_better is None else f", P(<) = {self.p_better:.3f}"
        return [
            f"rating: class {self.rating_class} (ratio {self.ratio:.3g} to the benchmark "
            f"{self.benchmark:g}{p})"
        ]


@dataclass(frozen=True)
class ExternalCostSection:
    """External cost: footprint in t CO2e × carbon price, with its Monte Carlo spread.

    Attributes
    ----------
    price, currency, per
        Carbon price, its currency and mass unit (``t CO2e``).
    cost : float
        Cost of the deterministic footprint.
    mean, std, lo, hi : float, optional
        Monte Carlo statistics of the cost.
    """

    key: ClassVar[str] = "external_cost"
    title: ClassVar[str] = "External cost"

    price: float
    currency: str
    per: str
    cost: float
    mean: float | None = None
    std: float | None = None
    lo: float | None = None
    hi: float | None = None

    @classmethod
    def from_costs(
        cls, deterministic: dict[str, Any], sampled: dict[str, Any] | None
    ) -> ExternalCostSection:
        """From :func:`lcasolve.pcf.external_cost` of the total and, optionally, the samples."""
        mc = sampled or {}
        return cls(
            price=float(deterministic["price"]),
            currency=str(deterministic["currency"]),
            per=str(deterministic["per"]),
            cost=float(deterministic["cost"]),
            mean=mc.get("mean"),
            std=mc.get("std"),
            lo=mc.get("2.5%"),
            hi=mc.get("97.5%"),
        )

    def to_dict(self) -> dict[str, Any]:
        """``cost`` is the Monte Carlo mean when there is a run (``deterministic`` beside it)."""
        out: dict[str, Any] = {"price": self.price, "currency": self.currency, "per": self.per}
        if self.mean is None:
            out["cost"] = self.cost
            return out
        out.update(
            cost=self.mean,
            mean=self.mean,
            std=self.std,
            deterministic=self.cost,
            **{"2.5%": self.lo, "97.5%": self.hi},
        )
        return out

    def headline(self) -> str:
        """``<cost> <currency>`` with its 95 % interval, as text."""
        text = f"external cost {format_number(self.cost)} {self.currency}"
        if self.lo is not None and self.hi is not None:
            text += f" (95 % interval {h.span_range(self.lo, self.hi, self.currency)})"
        return text

    def to_html(self, report: PCFReport) -> str:
        """Key/value table and how the cost is computed."""
        cur = self.currency
        rows = [(h.with_unit("Cost of the deterministic footprint", cur), h.num(self.cost), True)]
        if self.mean is not None and self.lo is not None and self.hi is not None:
            rows.append(h.interval_row("95 % interval, Monte Carlo", cur, self.lo, self.hi))
            rows.append((h.with_unit("Monte Carlo mean", cur), h.num(self.mean), True))
            if self.std is not None:
                rows.append(
                    (h.with_unit("Monte Carlo standard deviation", cur), h.num(self.std), True)
                )
        rows.append((f"Carbon price [{cur} per {self.per}]", h.num(self.price), True))
        text = "External cost = footprint in t CO2e × carbon price."
        if self.mean is not None:
            text += (
                " The headline is the cost of the deterministic footprint; the Monte Carlo rows "
                "give the spread over the iterations (the report's JSON field <code>cost</code> "
                "is the Monte Carlo mean)."
            )
        return h.pairs(rows) + h.note(text)

    def to_text(self, report: PCFReport) -> list[str]:
        """One line."""
        if self.mean is not None:
            return [
                f"external cost: {self.cost:.4g} {self.currency} (deterministic; Monte Carlo "
                f"mean {self.mean:.4g}, 95 % [{self.lo:.4g}, {self.hi:.4g}]) "
                f"at {self.price:g}/{self.per}"
            ]
        return [f"external cost: {self.cost:.4g} {self.currency} at {self.price:g}/{self.per}"]


@dataclass(frozen=True, eq=False)
class CutoffSection:
    """PAS 2050 style cut-off check, judged on the real exclusions and on the what-if.

    Attributes
    ----------
    check : CutoffCheck
        The what-if: inputs of the supplying activities that the rule would allow to exclude
        (they are still in the footprint).
    gaps : DataGaps, optional
        The real exclusions: inputs cut off in the data of the processes the product reaches.
    """

    key: ClassVar[str] = "cutoff"

    check: CutoffCheck
    gaps: DataGaps | None = None

    @property
    def title(self) -> str:
        """Heading with the rule's limits."""
        c = self.check
        return f"Cut-off check (PAS 2050: each excluded input < {h.rule(c.each)}, all ≤ " + (
            f"{h.rule(c.overall)})"
        )

    @property
    def violations(self) -> list[str]:
        """Why the real exclusions fail or cannot be shown to pass (then the what-if's)."""
        c = self.check
        out = []
        d = self.gaps
        if d is not None and d.gaps:
            if d.unestimated:
                own = sum(1 for g in d.gaps if g.own and g.share is None)
                out.append(
                    f"{d.unestimated} inputs cut off in the data ({own} of the product's own "
                    "process) have no estimate of their share: the rule cannot be shown to hold"
                )
            big = [g for g in d.gaps if g.share is not None and abs(g.share) >= c.each]
            out += [
                f"cut-off input {g.flow_name} of {g.process_name}: about {abs(g.share or 0):.2%} "
                f">= {c.each:.0%}"
                for g in big
            ]
            if d.estimated_share + c.excluded_share > c.overall:
                out.append(
                    f"cut off in the data (estimated {d.estimated_share:.2%}) and excluded "
                    f"({c.excluded_share:.2%}) together > {c.overall:.0%}"
                )
        return out + c.violations

    @property
    def passes(self) -> bool:
        """The real exclusions and the what-if both meet the rule."""
        return not self.violations

    def to_dict(self) -> dict[str, Any]:
        """:meth:`CutoffCheck.to_dict` (``what_if_passes``) judged with the real exclusions."""
        out = self.check.to_dict()
        out["what_if_passes"] = out["passes"]
        out["passes"] = self.passes
        out["violations"] = self.violations
        d = self.gaps
        out["cut_off_in_data"] = {
            "inputs": 0 if d is None else len(d.gaps),
            "own_process": 0 if d is None else len(d.own),
            "estimated_share": 0.0 if d is None else d.estimated_share,
            "without_estimate": 0 if d is None else d.unestimated,
        }
        return out

    def to_html(self, report: PCFReport) -> str:
        """The rule, whether it passes, the real exclusions and the what-if exclusions."""
        c = self.check
        d = self.gaps
        unit = report.footprint.unit
        excluded = c.excluded
        rows = [
            ("Passes", h.yes_no(self.passes, good=True), False),
            ("Limit per excluded input", h.esc(h.rule(c.each)), True),
            ("Limit for all excluded inputs together", h.esc(h.rule(c.overall)), True),
            ("Inputs cut off in the data", h.num(0 if d is None else len(d.gaps)), True),
            ("… of the product's own process", h.num(0 if d is None else len(d.own)), True),
            (
                "… without an estimate of their share",
                h.num(0 if d is None else d.unestimated),
                True,
            ),
            (
                "Estimated share of those with an estimate",
                h.share(d.estimated_share if d else 0.0),
                True,
            ),
            ("What-if: inputs the rule would allow to exclude", h.num(len(excluded)), True),
            ("What-if: their share", h.share(c.excluded_share), True),
            ("What-if passes", h.yes_no(c.passes, good=True), False),
        ]
        out = [
            h.note(
                "Cut-off rule: an input may be left out of a study when it contributes less "
                f"than {h.esc(h.rule(c.each))} of the footprint, as long as all left-out inputs "
                f"together stay at or below {h.esc(h.rule(c.overall))}. The check is judged on "
                "the inputs <b>cut off in the data</b> (no provider; listed under Disclosures), "
                "which are missing from the footprint, and on the <b>what-if</b>: the inputs of "
                "the activities supplying the functional unit that the rule would allow to "
                "exclude; those are <i>still included</i> in the footprint above, and their "
                f"share shows how much of it they carry (together {h.share(c.excluded_share)})."
            ),
            h.pairs(rows),
        ]
        if self.violations:
            out.append(
                "<p class='bad'>Violations:</p><ul>"
                + "".join(f"<li>{h.esc(v)}</li>" for v in self.violations)
                + "</ul>"
            )
        if len(excluded):
            header = [
                ("Consumer activity", False),
                ("Input (product id)", False),
                ("Product", False),
                (h.with_unit("Score", unit), True),
                ("Share", True),
            ]
            body = [
                [
                    h.esc(str(r.consumer)),
                    h.esc(str(r.input)),
                    h.esc(str(r.name)),
                    h.num(r.score),
                    h.share(r.share),
                ]
                for r in excluded.itertuples(index=False)
            ]
            out.append("<p>What-if excluded inputs:</p>" + h.table(header, body))
        return "".join(out)

    def to_text(self, report: PCFReport) -> list[str]:
        """Passes or fails, with the real and the what-if exclusions."""
        c = self.check
        d = self.gaps
        real = ""
        if d is not None and d.gaps:
            real = f"{len(d.gaps)} inputs cut off in the data, {d.unestimated} without estimate; "
        out = [
            f"cut-off check: {'passes' if self.passes else 'fails'} ({real}what-if excluded "
            f"{c.excluded_share:.2%})"
        ]
        out += [f"  {v}" for v in self.violations]
        return out


@dataclass(frozen=True)
class GhgSection:
    """The footprint by origin of the gas, biogenic CO2 beside the total (ISO 14067)."""

    key: ClassVar[str] = "ghg_split"
    title: ClassVar[str] = "By origin: fossil, land-use change, biogenic (ISO 14067)"

    split: GhgSplit

    def to_dict(self) -> dict[str, float]:
        """:meth:`GhgSplit.to_dict`."""
        return self.split.to_dict()

    def _rows(self) -> list[tuple[str, float, bool]]:
        """``(label, value, part of the total under the convention)``."""
        s = self.split
        labels = {
            "fossil": "Fossil GHG emissions (and unspecified origin)",
            "land_use_change": "Direct land-use change (dLUC)",
            "biogenic": "Biogenic, as characterized by the method",
            "biogenic_other": "Biogenic, other than CO2 (e.g. non-fossil methane)",
            "biogenic_co2_emissions": "Biogenic CO2 emissions (+1)",
            "biogenic_co2_removals": "Biogenic CO2 removals (−1)",
        }
        rows = [(labels[k], v, True) for k, v in s.parts().items()]
        if s.convention == "0/0":
            rows += [
                (
                    "Biogenic CO2 emissions, kg CO2 (beside the total)",
                    s.biogenic_co2_emissions,
                    False,
                ),
                (
                    "Biogenic CO2 removals, kg CO2 (beside the total)",
                    s.biogenic_co2_removals,
                    False,
                ),
            ]
        rows.append(("Aircraft emissions (within fossil, beside the total)", s.aircraft, False))
        return rows

    def convention_text(self) -> str:
        """The biogenic convention in words."""
        if self.split.convention == "0/0":
            return (
                "Biogenic CO2 convention 0/0 (default): emissions and removals of biogenic CO2 "
                "count 0 in the total and are reported beside it in kg CO2."
            )
        return (
            "Biogenic CO2 convention −1/+1: removals count −1 and emissions +1 kg CO2-eq per kg "
            "in the total (the method's own factors for biogenic CO2 are replaced)."
        )

    def to_html(self, report: PCFReport) -> str:
        """Parts of the total with their shares; the rest beside it; the convention stated."""
        unit = report.footprint.unit
        s = self.split
        total = s.total_convention
        rows = []
        for label, value, in_total in self._rows():
            pct = format_share(value / total) if in_total and total else ""
            rows.append([h.esc(label), h.num(value), h.esc(pct)])
        rows.append(
            [f"Total ({h.esc(s.convention)})", h.num(total), h.share(1.0 if total else None)]
        )
        classes = [""] * (len(rows) - 1) + ["total"]
        header = [("Part", False), (h.with_unit("Amount", unit), True), ("Share", True)]
        text = (
            f"{h.esc(self.convention_text())} Split by {h.esc(s.basis)}. Rows with a share add "
            "up to the total; the others are reported beside it."
        )
        if s.convention != "0/0":
            text += f" The footprint at the method's own factors is {h.num(s.total)} {h.esc(unit)}."
        return h.table(header, rows, classes) + h.note(text)

    def to_text(self, report: PCFReport) -> list[str]:
        """The parts, one per line, and the convention."""
        s = self.split
        out = [f"by origin (ISO 14067, biogenic convention {s.convention}):"]
        out += [f"  {label:<56} {value:>14.6g}" for label, value, _ in self._rows()]
        out.append(f"  {'total under the convention':<56} {s.total_convention:>14.6g}")
        return out


def _finite(x: float) -> float | None:
    return None if not np.isfinite(x) else float(x)
