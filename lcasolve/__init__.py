"""lcasolve: fast, checked calculations for life cycle assessment and product carbon footprints.

The public namespace::

    system = lcasolve.load("database.zip")          # or build_system(...)
    lca = lcasolve.LCA(system)
    result = lca.calculate({product_id: 1.0})
    result.scores, result.contributions(top=10)
    lca.activity_scores()                           # every product's footprint, one solve
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lcasolve._options import Options, get_options, set_options
from lcasolve.errors import LcasolveError

if TYPE_CHECKING:
    from lcasolve.comparison import ComparisonResult, compare
    from lcasolve.io import detect_format, load, save
    from lcasolve.lca import LCA, ActivityScores, LCAResult, MultiLCAResult
    from lcasolve.model import Entries, IdEntries, System, build_system
    from lcasolve.solve import Factorization, SolveResult, available_backends, factorize

__version__ = "0.1.0"

__all__ = [
    "LCA",
    "ActivityScores",
    "ComparisonResult",
    "Entries",
    "Factorization",
    "IdEntries",
    "LCAResult",
    "LcasolveError",
    "MultiLCAResult",
    "Options",
    "SolveResult",
    "System",
    "__version__",
    "available_backends",
    "build_system",
    "compare",
    "detect_format",
    "factorize",
    "get_options",
    "load",
    "save",
    "set_options",
]

#: public names imported from their module on first access, so that ``import lcasolve`` (and
#: ``lcasolve calc --help``) loads neither numpy, scipy nor pandas
_LAZY_NAMES = {
    "LCA": "lcasolve.lca",
    "ActivityScores": "lcasolve.lca",
    "LCAResult": "lcasolve.lca",
    "MultiLCAResult": "lcasolve.lca",
    "ComparisonResult": "lcasolve.comparison",
    "compare": "lcasolve.comparison",
    "Entries": "lcasolve.model",
    "IdEntries": "lcasolve.model",
    "System": "lcasolve.model",
    "build_system": "lcasolve.model",
    "Factorization": "lcasolve.solve",
    "SolveResult": "lcasolve.solve",
    "available_backends": "lcasolve.solve",
    "factorize": "lcasolve.solve",
    "detect_format": "lcasolve.io",
    "load": "lcasolve.io",
    "save": "lcasolve.io",
}

#: sub-packages imported on first attribute access (``lcasolve.methods.with_methods(...)``)
_LAZY_SUBMODULES = frozenset(
    {
        "benchmark",
        "examples",
        "io",
        "methods",
        "montecarlo",
        "pcf",
        "sensitivity",
        "synthetic",
        "uncertainty",
    }
)


def __getattr__(name: str) -> object:
    import importlib

    if name in _LAZY_NAMES:
        value = getattr(importlib.import_module(_LAZY_NAMES[name]), name)
        globals()[name] = value  # later look-ups skip this function
        return value
    if name in _LAZY_SUBMODULES:
        return importlib.import_module(f"lcasolve.{name}")
    raise AttributeError(f"module 'lcasolve' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__) | _LAZY_SUBMODULES)
