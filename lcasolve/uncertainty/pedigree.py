"""Pedigree-matrix (data quality) uncertainty as lognormal spread, with the ecoinvent v3 factors.

A pedigree entry scores an exchange from 1 (best) to 5 on five indicators: reliability,
completeness, temporal, geographical and further technological correlation. Each score adds a
variance to the logarithm of the amount (Weidema et al. 2013, *Overview and methodology, data
quality guideline for the ecoinvent database version 3*, table 10.5); with a basic variance
``σ_b²`` the total is ``σ² = σ_b² + Σ σ_i²`` and the amount is lognormal with ``scale = σ``.
"""

from __future__ import annotations

import math
import re

from lcasolve.errors import InvalidUncertaintyError

__all__ = ["PEDIGREE_VARIANCE", "parse_pedigree", "pedigree_variance", "total_sigma"]

#: variance of ln(amount) per indicator (rows) and score 1..5 (columns), ecoinvent v3
PEDIGREE_VARIANCE: tuple[tuple[float, ...], ...] = (
    (0.0, 0.0006, 0.002, 0.008, 0.04),  # reliability
    (0.0, 0.0001, 0.0006, 0.002, 0.008),  # completeness
    (0.0, 0.0002, 0.002, 0.008, 0.04),  # temporal correlation
    (0.0, 0.000025, 0.0001, 0.0006, 0.002),  # geographical correlation
    (0.0, 0.0006, 0.008, 0.04, 0.12),  # further technological correlation
)

_SCORES = re.compile(
    r"^\(?\s*([1-5n])\s*[;,]\s*([1-5n])\s*[;,]\s*([1-5n])\s*[;,]\s*([1-5n])\s*[;,]"
    r"\s*([1-5n])\s*\)?$"
)


def parse_pedigree(text: str, where: str = "") -> tuple[int, int, int, int, int]:
    """Five scores from a pedigree string such as ``"(1;2;1;3;1)"`` or ``"1,2,1,3,1"``.

    Parameters
    ----------
    text : str
        The entry; ``n`` (not assessed) counts as 1.
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
    return tuple(1 if g == "n" else int(g) for g in m.groups())  # type: ignore[return-value]


def pedigree_variance(scores: tuple[int, ...]) -> float:
    """Sum of the indicator variances of ln(amount) for five scores."""
    return float(sum(PEDIGREE_VARIANCE[k][s - 1] for k, s in enumerate(scores)))


def total_sigma(basic_variance: float, scores: tuple[int, ...]) -> float:
    """``σ = sqrt(σ_b² + Σ σ_i²)``, the lognormal scale of an amount with a pedigree entry."""
    if basic_variance < 0 or not math.isfinite(basic_variance):
        raise InvalidUncertaintyError(f"basic variance {basic_variance} must be finite and >= 0")
    return math.sqrt(basic_variance + pedigree_variance(scores))
