"""Scoped options (``with lcasolve.set_options(...)``), held in a context variable.

Nothing is read from the environment or set at import: each thread and each asyncio task sees the
options of its own context.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields, replace

from lcasolve.errors import InputError

__all__ = ["Options", "get_options", "set_options"]


@dataclass(frozen=True)
class Options:
    """Options in force.

    Attributes
    ----------
    backend : str
        Sparse direct solver: ``"auto"``, ``"btf"``, ``"superlu"``, ``"umfpack"`` or
        ``"pardiso"``.
    block_solver : str
        LU of the cyclic blocks in the ``"btf"`` backend: ``"auto"`` (UMFPACK when
        ``scikit-umfpack`` is installed, else SuperLU), ``"superlu"`` or ``"umfpack"``.
    residual_tolerance : float
        Largest accepted relative residual of a solve before refinement / error.
    progress : bool or None
        Show tqdm progress bars; ``None`` means only when stderr is a terminal.
    error_bound_warning, error_bound_limit : float
        A result whose forward-error bound (:mod:`lcasolve.solve.conditioning`) is above
        ``error_bound_warning`` warns; above ``error_bound_limit`` it is refused.
    """

    backend: str = "auto"
    block_solver: str = "auto"
    residual_tolerance: float = 1e-10
    progress: bool | None = None
    error_bound_warning: float = 1e-6
    error_bound_limit: float = 1e-2


_OPTIONS: contextvars.ContextVar[Options] = contextvars.ContextVar(
    "lcasolve_options",
    default=Options(),  # noqa: B039 - Options is frozen
)


def get_options() -> Options:
    """Return the options in force in this context."""
    return _OPTIONS.get()


@contextmanager
def set_options(**changes: object) -> Iterator[Options]:
    """Change options inside a ``with`` block.

    Parameters
    ----------
    **changes
        Option names and values, see :class:`Options`.

    Yields
    ------
    Options
        The options in force inside the block.

    Examples
    --------
    >>> import lcasolve
    >>> with lcasolve.set_options(backend="superlu"):
    ...     lcasolve.get_options().backend
    'superlu'
    """
    valid = {f.name for f in fields(Options)}
    unknown = set(changes) - valid
    if unknown:
        raise InputError(f"unknown options {sorted(unknown)}; valid: {sorted(valid)}")
    new = replace(_OPTIONS.get(), **changes)  # type: ignore[arg-type]
    token = _OPTIONS.set(new)
    try:
        yield new
    finally:
        _OPTIONS.reset(token)
