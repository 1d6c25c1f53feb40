"""``build_report``: the footprint, its checks and uncertainty as one typed report."""

from __future__ import annotations

import dataclasses
from collections.abc import Hashable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from lcasolve.errors import InputError
from lcasolve.lca import LCA
from lcasolve.model import System
from lcasolve.pcf.cost import DEFAULT_CARBON_PRICE, external_cost
from lcasolve.pcf.cutoff import cutoff_check
from lcasolve.pcf.disclosure import data_gaps, flow_assumptions
from lcasolve.pcf.finance import life_cycle_cost, pcf_linked_rate, rank
from lcasolve.pcf.footprint import footprint
from lcasolve.pcf.ghg import ghg_split
from lcasolve.pcf.metadata import study_metadata
from lcasolve.pcf.quality import data_quality
from lcasolve.pcf.report._base import PCFReport, Section
from lcasolve.pcf.report._disclosure import (
    DataQualitySection,
    DisclosureSection,
    MetadataSection,
)
from lcasolve.pcf.report._finance import FinanceSection
from lcasolve.pcf.report._hotspots import HotspotsSection
from lcasolve.pcf.report._montecarlo import MonteCarloSection
from lcasolve.pcf.report._sections import (
    CutoffSection,
    ExternalCostSection,
    GhgSection,
    RatingSection,
    Threshold,
    ThresholdsSection,
)
from lcasolve.pcf.spread import check_spread
from lcasolve.pcf.thresholds import compare_thresholds, rating

__all__ = ["build_report"]


