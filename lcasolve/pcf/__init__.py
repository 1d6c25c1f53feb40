"""Product carbon footprint (PCF) reports: stages, scopes, cut-off, thresholds, external cost.

Public API
----------
- :func:`footprint` -> :class:`Footprint` (total per functional unit, breakdowns by tag, activity
  and flow, system boundary, JSON/CSV/HTML output)
- :func:`resolve_tags` (tags from activity-table columns, a table of ids, or name-pattern rules)
- :func:`cutoff_check` (PAS 2050 style: each excluded input < 1 %, all excluded <= 5 %)
- :func:`factor_footprint` (CF = sum of activity data x cradle-to-gate emission factors)
- :func:`compare_thresholds`, :func:`classify`, :func:`rating`
- :func:`external_cost`
- :func:`ghg_split` -> :class:`GhgSplit` (fossil / land-use change / biogenic, biogenic CO2
  emissions and removals beside the total)
- :mod:`lcasolve.pcf.report`: :func:`~lcasolve.pcf.report.build_report` -> ``PCFReport``, the
  whole report (footprint and typed sections) as one object rendered to JSON, text and HTML
"""

from lcasolve.pcf.cost import external_cost
from lcasolve.pcf.cutoff import CutoffCheck, cutoff_check
from lcasolve.pcf.factors import FactorFootprint, factor_footprint
from lcasolve.pcf.footprint import Footprint, footprint
from lcasolve.pcf.ghg import GhgSplit, ghg_split
from lcasolve.pcf.tags import read_tag_table, resolve_tags
from lcasolve.pcf.thresholds import classify, compare_thresholds, rating

__all__ = [
    "CutoffCheck",
    "FactorFootprint",
    "Footprint",
    "GhgSplit",
    "classify",
    "compare_thresholds",
    "cutoff_check",
    "external_cost",
    "factor_footprint",
    "footprint",
    "ghg_split",
    "rating",
    "read_tag_table",
    "resolve_tags",
]
