"""Pedigree-matrix (data quality) uncertainty as lognormal spread, with the ecoinvent v3 factors.

A pedigree entry scores an exchange from 1 (best) to 5 on five indicators: reliability,
completeness, temporal, geographical and further technological correlation. Each score adds a
variance to the logarithm of the amount (Weidema et al. 2013, *Overview and methodology, data
quality guideline for the ecoinvent database version 3*, table 10.5); with a basic variance
``σ_b²`` the total is ``σ² = σ_b² + Σ σ_i²`` and the amount is lognormal with ``scale = σ``.

Readers use it only when asked (``pedigree=True`` in the JSON-LD, EcoSpold2 and table readers):
by default an exchange keeps the distribution its source states.
"""

from __future__ import annotations

import math
import re

import numpy as np

from lcasolve.errors import InvalidUncertaintyError
from lcasolve.model.entries import UNCERTAINTY_DTYPE

__all__ = [
    "PEDIGREE_VARIANCE",
    "lognormal_with_pedigree",
    "parse_pedigree",
    "pedigree_variance",
    "total_sigma",
]

#: variance of ln(amount) per indicator (rows) and score 1..5 (columns), ecoinvent v3
PEDIGREE_VARIANCE: tuple[tuple[float, ...], ...] = (
    (0.0, 0.0006, 0.002, 0.008, 0.04),  # reliability
    (0.0, 0.0001, 0.0006, 0.002, 0.008),  # completeness
    (0.0, 0.0002, 0.002, 0.008, 0.04),  # temporal correlation
    (0.0, 0.000025, 0.0001, 0.0006, 0.002),  # geographical correlation
    (0.0, 0.0006, 0.008, 0.04, 0.12),  # further technological correlation
)

_SCORE = r"\s*([1-5]|n(?:\.?a\.?)?)\s*"
_SCORES = re.compile(r"^\(?" + r"[;,]".join([_SCORE] * 5) + r"\)?$", re.IGNORECASE)


def parse_pedigree(text: str, where: str = "") -> tuple[int, int, int, int, int]:
    """Five scores from a pedigree string such as ``"(1;2;1;3;1)"`` or ``"1,2,1,3,1"``.

    Parameters
    ----------
    text : str
        The entry; ``n`` or ``n.a.`` (not assessed) counts as 1, adding no variance.
    where : str, optional
        Location for the error message (file, process, exchange).

    Returns
    -------
    tuple of int

    Raises
    ------
    InvalidUncertaintyError
        If the text is not five scores from 1 to 5.
    """
    m = _SCORES.match(text.strip())
    if m is None:
        prefix = f"{where}: " if where else ""
        raise InvalidUncertaintyError(
            f"{prefix}pedigree {text!r} must be five scores 1-5, e.g. (1;2;1;3;1)"
        )
    return tuple(int(g) if g.isdigit() else 1 for g in m.groups())  # type: ignore[return-value]


def pedigree_variance(scores: tuple[int, ...]) -> float:
    """Sum of the indicator variances of ln(amount) for five scores.

    Parameters
    ----------
    scores : tuple of int
        Reliability, completeness, temporal, geographical and further technological
        correlation, each from 1 to 5 (as returned by :func:`parse_pedigree`).

    Returns
    -------
    float
        ``Σ σ_i²``; 0 for ``(1, 1, 1, 1, 1)``, 0.21 for ``(5, 5, 5, 5, 5)``.

    Raises
    ------
    InvalidUncertaintyError
        If there are not five scores from 1 to 5.
    """
    if len(scores) != 5 or any(s not in (1, 2, 3, 4, 5) for s in scores):
        raise InvalidUncertaintyError(f"pedigree scores {tuple(scores)} must be five of 1-5")
    return float(sum(PEDIGREE_VARIANCE[k][s - 1] for k, s in enumerate(scores)))


def total_sigma(basic_variance: float, scores: tuple[int, ...]) -> float:
    """``σ = sqrt(σ_b² + Σ σ_i²)``, the lognormal scale of an amount with a pedigree entry."""
    if basic_variance < 0 or not math.isfinite(basic_variance):
        raise InvalidUncertaintyError(f"basic variance {basic_variance} must be finite and >= 0")
    return math.sqrt(basic_variance + pedigree_variance(scores))


def lognormal_with_pedigree(
    amount: float,
    scores: tuple[int, ...] | str,
    *,
    basic_variance: float = 0.0,
    median: float | None = None,
    where: str = "",
) -> np.void:
    """A stats_arrays lognormal record of ``amount`` widened by a pedigree entry.

    Parameters
    ----------
    amount : float
        The exchange amount (source sign, in the unit the record is for); not 0.
    scores : tuple of int or str
        Five scores, or a pedigree string such as ``"(1;2;1;3;1)"``.
    basic_variance : float, optional
        ``σ_b²``, the basic variance of ln(amount) (e.g. ``ln(geomSd)²``); default 0.
    median : float, optional
        The median of the distribution (e.g. ``geomMean``); default ``|amount|``.
    where : str, optional
        File, process and exchange, for error messages.

    Returns
    -------
    numpy.void
        A record of :data:`~lcasolve.model.entries.UNCERTAINTY_DTYPE`: type 2 with
        ``loc = ln|median|``, ``scale = sqrt(σ_b² + Σ σ_i²)``, ``negative = amount < 0``; type 0
        (no uncertainty, ``loc = amount``) when the total variance is 0.

    Raises
    ------
    InvalidUncertaintyError
        For an unreadable pedigree, a negative or non-finite basic variance, or an amount
        (or median) of 0 with a non-zero variance.
    """
    prefix = f"{where}: " if where else ""
    if isinstance(scores, str):
        scores = parse_pedigree(scores, where)
    if basic_variance < 0 or not math.isfinite(basic_variance):
        raise InvalidUncertaintyError(
            f"{prefix}basic variance {basic_variance} must be finite and >= 0"
        )
    variance = basic_variance + pedigree_variance(tuple(scores))
    rec = np.zeros(1, dtype=UNCERTAINTY_DTYPE)[0]
    rec["loc"] = amount
    rec["scale"] = rec["shape"] = rec["minimum"] = rec["maximum"] = np.nan
    rec["negative"] = amount < 0
    if variance == 0:
        return rec
    center = abs(amount if median is None else median)
    if center == 0 or not math.isfinite(center):
        raise InvalidUncertaintyError(
            f"{prefix}a lognormal needs a finite non-zero amount, got {center}"
        )
    rec["uncertainty_type"] = 2
    rec["loc"] = math.log(center)
    rec["scale"] = math.sqrt(variance)
    return rec
