"""Uncertainty of matrix entries: stats_arrays records, their moments, validation and sampling.

Records follow :data:`lcasolve.model.entries.UNCERTAINTY_DTYPE` (``uncertainty_type, loc, scale,
shape, minimum, maximum, negative``) in the source sign. Distribution ids are those of
stats_arrays: 0 undefined, 1 none, 2 lognormal, 3 normal, 4 uniform, 5 triangular, 6 bernoulli,
7 discrete uniform, 8 weibull, 9 gamma, 10 beta, 11 generalized extreme value, 12 student t,
13 beta-PERT. Pedigree-matrix uncertainty becomes a lognormal record (see
:mod:`lcasolve.uncertainty.pedigree`).
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from lcasolve.errors import InputError, InvalidUncertaintyError, format_ids

__all__ = [
    "DISTRIBUTIONS",
    "describe",
    "numba_threads",
    "sample",
    "sample_records",
    "seed_key",
    "validate",
]

#: stats_arrays distribution id -> name
DISTRIBUTIONS: dict[int, str] = {
    0: "undefined",
    1: "no uncertainty",
    2: "lognormal",
    3: "normal",
    4: "uniform",
    5: "triangular",
    6: "bernoulli",
    7: "discrete uniform",
    8: "weibull",
    9: "gamma",
    10: "beta",
    11: "generalized extreme value",
    12: "student t",
    13: "beta-PERT",
}


def _f(records: np.ndarray, name: str) -> np.ndarray:
    return np.asarray(records[name], dtype=np.float64)


def validate(records: np.ndarray, names: Sequence[object] | None = None) -> None:
    """Check stats_arrays records; raise on the first invalid kind, naming the entries.

    Parameters
    ----------
    records : numpy.ndarray
        Structured array with the stats_arrays fields.
    names : sequence, optional
        A label per record used in messages (e.g. ``"activity 12 -> flow 'CO2'"``); default the
        record positions.

    Raises
    ------
    InvalidUncertaintyError
        Unknown distribution id, non-finite or non-positive scale, minimum > maximum, a mode or
        location outside the bounds, bad shape parameters, probability outside [0, 1].
    """
    records = np.asarray(records)
    kind = np.asarray(records["uncertainty_type"], dtype=np.int64)
    loc, scale, shape = _f(records, "loc"), _f(records, "scale"), _f(records, "shape")
    lo, hi = _f(records, "minimum"), _f(records, "maximum")
    label = list(range(len(records))) if names is None else list(names)

    def fail(mask: np.ndarray, what: str) -> None:
        if mask.any():
            idx = np.flatnonzero(mask)
            raise InvalidUncertaintyError(
                f"{idx.size} uncertain entries have {what}: "
                f"{format_ids([label[i] for i in idx], limit=5)}"
            )

    fail((kind < 0) | (kind > 13), "an unknown distribution id (valid: 0-13)")
    fail(np.isnan(loc) & np.isin(kind, (2, 3, 5, 6, 10, 11, 13)), "no location (loc is NaN)")
    fail(~np.isfinite(loc) & ~np.isnan(loc), "an infinite location")
    fail(np.isin(kind, (2, 3, 11)) & ~(scale > 0), "a scale (sd) that is not > 0")
    fail(np.isin(kind, (8, 9)) & ~(scale > 0), "a scale that is not > 0")
    fail(np.isin(kind, (8, 9, 10, 12)) & ~(shape > 0), "a shape that is not > 0")
    fail((kind == 10) & ~(loc > 0), "a beta alpha (loc) that is not > 0")
    fail((kind == 12) & ~np.isnan(scale) & ~(scale > 0), "a scale that is not > 0")
    fail((kind == 13) & ~np.isnan(scale) & ~(scale > 0), "a PERT lambda (scale) that is not > 0")
    fail(
        np.isin(kind, (4, 5, 13)) & ~(np.isfinite(lo) & np.isfinite(hi)),
        "no finite minimum and maximum",
    )
    fail((kind == 7) & ~np.isfinite(hi), "no finite maximum")
    fail(lo > hi, "minimum > maximum")
    fail(np.isin(kind, (4, 5, 7, 13)) & (lo == hi), "minimum == maximum")
    fail(np.isin(kind, (5, 13)) & ((loc < lo) | (loc > hi)), "a mode (loc) outside the bounds")
    fail((kind == 6) & ((loc < 0) | (loc > 1)), "a probability (loc) outside [0, 1]")
    fail((kind == 3) & ((loc < lo) | (loc > hi)), "a mean (loc) outside the bounds")


def describe(records: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation of each record's distribution (source sign, bounds ignored).

    Bounds matter only where they define the distribution (uniform, triangular, discrete uniform,
    beta, beta-PERT); truncation of other distributions is not accounted for. Records without a
    distribution (ids 0 and 1) have mean ``loc`` and standard deviation 0.

    Parameters
    ----------
    records : numpy.ndarray
        stats_arrays records.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        ``mean`` and ``std`` per record.
    """
    from scipy import special  # imported here: readers import this package

    records = np.asarray(records)
    kind = np.asarray(records["uncertainty_type"], dtype=np.int64)
    loc, scale, shape = _f(records, "loc"), _f(records, "scale"), _f(records, "shape")
    lo, hi = _f(records, "minimum"), _f(records, "maximum")
    neg = np.where(np.asarray(records["negative"], dtype=bool), -1.0, 1.0)
    mean = loc.copy()
    std = np.zeros_like(loc)
    with np.errstate(all="ignore"):
        off = np.where(np.isnan(loc), 0.0, loc)
        m = kind == 2
        mean[m] = neg[m] * np.exp(loc[m] + scale[m] ** 2 / 2)
        std[m] = np.sqrt((np.exp(scale[m] ** 2) - 1) * np.exp(2 * loc[m] + scale[m] ** 2))
        m = kind == 3
        std[m] = scale[m]
        m = kind == 4
        mean[m] = (lo[m] + hi[m]) / 2
        std[m] = (hi[m] - lo[m]) / np.sqrt(12)
        m = kind == 5
        a, c, b = lo[m], loc[m], hi[m]
        mean[m] = (a + b + c) / 3
        std[m] = np.sqrt((a * a + b * b + c * c - a * b - a * c - b * c) / 18)
        m = kind == 6
        mean[m] = loc[m]
        std[m] = np.sqrt(loc[m] * (1 - loc[m]))
        m = kind == 7
        low = np.where(np.isnan(lo), 0.0, lo)
        count = np.floor(hi - low)
        mean[m] = low[m] + (count[m] - 1) / 2
        std[m] = np.sqrt((count[m] ** 2 - 1) / 12)
        m = kind == 8
        g1 = special.gamma(1 + 1 / shape[m])
        g2 = special.gamma(1 + 2 / shape[m])
        mean[m] = neg[m] * (off[m] + scale[m] * g1)
        std[m] = scale[m] * np.sqrt(g2 - g1**2)
        m = kind == 9
        mean[m] = neg[m] * (off[m] + shape[m] * scale[m])
        std[m] = np.sqrt(shape[m]) * scale[m]
        m = kind == 10
        low = np.where(np.isnan(lo), 0.0, lo)
        width = np.where(np.isnan(hi), 1.0, hi) - low
        al, be = loc[m], shape[m]
        mean[m] = low[m] + width[m] * al / (al + be)
        std[m] = width[m] * np.sqrt(al * be / ((al + be) ** 2 * (al + be + 1)))
        m = kind == 11
        xi = np.where(np.isnan(shape), 0.0, shape)[m]
        gum = xi == 0
        g1 = special.gamma(1 - xi)
        g2 = special.gamma(1 - 2 * xi)
        mean[m] = np.where(
            gum,
            loc[m] + scale[m] * np.euler_gamma,
            loc[m] + scale[m] * (g1 - 1) / np.where(gum, 1.0, xi),
        )
        var = np.where(
            gum,
            (np.pi * scale[m]) ** 2 / 6,
            scale[m] ** 2 * (g2 - g1**2) / np.where(gum, 1.0, xi) ** 2,
        )
        std[m] = np.where((xi < 0.5), np.sqrt(var), np.inf)
        m = kind == 12
        sc = np.where(np.isnan(scale), 1.0, scale)
        df = shape[m]
        mean[m] = np.where(df > 1, off[m], np.nan)
        std[m] = np.where(df > 2, sc[m] * np.sqrt(df / np.where(df > 2, df - 2, 1.0)), np.inf)
        m = kind == 13
        lam = np.where(np.isnan(scale), 4.0, scale)[m]
        a, c, b = lo[m], loc[m], hi[m]
        al = 1 + lam * (c - a) / (b - a)
        be = 1 + lam * (b - c) / (b - a)
        mean[m] = a + (b - a) * al / (al + be)
        std[m] = (b - a) * np.sqrt(al * be / ((al + be) ** 2 * (al + be + 1)))
    return mean, std