def build_report(
    lca_or_system: LCA | System,
    demand: Mapping[Hashable, float],
    category: Hashable | None = None,
    *,
    tags: Mapping[str, Any] | None = None,
    boundary: str | None = None,
    tag_names: Mapping[str, Mapping[Any, str]] | None = None,
    iterations: int = 0,
    seed: int = 0,
    samples: np.ndarray | None = None,
    out: str | Path | None = None,
    resume: bool = False,
    overwrite: bool = False,
    thresholds: Mapping[str, float] | Sequence[float] | None = None,
    benchmark: float | None = None,
    price: float = DEFAULT_CARBON_PRICE,
    currency: str = "EUR",
    each: float = 0.01,
    overall: float = 0.05,
    top: int = 10,
    title: str = "Product carbon footprint",
    mean_factor: float = 1.5,
    peers: Sequence[float] | np.ndarray | None = None,
    pricing: Mapping[str, Any] | None = None,
    procurement: Mapping[str, Any] | None = None,
    biogenic: str = "0/0",
    reference_year: str | int | None = None,
    versions: Mapping[str, str] | None = None,
    date: str | None = None,
    hotspots: bool | str = True,
    sections: Sequence[Section] = (),
    invalid: str = "flag",
    progress: bool | None = False,
) -> PCFReport:
    """A product carbon footprint report in one call.

    Parameters
    ----------
    lca_or_system : LCA or System
    demand : mapping
        Functional unit ``{product id: amount}``.
    category : id or name, optional
        Impact category (default as in :func:`lcasolve.pcf.footprint`).
    tags, boundary, tag_names
        As in :func:`lcasolve.pcf.footprint`.
    iterations : int
        Monte Carlo iterations (0: none).
    seed : int
        Seed of the Monte Carlo run.
    samples : array, optional
        Monte Carlo samples of the footprint computed elsewhere (instead of ``iterations``).
    out, resume, overwrite
        HDF5 file of the Monte Carlo run, as in :meth:`lcasolve.montecarlo.MonteCarlo.run`.
    thresholds : mapping or sequence, optional
        Limits to compare with (``{name: limit}`` or limits), with P(footprint > limit).
    benchmark : float, optional
        Industry average to rate against.
    price, currency
        Carbon price per t CO2e for the external cost.
    each, overall : float
        Cut-off rule (PAS 2050: 1 % per input, 5 % in all).
    top : int
        Activities and flows listed one by one.
    title : str
    mean_factor : float
        The Monte Carlo mean may depart from the footprint by this factor before the report
        warns (:func:`lcasolve.pcf.spread.check_spread`).
    biogenic : {"0/0", "-1/+1"}
        Biogenic CO2 convention of the split by origin (:func:`lcasolve.pcf.ghg_split`).
    peers : array, optional
        Benchmark footprints of peer products: adds the product's percentile
        (:func:`lcasolve.pcf.finance.rank`).
    pricing : mapping, optional
        ``{"base_rate": r, "classes": {class: (upper bound, spread)}}``: adds the PCF-linked rate
        (:func:`lcasolve.pcf.finance.pcf_linked_rate`).
    procurement : mapping, optional
        Keyword arguments of :func:`lcasolve.pcf.finance.life_cycle_cost` (``purchase``,
        ``annual_cost``, ``years``, ``discount_rate``, ``budget``); the carbon price is ``price``.
    reference_year, versions, date
        Study metadata (:func:`lcasolve.pcf.metadata.study_metadata`): the year the data
        represent, ``{data source: version}``, the report's date (default now).
    hotspots : bool or "interactive"
        Add the supply-chain hotspot section (top paths, the tree to depth 3, a static
        Sankey); ``"interactive"`` also embeds the plotly Sankey (extra ``plot``).
    sections : sequence of Section
        Further sections, appended in order.
    invalid : {"flag", "refuse", "drop"}
        Monte Carlo samples without meaning (a production amount drawn ≤ 0, a loop drawn
        unproductive): kept and disclosed, refused, or left out and disclosed (as in
        :meth:`lcasolve.montecarlo.MonteCarlo.run`).
    progress : bool or None
        Progress bar of the Monte Carlo run on stderr (None: when stderr is a terminal).

    Returns
    -------
    PCFReport
    """
    if isinstance(iterations, bool) or int(iterations) != iterations or iterations < 0:
        raise InputError(f"iterations must be a non-negative integer, not {iterations!r}")
    if samples is not None and iterations:
        raise InputError("give either samples or iterations, not both")
    if out is not None and not iterations:
        raise InputError("out keeps a Monte Carlo run: give iterations > 0")
    lca = lca_or_system if isinstance(lca_or_system, LCA) else LCA(lca_or_system)
    fp = footprint(lca, demand, category, tags=tags, boundary=boundary, tag_names=tag_names)
    gaps = data_gaps(lca, fp)
    found: list[Section] = [
        MetadataSection(
            study_metadata(
                fp,
                reference_year=reference_year,
                versions=versions,
                each=each,
                overall=overall,
                date=date,
            )
        ),
        GhgSection(ghg_split(lca, fp, convention=biogenic)),
        DisclosureSection(flow_assumptions(lca, fp), gaps),
        DataQualitySection(data_quality(lca, fp)),
    ]
    if hotspots:
        interactive = hotspots == "interactive"
        found.append(HotspotsSection.build(lca, demand, fp.category, interactive=interactive))
    mc: MonteCarloSection | None = None
    if iterations:
        from lcasolve.montecarlo import MonteCarlo

        res = MonteCarlo(
            lca.system,
            dict(demand),
            categories=[fp.category],
            allow_ill_conditioned=lca.allow_ill_conditioned,
        ).run(
            int(iterations),
            seed=seed,
            out=out,
            resume=resume,
            overwrite=overwrite,
            progress=progress,
            invalid=invalid,
        )
        mc = MonteCarloSection.from_samples(
            res.scores[:, 0, 0],
            seed=seed,
            n_fallback=int(res.n_fallback),
            out=out,
            n_invalid=res.n_invalid,
            dropped=res.dropped,
            invalid_counts=res.invalid_counts(),
        )
    elif samples is not None:
        s = np.asarray(samples, dtype=float).ravel()
        if s.size == 0:
            raise InputError("no Monte Carlo samples given")
        mc = MonteCarloSection.from_samples(s)
    draws = None if mc is None else mc.samples
    if mc is not None:
        check = check_spread(lca, fp, mc.samples, factor=mean_factor)
        found.append(dataclasses.replace(mc, check=check))
    if thresholds is not None and len(thresholds):
        df = compare_thresholds(fp.total, thresholds, draws)
        found.append(
            ThresholdsSection(
                tuple(
                    Threshold(
                        name=str(name),
                        limit=float(r.limit),
                        exceeds=bool(r.exceeds),
                        distance=float(r.distance),
                        relative=float(r.relative),
                        p_exceed=None if draws is None else float(r.p_exceed),
                    )
                    for name, r in df.iterrows()
                )
            )
        )
    if benchmark is not None:
        found.append(RatingSection.from_rating(rating(fp.total, benchmark, samples=draws)))
    unit = fp.unit or "kg"
    found.append(
        ExternalCostSection.from_costs(
            external_cost(fp.total, price=price, unit=unit, currency=currency),
            None
            if draws is None
            else external_cost(draws, price=price, unit=unit, currency=currency),
        )
    )
    if peers is not None or pricing is not None or procurement is not None:
        found.append(
            FinanceSection(
                ranking=None if peers is None else rank(fp.total, peers, draws),
                pricing=None
                if pricing is None
                else pcf_linked_rate(fp.total, samples=draws, **dict(pricing)),
                cost=None
                if procurement is None
                else life_cycle_cost(
                    fp.total,
                    carbon_price=price,
                    unit=unit,
                    currency=currency,
                    samples=draws,
                    **dict(procurement),
                ),
            )
        )
    found.append(
        CutoffSection(cutoff_check(lca, demand, fp.category, each=each, overall=overall), gaps)
    )
    return PCFReport(footprint=fp, sections=(*found, *sections), top=top, title=title)
