"""Progress bars on stderr (tqdm), shown only when asked or when stderr is a terminal.

One rule for every long phase (Monte Carlo chunks, writing a store): ``progress=True`` shows
the bar, ``False`` hides it, ``None`` follows :func:`lcasolve.set_options` (``progress``) and,
when that is None too, shows it only if stderr is a terminal — never on stdout, so piped or
``--json`` output stays clean.
"""

from __future__ import annotations

import sys
from typing import Any

from lcasolve._options import get_options

__all__ = ["progress_bar", "wanted"]


def wanted(progress: bool | None) -> bool:
    """Whether to show a bar: the argument, else the option, else ``stderr.isatty()``."""
    if progress is None:
        progress = get_options().progress
    if progress is None:
        progress = sys.stderr.isatty()
    return bool(progress)


def progress_bar(progress: bool | None, total: int, desc: str, **kwargs: Any) -> Any:
    """A tqdm bar on stderr, or None when :func:`wanted` says no.

    Parameters
    ----------
    progress : bool or None
        See :func:`wanted`.
    total : int
        Steps of the phase.
    desc : str
        Label shown before the bar.
    **kwargs
        Passed to tqdm (``unit``, ``initial``, ``smoothing``...).

    Returns
    -------
    tqdm.tqdm or None
    """
    if not wanted(progress):
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, file=sys.stderr, **kwargs)
