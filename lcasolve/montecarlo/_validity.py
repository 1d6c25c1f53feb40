"""Samples without meaning: a production amount drawn ≤ 0, or a loop that no longer converges.

A wide distribution on a production amount (the diagonal of ``A``) can draw zero or an output
of the other sign (negative; positive for a waste treatment, whose diagonal is negative): the
activity then "produces" the opposite of its product and the supplies that follow are numbers
without meaning. Inputs drawn large enough can push a loop's gain to 1 or more
(a block of activities that take inputs only from each other and is no longer productive,
:mod:`lcasolve.solve.productivity`): the supply of a non-negative demand comes out negative.
Such samples are flagged per iteration (a bit mask), counted, and kept, refused or dropped
(``MonteCarlo.run(invalid=...)``).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from lcasolve.errors import InvalidSampleError, InvalidSampleWarning, format_ids

if TYPE_CHECKING:
    from lcasolve.montecarlo.result import MonteCarloResult

__all__ = [
    "INVALID_CHOICES",
    "apply",
    "NONPOSITIVE_PRODUCTION",
    "UNPRODUCTIVE",
    "check_choice",
    "count_kinds",
    "describe",
    "refuse",
    "sample_flags",
]

#: flag bit: a production amount (diagonal entry of A) drawn 0 or of the other sign than its
#: deterministic value (≤ 0; ≥ 0 for a waste treatment)
NONPOSITIVE_PRODUCTION = np.uint8(1)
#: flag bit: a non-negative demand's supply negative from a block that is not productive
UNPRODUCTIVE = np.uint8(2)
#: what ``MonteCarlo.run(invalid=...)`` does with flagged samples
INVALID_CHOICES = ("flag", "refuse", "drop")


def check_choice(invalid: str) -> str:
    """``invalid`` if it is one of :data:`INVALID_CHOICES`, else :class:`InputError`."""
    from lcasolve.errors import InputError

    if invalid not in INVALID_CHOICES:
        raise InputError(f"invalid must be one of {INVALID_CHOICES}, not {invalid!r}")
    return invalid


def sample_flags(
    values: np.ndarray,
    diag_pos: np.ndarray,
    pattern: object,
    demands: np.ndarray,
    supplies: Sequence[np.ndarray],
    production: np.ndarray,
) -> np.ndarray:
    """Flags ``(K,)`` of one chunk's samples (:data:`NONPOSITIVE_PRODUCTION`, :data:`UNPRODUCTIVE`).

    Parameters
    ----------
    values : numpy.ndarray
        Per-sample technosphere values ``(nnz, K)`` on ``pattern`` (sweep order).
    diag_pos : numpy.ndarray
        Slots of the diagonal entries.
    pattern : lcasolve.batch.Pattern
        The CSR pattern (``pattern.matrix(values)`` builds one sample's matrix).
    demands : numpy.ndarray
        Demand vectors ``(n, demands)``, sweep order.
    supplies : sequence of numpy.ndarray
        Per demand, the samples' supplies ``(n, K)``.
    production : numpy.ndarray
        The deterministic diagonal (sweep order): a sample's production amount is flagged when
        it is 0 or its sign differs (a waste treatment's is negative).

    Returns
    -------
    numpy.ndarray of uint8
    """
    from lcasolve.solve.productivity import NEGATIVE, unproductive_blocks

    K = values.shape[1]
    flags = np.zeros(K, dtype=np.uint8)
    sign = np.where(np.asarray(production) < 0, -1.0, 1.0)[:, None]
    flags[(values[diag_pos] * sign <= 0).any(axis=0)] |= NONPOSITIVE_PRODUCTION
    negative = np.zeros(K, dtype=bool)
    checked = [x for d, x in enumerate(supplies) if not (demands[:, d] < 0).any()]
    for x in checked:  # (a negative demand may rightly give negative supplies)
        # two reductions per column instead of temporaries of x: some x < -NEGATIVE·max|x| is
        # min(x) < -NEGATIVE·max(max(x), -min(x)); a NaN or infinity makes min or max non-finite
        low, high = x.min(axis=0), x.max(axis=0)
        with np.errstate(invalid="ignore"):
            scale = np.maximum(high, -low)
            negative |= (low < -NEGATIVE * scale) | ~np.isfinite(low) | ~np.isfinite(high)
    for k in np.flatnonzero(negative & (flags == 0)):
        A_k = pattern.matrix(values[:, k])  # type: ignore[attr-defined]  # noqa: N806
        reached = np.zeros(demands.shape[0], dtype=bool)
        for x in checked:
            reached |= x[:, k] != 0
        if unproductive_blocks(A_k, reached):
            flags[k] |= UNPRODUCTIVE
    return flags


def count_kinds(flags: np.ndarray) -> dict[str, int]:
    """``{"nonpositive_production": n, "unproductive": m}`` (a sample may count in both)."""
    f = np.asarray(flags, dtype=np.uint8)
    return {
        "nonpositive_production": int(((f & NONPOSITIVE_PRODUCTION) != 0).sum()),
        "unproductive": int(((f & UNPRODUCTIVE) != 0).sum()),
    }


def describe(flags: np.ndarray) -> str:
    """One sentence: how many samples are invalid and why, with the first few iterations."""
    f = np.asarray(flags, dtype=np.uint8)
    bad = np.flatnonzero(f)
    kinds = count_kinds(f)
    parts = []
    if kinds["nonpositive_production"]:
        parts.append(f"{kinds['nonpositive_production']} with a production amount drawn ≤ 0")
    if kinds["unproductive"]:
        parts.append(
            f"{kinds['unproductive']} with a loop whose inputs were drawn so large that it no "
            "longer converges (negative supplies)"
        )
    return (
        f"{bad.size} of {f.size} Monte Carlo samples have no meaning: {'; '.join(parts)} "
        f"(iterations {format_ids(bad.tolist(), 5)})"
    )


def refuse(flags: np.ndarray) -> None:
    """Raise :class:`~lcasolve.errors.InvalidSampleError` if any sample is flagged."""
    f = np.asarray(flags, dtype=np.uint8)
    if not f.any():
        return
    raise InvalidSampleError(
        f"{describe(f)}. Narrow the distributions of those production amounts or inputs, or "
        f"run with invalid='drop' (--invalid drop) to leave these samples out, or 'flag' to "
        f"keep them flagged",
        np.flatnonzero(f),
    )


def apply(result: MonteCarloResult, invalid: str) -> MonteCarloResult:
    """Keep (with a warning), refuse or drop a result's flagged samples (``run(invalid=...)``)."""
    flags = np.zeros(0, np.uint8) if result.invalid is None else result.invalid
    if not flags.any():
        return result
    if invalid == "refuse":
        refuse(flags)
    if invalid == "drop":
        if flags.all():  # nothing would be left to describe
            raise InvalidSampleError(
                f"{describe(flags)}: dropping them leaves no sample. Narrow the distributions "
                f"of those production amounts or inputs",
                np.flatnonzero(flags),
            )
        warnings.warn(
            f"{describe(flags)}; these {int(np.count_nonzero(flags))} samples are left out: "
            f"the statistics are of the other {flags.size - int(np.count_nonzero(flags))}",
            InvalidSampleWarning,
            stacklevel=3,
        )
        return result.drop_invalid()
    warnings.warn(
        f"{describe(flags)}; they are kept, flagged in result.invalid (invalid='drop' or "
        f"--invalid drop leaves them out, 'refuse' refuses the run)",
        InvalidSampleWarning,
        stacklevel=3,
    )
    return result
