"""Bundled example databases (package data), in the tables format of :mod:`lcasolve.io.tables`.

- ``cement``: cradle-to-gate model of 1 t of Portland cement with life-cycle stage (A1/A2/A3)
  and GHG Protocol scope (1/2/3) tags and uncertainty on every input; illustrative values (see
  ``cement/README.md``).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from lcasolve.errors import InputError, format_ids

if TYPE_CHECKING:
    from lcasolve.model import System

__all__ = ["EXAMPLES", "example_path", "load_example"]

#: example name -> (folder, functional unit {product id: amount})
EXAMPLES: dict[str, tuple[str, dict[str, float]]] = {
    "cement": ("cement", {"cement": 1.0}),
}


def example_path(name: str = "cement") -> Path:
    """Folder of a bundled example (its CSV tables and README).

    Raises
    ------
    InputError
        If there is no example of that name.
    """
    if name not in EXAMPLES:
        raise InputError(f"no bundled example {name!r}; examples: {format_ids(list(EXAMPLES))}")
    return Path(str(resources.files("lcasolve.examples").joinpath(EXAMPLES[name][0])))


def load_example(
    name: str = "cement", *, methods: list[str] | None = None
) -> tuple[System, dict[str, float]]:
    """Load a bundled example as a :class:`~lcasolve.model.System` and its functional unit.

    Parameters
    ----------
    name : str
        Example name (see :data:`EXAMPLES`).
    methods : list of str, optional
        Impact methods to apply with :func:`lcasolve.methods.with_methods` (default: IPCC AR6
        GWP100 by flow matching).

    Returns
    -------
    system : System
    demand : dict
        The functional unit, e.g. ``{"cement": 1.0}`` (1 t of cement).
    """
    from lcasolve.io.tables import read
    from lcasolve.methods import with_methods

    system = with_methods(read(example_path(name)), methods)
    return system, dict(EXAMPLES[name][1])
