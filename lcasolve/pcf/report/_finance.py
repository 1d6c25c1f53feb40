"""The green-finance and procurement section: benchmark rank, PCF-linked rate, life-cycle cost."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from lcasolve.pcf.finance import LifeCycleCost, Pricing, Ranking
from lcasolve.pcf.report import blocks as h

if TYPE_CHECKING:
    from lcasolve.pcf.report._base import PCFReport

__all__ = ["FinanceSection"]


@dataclass(frozen=True)
class FinanceSection:
    """What the footprint means for finance and procurement, with probabilities."""

    key: ClassVar[str] = "finance"
    title: ClassVar[str] = "Green finance and procurement"

    ranking: Ranking | None = None
    pricing: Pricing | None = None
    cost: LifeCycleCost | None = None

    def to_dict(self) -> dict[str, Any]:
        """``ranking``, ``pricing``, ``life_cycle_cost`` (those computed)."""
        out: dict[str, Any] = {}
        if self.ranking is not None:
            out["ranking"] = self.ranking.to_dict()
        if self.pricing is not None:
            out["pricing"] = self.pricing.to_dict()
        if self.cost is not None:
            out["life_cycle_cost"] = self.cost.to_dict()
        return out

    def to_html(self, report: PCFReport) -> str:
        """One table per part."""
        unit = report.footprint.unit
        out = []
        r = self.ranking
        if r is not None:
            rows = [
                ("Benchmark footprints (peers)", h.num(r.peers), True),
                (h.with_unit("Median of the peers", unit), h.num(r.median), True),
                ("Percentile (share of peers with a lower footprint)", h.share(r.percentile), True),
            ]
            if r.lo is not None and r.hi is not None:
                rows.append(
                    (
                        "Percentile, 95 % interval (Monte Carlo)",
                        h.esc(h.span_range(100 * r.lo, 100 * r.hi, "%")),
                        True,
                    )
                )
                rows.append(("P(footprint < peers' median)", h.share(r.p_better_than_median), True))
            out.append("<h3>Rank among peers</h3>" + h.pairs(rows))
        p = self.pricing
        if p is not None:
            header = [
                ("Class", False),
                (h.with_unit("Upper bound", unit), True),
                ("Spread", True),
                ("Rate", True),
            ]
            if p.probabilities is not None:
                header.append(("Probability (Monte Carlo)", True))
            body = []
            for name, bound in p.bounds.items():
                row = [
                    h.esc(name) + (" <b>(this product)</b>" if name == p.performance_class else ""),
                    h.num(bound) if bound != float("inf") else "no bound",
                    h.num(p.spreads[name], sign=True),
                    h.num(p.base_rate + p.spreads[name]),
                ]
                if p.probabilities is not None:
                    row.append(h.share(p.probabilities[name]))
                body.append(row)
            text = (
                f"Base rate {h.num(p.base_rate)}; rate of the deterministic footprint "
                f"{h.num(p.rate)}."
            )
            if p.expected_rate is not None:
                text += f" Expected rate over the Monte Carlo samples {h.num(p.expected_rate)}."
            out.append("<h3>PCF-linked pricing</h3>" + h.table(header, body) + h.note(text))
        c = self.cost
        if c is not None:
            cur = c.currency
            rows = [
                (h.with_unit("Purchase", cur), h.num(c.purchase), True),
                (
                    h.with_unit(
                        f"Running costs, present value ({c.years} years at "
                        f"{100 * c.discount_rate:g} %)",
                        cur,
                    ),
                    h.num(c.running),
                    True,
                ),
                (
                    h.with_unit(f"External CO2 cost at {c.carbon_price:g} {cur}/t", cur),
                    h.num(c.co2_cost),
                    True,
                ),
                (h.with_unit("Life-cycle cost", cur), h.num(c.total), True),
            ]
            if c.lo is not None and c.hi is not None:
                rows.append(h.interval_row("Life-cycle cost, 95 % interval", cur, c.lo, c.hi))
            if c.budget is not None and c.p_above is not None:
                rows.append((f"P(life-cycle cost > budget {c.budget:g})", h.share(c.p_above), True))
            out.append("<h3>Life-cycle cost for procurement</h3>" + h.pairs(rows))
        return "".join(out)

    def to_text(self, report: PCFReport) -> list[str]:
        """One line per part."""
        out = []
        r = self.ranking
        if r is not None:
            extra = "" if r.lo is None else f" (95 % [{r.lo:.1%}, {r.hi:.1%}])"
            out.append(f"rank among {r.peers} peers: percentile {r.percentile:.1%}{extra}")
        p = self.pricing
        if p is not None:
            out.append(f"PCF-linked rate: class {p.performance_class}, rate {p.rate}")
        c = self.cost
        if c is not None:
            extra = "" if c.lo is None else f" (95 % [{c.lo:.6g}, {c.hi:.6g}])"
            out.append(f"life-cycle cost: {c.total:.6g} {c.currency}{extra}")
        return out
