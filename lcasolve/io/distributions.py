"""The one stats_arrays record parser of the readers: distributions of exchange amounts.

Every reader maps its own fields (openLCA's ``geomSd``, EcoSpold2's ``variance``, ILCD's
``relativeStandardDeviation95In``, a table's ``gsd`` column) onto these constructors, which check
the parameters and return a record of :data:`~lcasolve.model.UNCERTAINTY_DTYPE` in the amount's
source sign, or None when the amount has no spread:

- :func:`lognormal` (type 2, ``loc = ln|median|``, ``scale = σ``) from the variance of ln(amount),
  widened by a pedigree entry (five data-quality scores, ecoinvent v3 factors of
  :mod:`lcasolve.uncertainty.pedigree`: ``σ² = σ_b² + Σ σ_i²``);
- :func:`normal` (type 3), :func:`bounded` (uniform 4, triangular 5);
- :func:`scaled`: the record of the same distribution for the amount times a factor (unit
  conversion, allocation share), for every type.

Errors are :class:`~lcasolve.errors.InvalidUncertaintyError` naming ``where``.
"""

from __future__ import annotations

import math
from typing import overload

import numpy as np

from lcasolve.errors import InvalidUncertaintyError
from lcasolve.model import no_uncertainty
from lcasolve.uncertainty.pedigree import parse_pedigree, pedigree_variance

__all__ = [
    "bounded",
    "lognormal",
    "no_distribution",
    "normal",
    "pedigree_or_none",
    "pedigree_scores",
    "scaled",
]

_EMPTY = no_uncertainty(np.zeros(1))[0]


def _prefix(where: str) -> str:
    return f"{where}: " if where else ""


def no_distribution(amount: float) -> np.void:
    """A record of ``amount`` without uncertainty (type 0)."""
    rec = _EMPTY.copy()
    rec["loc"] = amount
    rec["negative"] = amount < 0
    return rec


def pedigree_scores(entry: str | tuple[int, ...], where: str = "") -> tuple[int, ...]:
    """Five checked scores from a pedigree string (``"(1;2;1;3;1)"``, ``"1,2,1,3,1"``) or tuple."""
    if isinstance(entry, str):
        return parse_pedigree(entry, where)
    scores = tuple(int(s) for s in entry)
    if len(scores) != 5 or any(s not in (1, 2, 3, 4, 5) for s in scores):
        raise InvalidUncertaintyError(
            f"{_prefix(where)}pedigree scores {scores} must be five scores 1-5"
        )
    return scores


def pedigree_or_none(entry: object) -> tuple[int, ...] | None:
    """The five scores of a pedigree entry kept for the data-quality summary, or None.

    Unlike :func:`pedigree_scores` an unreadable or missing entry is None, not an error: the
    scores are kept as information (the exchange then counts as without pedigree data), and an
    entry used for uncertainty is checked by :func:`lognormal` as before.
    """
    if entry is None or entry == "" or isinstance(entry, bool):
        return None
    try:
        if isinstance(entry, str):
            return pedigree_scores(entry)
        if isinstance(entry, list | tuple):
            return pedigree_scores(tuple(int(s) for s in entry))
    except (InvalidUncertaintyError, TypeError, ValueError):
        return None
    return None


