"""The supply graph of a functional unit (Sankey): one node per activity, loops kept.

A node's value is the score of the activity's whole production in the system,
``U_i = A[i, i] s_i λ_i``; a link from supplier ``i`` to consumer ``j`` carries
``(−A[i, j] s_j) λ_i``, the score of the part of ``i``'s output that ``j`` takes, and the link
from ``i`` to the functional unit carries ``f_i λ_i``. So a node's outgoing links add up to its
value and its value is its direct score plus its incoming links (``Aᵀ λ = (C B)ᵀ``); what comes
from activities not shown is an "other upstream" link, so every node still adds up.
"""

from __future__ import annotations

import html
from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from lcasolve.hotspots._basis import Basis, Totals, check_cutoff, check_max_nodes
from lcasolve.hotspots._render import jsonable

__all__ = ["SupplyGraph", "build_graph"]

#: target of the links into the functional unit, and source of "other upstream" links
FUNCTIONAL_UNIT = -1
OTHER = -2


@dataclass(frozen=True, eq=False)
class SupplyGraph:
    """Activities above a minimum share, largest first, and the links among them (immutable).

    Attributes
    ----------
    demand : dict
    category, unit : str
    min_share : float
        A node is kept when ``|U_i| ≥ min_share ×`` the gross total.
    max_nodes : int
        Node budget, filled largest ``|U_i|`` first.
    totals : Totals
    truncated : bool
        True when more activities passed ``min_share`` than the budget allowed.
    activity : numpy.ndarray
        Technosphere positions of the nodes, largest ``|value|`` first.
    value, direct, other : numpy.ndarray
        Per node: ``U_i``, its direct score ``s_i (C B)_i``, and what reaches it from activities
        not shown (``value = direct + incoming links + other``).
    production : numpy.ndarray
        Per node: the amount of its product made in the system, ``A[i, i] s_i``.
    source, target : numpy.ndarray
        Per link: node positions (``target = -1`` is the functional unit; ``source = -2`` is the
        "other upstream" of the target).
    amount, link_value : numpy.ndarray
        Per link: product amount and score carried.
    """

    demand: dict[Hashable, float]
    category: str
    unit: str
    min_share: float
    max_nodes: int
    totals: Totals
    truncated: bool
    activity: np.ndarray
    value: np.ndarray
    direct: np.ndarray
    other: np.ndarray
    production: np.ndarray
    source: np.ndarray
    target: np.ndarray
    amount: np.ndarray
    link_value: np.ndarray
    basis: Basis = field(repr=False)

    @property
    def n_nodes(self) -> int:
        """Number of activity nodes (the functional unit not counted)."""
        return int(self.activity.size)

    @property
    def coverage(self) -> float:
        """Share of the net total that the direct scores of the nodes shown explain."""
        net = self.totals.net
        return float(self.direct.sum() / net) if net else float("nan")

    def _meta(self, column: str) -> np.ndarray:
        return self.basis.system.activities[column].to_numpy(dtype=object)[self.activity]

    def labels(self) -> list[str]:
        """Node labels: name and location."""
        return [
            f"{n} [{loc}]" if loc else str(n)
            for n, loc in zip(self._meta("name"), self._meta("location"), strict=True)
        ]

    def to_frame(self) -> pd.DataFrame:
        """One row per node: ids, names, production, value, direct, other upstream, share."""
        return pd.DataFrame(
            {
                "activity_id": self._meta("id"),
                "name": self._meta("name"),
                "location": self._meta("location"),
                "production": self.production,
                "unit": self._meta("unit"),
                "value": self.value,
                "direct": self.direct,
                "other": self.other,
                "share": self.totals.share(self.value),
            }
        )

    def links_frame(self) -> pd.DataFrame:
        """One row per link: supplier, consumer, product amount, score and share."""
        names = np.array(self.labels() + ["(other upstream)", "(functional unit)"], dtype=object)
        ids = np.concatenate([self._meta("id"), np.array(["", ""], dtype=object)])
        src = np.where(self.source == OTHER, self.n_nodes, self.source)
        tgt = np.where(self.target == FUNCTIONAL_UNIT, self.n_nodes + 1, self.target)
        return pd.DataFrame(
            {
                "source_id": ids[src],
                "source": names[src],
                "target_id": ids[tgt],
                "target": names[tgt],
                "amount": self.amount,
                "value": self.link_value,
                "share": self.totals.share(self.link_value),
            }
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary, nodes and links."""
        t = self.totals
        return jsonable(
            {
                "demand": self.demand,
                "category": self.category,
                "unit": self.unit,
                "totals": {"net": t.net, "positive": t.positive, "negative": t.negative},
                "min_share": self.min_share,
                "max_nodes": self.max_nodes,
                "truncated": self.truncated,
                "coverage": self.coverage,
                "nodes": self.to_frame().to_dict(orient="records"),
                "links": self.links_frame().to_dict(orient="records"),
            }
        )

    def plot(self, **layout: Any) -> Any:
        """An interactive Sankey (a plotly ``Figure``; needs the ``plot`` extra)."""
        from lcasolve.hotspots.plot import sankey_figure

        return sankey_figure(self, **layout)

    def plot_static(self, ax: Any = None) -> Any:
        """A static Sankey-style drawing for printed reports (a matplotlib ``Figure``)."""
        from lcasolve.hotspots.plot import static_figure

        return static_figure(self, ax=ax)

    def _repr_html_(self) -> str:
        head = (
            f"<p>Supply graph of {html.escape(repr(self.demand))}: {self.totals.net:.6g} "
            f"{html.escape(self.unit)}, {self.n_nodes} activities, {self.source.size} links, "
            f"coverage {self.coverage:.1%} (<code>.plot()</code> draws the Sankey)</p>"
        )
        return head + self.to_frame().head(50).to_html(index=False)


def build_graph(
    basis: Basis,
    demand: dict[Hashable, float],
    f: np.ndarray,
    supply: np.ndarray,
    score: float,
    *,
    category: Hashable | None = None,
    min_share: float = 0.005,
    max_nodes: int = 200,
) -> SupplyGraph:
    """The Sankey graph of a functional unit.

    Parameters
    ----------
    basis, demand, f, supply, score, category
        As for :func:`lcasolve.hotspots.build_tree`.
    min_share : float
        Keep activities with ``|U_i| ≥ min_share ×`` the gross total; in (0, 1).
    max_nodes : int
        At most this many activities, the largest ``|U_i|`` first.

    Returns
    -------
    SupplyGraph
    """
    share = check_cutoff(min_share, "min_share")
    budget = check_max_nodes(max_nodes)
    k = basis.category(category)
    totals = Totals.from_supply(basis, supply, k, score)
    lam = basis.lam[:, k]
    production = basis.diag * supply
    value = production * lam
    size = np.abs(value)
    cand = np.flatnonzero((size >= share * totals.gross) & (size > 0) & (supply != 0))
    cand = cand[np.argsort(-size[cand], kind="stable")]
    kept = cand[:budget]
    where = np.full(basis.diag.size, -1, dtype=np.int64)
    where[kept] = np.arange(kept.size)
    # links among kept nodes: walk the kept columns of A
    lengths = basis.indptr[kept + 1] - basis.indptr[kept]
    starts = np.repeat(basis.indptr[kept], lengths)
    entry = starts + np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    consumer = np.repeat(kept, lengths)
    rows = basis.indices[entry]
    ok = (where[rows] >= 0) & (rows != consumer) & (basis.data[entry] != 0)
    amount = -basis.data[entry[ok]] * supply[consumer[ok]]
    link = amount * lam[rows[ok]]
    src, tgt = where[rows[ok]], where[consumer[ok]]
    direct = supply[kept] * basis.unit_direct[kept, k]
    incoming = np.bincount(tgt, weights=link, minlength=kept.size)
    other = value[kept] - direct - incoming
    fu = np.flatnonzero(f[kept])
    big = np.abs(other) > 1e-12 * max(totals.gross, 1e-300)
    rest = np.flatnonzero(big)
    return SupplyGraph(
        demand=dict(demand),
        category=str(basis.system.categories["name"].iloc[k]),
        unit=str(basis.system.categories["unit"].iloc[k]),
        min_share=share,
        max_nodes=budget,
        totals=totals,
        truncated=bool(cand.size > budget),
        activity=kept,
        value=value[kept],
        direct=direct,
        other=other,
        production=production[kept],
        source=np.concatenate([src, fu, np.full(rest.size, OTHER)]).astype(np.int64),
        target=np.concatenate([tgt, np.full(fu.size, FUNCTIONAL_UNIT), rest]).astype(np.int64),
        amount=np.concatenate([amount, f[kept[fu]], np.full(rest.size, np.nan)]),
        link_value=np.concatenate([link, f[kept[fu]] * lam[kept[fu]], other[rest]]),
        basis=basis,
    )
