"""Standard deviations without floating noise: 0 where the samples only differ by rounding.

A quantity that no uncertain entry reaches gets the same value in every iteration up to the
last bits (the solves round differently), and ``np.std`` then reports ``1.7e-15`` where 0 is
meant. :func:`sample_std` returns exactly 0 when the standard deviation is below
:data:`RELATIVE_NOISE` times the mean's magnitude (a few hundred ulps: no real spread of an LCA
quantity is that small).
"""

from __future__ import annotations

import numpy as np

__all__ = ["RELATIVE_NOISE", "denoised", "sample_std"]

#: standard deviations at or below this fraction of ``|mean|`` are rounding noise
RELATIVE_NOISE = 256 * float(np.finfo(np.float64).eps)  # 5.7e-14


def denoised(std: np.ndarray | float, mean: np.ndarray | float) -> np.ndarray:
    """``std`` with the entries at or below ``RELATIVE_NOISE · |mean|`` set to 0."""
    sd = np.asarray(std, dtype=np.float64)
    return np.where(sd <= RELATIVE_NOISE * np.abs(np.asarray(mean, dtype=np.float64)), 0.0, sd)


def sample_std(values: np.ndarray, axis: int | None = None) -> np.ndarray:
    """Sample standard deviation (``ddof=1``) along ``axis``, rounding noise shown as 0.

    Parameters
    ----------
    values : array
        Samples (at least two along ``axis``).
    axis : int, optional
        Default: all values.

    Returns
    -------
    numpy.ndarray
        A 0-d array for ``axis=None``.
    """
    v = np.asarray(values, dtype=np.float64)
    return denoised(v.std(axis=axis, ddof=1), v.mean(axis=axis))