def lognormal(
    amount: float,
    variance: float,
    *,
    median: float | None = None,
    pedigree: str | tuple[int, ...] | None = None,
    where: str = "",
) -> np.void | None:
    """A lognormal record (type 2) of ``amount`` with ``variance`` of ln(amount).

    Parameters
    ----------
    amount : float
        The amount (source sign); an amount of 0 has no lognormal spread (None).
    variance : float
        ``σ_b²``, the (basic) variance of ln(amount): ``ln(GSD)²``; finite, ≥ 0.
    median : float, optional
        The distribution's median (geometric mean), default ``|amount|``.
    pedigree : str or tuple of int, optional
        Five data-quality scores whose ecoinvent v3 variances are added.
    where : str
        File, process and exchange for messages.

    Returns
    -------
    numpy.void or None
        None when the total variance or the amount is 0.
    """
    if not math.isfinite(variance) or variance < 0:
        raise InvalidUncertaintyError(
            f"{_prefix(where)}lognormal variance {variance} must be finite and >= 0"
        )
    if pedigree is not None:
        variance += pedigree_variance(pedigree_scores(pedigree, where))
    if variance == 0 or amount == 0:
        return None
    center = abs(amount if median is None else median)
    if center == 0 or not math.isfinite(center):
        raise InvalidUncertaintyError(
            f"{_prefix(where)}a lognormal needs a finite non-zero median, got {center}"
        )
    rec = no_distribution(amount)
    rec["uncertainty_type"] = 2
    rec["loc"] = math.log(center)
    rec["scale"] = math.sqrt(variance)
    return rec


def normal(amount: float, sd: float, *, mean: float | None = None, where: str = "") -> np.void:
    """A normal record (type 3): ``loc`` the mean (default ``amount``), ``scale = sd > 0``."""
    if not math.isfinite(sd) or sd <= 0:
        raise InvalidUncertaintyError(f"{_prefix(where)}normal sd {sd} must be > 0")
    rec = no_distribution(amount)
    rec["uncertainty_type"] = 3
    rec["loc"] = amount if mean is None else mean
    rec["scale"] = sd
    return rec


#: relative distance from a bound within which a triangular mode counts as on the bound
MODE_TOLERANCE = 1e-12


def bounded(
    amount: float, name: str, lo: float, hi: float, mode: float | None = None, where: str = ""
) -> np.void:
    """A uniform (``mode`` None, type 4) or triangular (type 5) record on ``[lo, hi]``.

    A mode outside the bounds by rounding only (within :data:`MODE_TOLERANCE` of the range, e.g.
    ``mode 0.3699999999999999`` for ``minimum 0.37``) is moved onto the bound.
    """
    if mode is not None and lo < hi:
        slack = MODE_TOLERANCE * max(abs(lo), abs(hi))
        if lo - slack <= mode < lo:
            mode = lo
        elif hi < mode <= hi + slack:
            mode = hi
    if not lo < hi or (mode is not None and not lo <= mode <= hi):
        raise InvalidUncertaintyError(
            f"{_prefix(where)}{name} needs minimum < maximum (and the mode between), got "
            f"minimum {lo}, {'' if mode is None else f'mode {mode}, '}maximum {hi}"
        )
    rec = no_distribution(amount)
    rec["uncertainty_type"] = 4 if mode is None else 5
    rec["minimum"], rec["maximum"] = lo, hi
    if mode is not None:
        rec["loc"] = mode
    return rec


@overload
def scaled(rec: np.void, factor: float) -> np.void: ...
@overload
def scaled(rec: None, factor: float) -> None: ...
@overload
def scaled(rec: np.void | None, factor: float) -> np.void | None: ...
def scaled(rec: np.void | None, factor: float) -> np.void | None:
    """The record of the same distribution for an amount multiplied by ``factor`` (≠ 0).

    Lognormal: ``loc + ln|factor|``; normal and the other location-scale types: ``loc`` and
    ``scale`` times the factor; bounds times the factor (swapped, and ``negative`` flipped, for a
    negative factor).
    """
    if rec is None or factor == 1.0:
        return rec
    out = rec.copy()
    kind = int(rec["uncertainty_type"])
    if kind == 2:
        out["loc"] = rec["loc"] + math.log(abs(factor))
    else:
        out["loc"] = rec["loc"] * factor
        if kind in (3, 12):
            out["scale"] = rec["scale"] * abs(factor)
    lo, hi = rec["minimum"] * factor, rec["maximum"] * factor
    out["minimum"], out["maximum"] = (lo, hi) if factor > 0 else (hi, lo)
    if factor < 0:
        out["negative"] = not bool(rec["negative"])
    return out
