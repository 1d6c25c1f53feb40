"""lcasolve: fast, checked calculations for life cycle assessment and product carbon footprints.

The public namespace::

    system = lcasolve.load("database.zip")          # or build_system(...)
    lca = lcasolve.LCA(system)
    result = lca.calculate({product_id: 1.0})
    result.scores, result.contributions(top=10)
    lca.activity_scores()                           # every product's footprint, one solve
"""

from lcasolve._options import Options, get_options, set_options
from lcasolve.errors import LcasolveError
from lcasolve.io import detect_format, load, save
from lcasolve.lca import LCA, ActivityScores, LCAResult, MultiLCAResult
from lcasolve.model import Entries, IdEntries, System, build_system
from lcasolve.solve import Factorization, SolveResult, available_backends, factorize

__version__ = "0.1.0"

__all__ = [
    "LCA",
    "ActivityScores",
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
    "detect_format",
    "factorize",
    "get_options",
    "load",
    "save",
    "set_options",
]

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
    if name in _LAZY_SUBMODULES:
        import importlib

        return importlib.import_module(f"lcasolve.{name}")
    raise AttributeError(f"module 'lcasolve' has no attribute {name!r}")
