"""The product carbon footprint report as a typed object.

Public API
----------
- :func:`build_report` -> :class:`PCFReport` (footprint + typed sections; ``to_dict()``,
  ``to_json()``, ``to_html()`` / ``write_html()``, ``to_text()``, notebook view)
- :class:`Section`: the protocol a section follows (``key``, ``title``, ``to_dict``,
  ``to_html(report)``, ``to_text(report)``); add one with ``build_report(..., sections=[...])``
- the standard sections: :class:`MetadataSection`, :class:`GhgSection`,
  :class:`DisclosureSection` (flow-matching assumptions, data gaps), :class:`DataQualitySection`
  (contribution-weighted pedigree scores), :class:`HotspotsSection`
  (top structural paths, the upstream tree to depth 3, a Sankey), :class:`MonteCarloSection`,
  :class:`ThresholdsSection` (of :class:`Threshold` rows), :class:`RatingSection`,
  :class:`ExternalCostSection`, :class:`FinanceSection` (rank among peers,
  PCF-linked rate, life-cycle cost), :class:`CutoffSection`
- :mod:`lcasolve.pcf.report.blocks`: the HTML building blocks sections render with (tables,
  key/value pairs, numbers, embedded figures, notes and warnings)
"""

from lcasolve.pcf.report._base import PCFReport, Section
from lcasolve.pcf.report._build import build_report
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

__all__ = [
    "CutoffSection",
    "DataQualitySection",
    "DisclosureSection",
    "ExternalCostSection",
    "FinanceSection",
    "GhgSection",
    "HotspotsSection",
    "MetadataSection",
    "MonteCarloSection",
    "PCFReport",
    "RatingSection",
    "Section",
    "Threshold",
    "ThresholdsSection",
    "build_report",
]
