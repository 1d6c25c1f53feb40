"""The matrix model: entries with uncertainty, and the immutable :class:`System`."""

from lcasolve.model.build import IdEntries, build_system, match_products
from lcasolve.model.entries import UNCERTAINTY_DTYPE, Entries, MatrixPattern, no_uncertainty
from lcasolve.model.system import System

__all__ = [
    "UNCERTAINTY_DTYPE",
    "Entries",
    "IdEntries",
    "MatrixPattern",
    "System",
    "build_system",
    "match_products",
    "no_uncertainty",
]