def seed_key(seed: int) -> np.uint64:
    """The 64-bit key of a seed (via :class:`numpy.random.SeedSequence`)."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InputError(f"seed must be a non-negative integer, not {seed!r}")
    state = np.random.SeedSequence(int(seed)).generate_state(2, dtype=np.uint32)
    return np.uint64((int(state[0]) << 32) | int(state[1]))


@contextmanager
def numba_threads(threads: int | None) -> Any:
    """Run the body with ``threads`` Numba threads (all when None), restoring the count after."""
    import numba

    if threads is None:
        yield
        return
    if not isinstance(threads, int) or threads < 1:
        raise InputError(f"threads must be a positive integer, not {threads!r}")
    before = numba.get_num_threads()
    # numba.config sets NUMBA_NUM_THREADS at runtime (from the environment), so mypy cannot see it
    numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))  # type: ignore[attr-defined]
    try:
        yield
    finally:
        numba.set_num_threads(before)


def sample_records(
    records: np.ndarray,
    iterations: np.ndarray,
    seed: int,
    *,
    entry_keys: np.ndarray | None = None,
    sign: np.ndarray | None = None,
    threads: int | None = None,
) -> np.ndarray:
    """Draw ``out[entry, k]`` for given iteration numbers (no validation; see :func:`sample`)."""
    from lcasolve.uncertainty import _kernels

    records = np.asarray(records)
    n = len(records)
    keys = (
        np.arange(n, dtype=np.uint64)
        if entry_keys is None
        else np.ascontiguousarray(entry_keys, dtype=np.uint64)
    )
    sgn = np.ones(n) if sign is None else np.ascontiguousarray(sign, dtype=np.float64)
    its = np.ascontiguousarray(iterations, dtype=np.int64)
    out = np.empty((n, its.shape[0]), dtype=np.float64)
    with numba_threads(threads):
        _kernels.sample_block(
            np.ascontiguousarray(records["uncertainty_type"], dtype=np.int64),
            np.ascontiguousarray(records["loc"], dtype=np.float64),
            np.ascontiguousarray(records["scale"], dtype=np.float64),
            np.ascontiguousarray(records["shape"], dtype=np.float64),
            np.ascontiguousarray(records["minimum"], dtype=np.float64),
            np.ascontiguousarray(records["maximum"], dtype=np.float64),
            np.ascontiguousarray(records["negative"], dtype=np.bool_),
            sgn,
            keys,
            seed_key(seed),
            its,
            out,
        )
    return out


def sample(
    records: np.ndarray,
    n: int,
    seed: int = 0,
    *,
    names: Sequence[object] | None = None,
    threads: int | None = None,
) -> np.ndarray:
    """Validate stats_arrays records and draw ``n`` values from each.

    Draw ``k`` of record ``e`` depends only on ``(seed, e, k)``: the same seed gives the same
    values whatever ``n`` (the first values agree), thread count or machine.

    Parameters
    ----------
    records : numpy.ndarray
        stats_arrays records (source sign).
    n : int
        Number of draws per record (> 0).
    seed : int
        Non-negative seed.
    names : sequence, optional
        Labels for error messages.
    threads : int, optional
        Numba threads for this call.

    Returns
    -------
    numpy.ndarray
        ``(len(records), n)`` values in the source sign.

    Raises
    ------
    InvalidUncertaintyError
        Invalid parameters (see :func:`validate`).
    InputError
        ``n`` ≤ 0 or a bad seed.
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n <= 0:
        raise InputError(f"the number of draws must be a positive integer, not {n!r}")
    validate(records, names)
    return sample_records(records, np.arange(int(n)), seed, threads=threads)
