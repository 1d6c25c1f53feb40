"""Global sensitivity indices on sampled inputs ``X`` (iterations × parameters) and outputs ``y``.

Pure functions over arrays, so they are testable on analytic models (linear, Ishigami):

- :func:`spearman`: Spearman rank correlation of each input with the output.
- :func:`src`: standardized regression coefficients ``β_i σ_i / σ_y`` and the ``R²`` of the fit;
  for a linear model with independent inputs ``SRC_i²`` is the share of variance of input ``i``.
- :func:`delta`: Borgonovo's moment-independent δ (and first-order S1) via SALib.
- :func:`sobol_design` / :func:`sobol`: Saltelli design and Sobol indices (S1, ST) via SALib.

:func:`global_sensitivities` runs Spearman and SRC on the inputs a
:class:`~lcasolve.montecarlo.MonteCarlo` run recorded (``record=``).
"""

from __future__ import annotations

import warnings
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from lcasolve.errors import InputError, InvalidParameterError, MissingExtraError

__all__ = [
    "GlobalSensitivity",
    "check_sobol_size",
    "delta",
    "global_sensitivities",
    "sobol",
    "sobol_design",
    "spearman",
    "src",
]


def _check(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # noqa: N803
    X = np.asarray(X, dtype=np.float64)  # noqa: N806
    y = np.asarray(y, dtype=np.float64).ravel()
    if X.ndim == 1:
        X = X[:, None]  # noqa: N806
    if X.ndim != 2 or X.shape[0] != y.shape[0]:
        raise InputError(f"X has shape {X.shape} but y has {y.shape[0]} values: one row per sample")
    if X.shape[0] < 3:
        raise InputError(f"need at least 3 samples, got {X.shape[0]}")
    if not (np.isfinite(X).all() and np.isfinite(y).all()):
        raise InputError("X and y must be finite")
    return X, y


def _rank(a: np.ndarray) -> np.ndarray:
    from scipy.stats import rankdata

    return rankdata(a, axis=0).astype(np.float64)


def _corr(X: np.ndarray, y: np.ndarray) -> np.ndarray:  # noqa: N803
    Xc = X - X.mean(axis=0)  # noqa: N806
    yc = y - y.mean()
    num = Xc.T @ yc
    den = np.sqrt((Xc * Xc).sum(axis=0) * (yc @ yc))
    with np.errstate(invalid="ignore", divide="ignore"):
        r = num / den
    return np.where(den > 0, r, 0.0)


def spearman(X: np.ndarray, y: np.ndarray) -> np.ndarray:  # noqa: N803
    """Spearman rank correlation ``ρ(rank(X_i), rank(y))`` of each input column with ``y``.

    Parameters
    ----------
    X : numpy.ndarray
        ``(N, p)`` sampled inputs.
    y : numpy.ndarray
        ``(N,)`` outputs.

    Returns
    -------
    numpy.ndarray
        ``(p,)``; 0 for constant columns.
    """
    X, y = _check(X, y)  # noqa: N806
    return _corr(_rank(X), _rank(y))


def src(X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:  # noqa: N803
    """Standardized regression coefficients and the ``R²`` of the linear fit.

    ``y ≈ β_0 + Σ β_i X_i`` by least squares; ``SRC_i = β_i σ(X_i) / σ(y)``. With independent
    inputs and ``R²`` near 1, ``SRC_i²`` is input ``i``'s share of the variance of ``y`` and
    ``Σ SRC_i² ≈ R²``.

    Parameters
    ----------
    X : numpy.ndarray
        ``(N, p)`` sampled inputs.
    y : numpy.ndarray
        ``(N,)`` outputs.

    Returns
    -------
    (numpy.ndarray, float)
        ``SRC`` per input (0 for constant columns) and ``R²``.
    """
    X, y = _check(X, y)  # noqa: N806
    sx = X.std(axis=0)
    sy = y.std()
    keep = sx > 0
    if sy == 0 or not keep.any():
        return np.zeros(X.shape[1]), 0.0
    Z = (X[:, keep] - X[:, keep].mean(axis=0)) / sx[keep]  # noqa: N806
    yz = (y - y.mean()) / sy
    beta, *_ = np.linalg.lstsq(Z, yz, rcond=None)
    resid = yz - Z @ beta
    r2 = float(1.0 - (resid @ resid) / (yz @ yz))
    out = np.zeros(X.shape[1])
    out[keep] = beta
    return out, r2


def _salib(purpose: str) -> Any:
    try:
        import SALib  # noqa: F401
    except ImportError:
        raise MissingExtraError("SALib", "sensitivity", purpose) from None
    return SALib


def _problem(X: np.ndarray, names: Sequence[str] | None) -> dict[str, Any]:  # noqa: N803
    p = X.shape[1]
    lo, hi = X.min(axis=0), X.max(axis=0)
    hi = np.where(hi > lo, hi, lo + 1.0)
    labels = [str(n) for n in names] if names is not None else [f"x{i}" for i in range(p)]
    return {"num_vars": p, "names": labels, "bounds": np.column_stack([lo, hi]).tolist()}


def delta(
    X: np.ndarray,  # noqa: N803
    y: np.ndarray,
    *,
    names: Sequence[str] | None = None,
    num_resamples: int = 100,
    conf_level: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """Borgonovo's moment-independent δ and first-order S1 from any sample ``(X, y)`` (SALib).

    ``delta`` is the classic estimator on the sample as drawn (SALib's ``delta_raw``). SALib's
    notices (bin merges, bias flags) are kept in ``frame.attrs["notes"]`` instead of being warned.

    Returns
    -------
    pandas.DataFrame
        Index ``names``; columns ``delta``, ``delta_conf``, ``S1``, ``S1_conf``.

    Raises
    ------
    MissingExtraError
        Without SALib (extra ``sensitivity``).
    """
    X, y = _check(X, y)  # noqa: N806
    _salib("delta moment-independent indices")
    from SALib.analyze import delta as salib_delta

    problem = _problem(X, names)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = salib_delta.analyze(
            problem,
            X,
            y,
            num_resamples=num_resamples,
            conf_level=conf_level,
            seed=seed,
            method="all",
        )
    frame = pd.DataFrame(
        {
            "delta": np.asarray(res["delta_raw"], dtype=np.float64),
            "delta_conf": np.asarray(res["delta_raw_conf"], dtype=np.float64),
            "S1": np.asarray(res["S1"], dtype=np.float64),
            "S1_conf": np.asarray(res["S1_conf"], dtype=np.float64),
        },
        index=pd.Index(problem["names"], name="input"),
    )
    frame.attrs["notes"] = [str(w.message) for w in caught]
    return frame


def check_sobol_size(n: object, name: str = "n") -> int:
    """Refuse a Sobol' base sample size that is not a power of 2.

    Sobol' points keep their balance properties (equal coverage of every dyadic box) only for
    ``2**k`` points; SALib and scipy merely warn about other sizes and go on with a worse design.

    Parameters
    ----------
    n : int
        The base sample size.
    name : str, optional
        How the caller names it in the message (e.g. ``"--sobol"``).

    Returns
    -------
    int
        ``n``.

    Raises
    ------
    InvalidParameterError
        If ``n`` is not an integer power of 2 (``1, 2, 4, ...``), naming the nearest ones.
    """
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)):
        raise InvalidParameterError(f"{name} must be an integer power of 2, got {n!r}")
    value = int(n)
    if value < 1:
        raise InvalidParameterError(f"{name} must be a power of 2 (1, 2, 4, ...), got {value}")
    if value & (value - 1):
        low = 1 << (value.bit_length() - 1)
        raise InvalidParameterError(
            f"{name} {value} is not a power of 2, which Sobol' sampling needs for its balance "
            f"properties: use {low} or {2 * low}"
        )
    return value


def sobol_design(
    bounds: Sequence[tuple[float, float]],
    n: int,
    *,
    names: Sequence[str] | None = None,
    second_order: bool = False,
    seed: int = 0,
) -> tuple[np.ndarray, dict[str, Any]]:
    """Saltelli/Sobol' design for :func:`sobol` on uniform inputs (SALib).

    Parameters
    ----------
    bounds : sequence of (low, high)
        One pair per input.
    n : int
        Base sample size (a power of 2); the design has ``n (p + 2)`` rows (``n (2p + 2)`` with
        ``second_order``).

    Returns
    -------
    (numpy.ndarray, dict)
        The design and the SALib problem to pass to :func:`sobol`. Map uniform columns to other
        distributions with their inverse CDF before evaluating the model, or impose the design on
        a Monte Carlo run with ``design=``.

    Raises
    ------
    InvalidParameterError
        If ``n`` is not a power of 2 (see :func:`check_sobol_size`).
    """
    n = check_sobol_size(n)
    _salib("Sobol designs")
    from SALib.util import scale_samples
    from scipy.stats import qmc

    p = len(bounds)
    problem = {
        "num_vars": p,
        "names": [str(x) for x in names] if names is not None else [f"x{i}" for i in range(p)],
        "bounds": [list(map(float, b)) for b in bounds],
    }
    # SALib's Saltelli scheme (the rows of ``SALib.sample.sobol.sample``, same order), built
    # with array operations instead of its loop over rows and columns: per base point ``i``
    # the row of A, the p rows A with column j from B (then, with second order, B with column
    # j from A), and the row of B; A and B are the two halves of a scrambled Sobol' sequence
    base = qmc.Sobol(d=2 * p, scramble=True, seed=seed).random(n)
    a, b = base[:, :p], base[:, p:]
    eye = np.eye(p, dtype=bool)
    blocks = [a[:, None, :], np.where(eye[None], b[:, None, :], a[:, None, :])]
    if second_order:
        blocks.append(np.where(eye[None], a[:, None, :], b[:, None, :]))
    blocks.append(b[:, None, :])
    X = np.concatenate(blocks, axis=1).reshape(-1, p)  # noqa: N806
    return np.asarray(scale_samples(X, problem), dtype=np.float64), problem


def sobol(
    problem: Mapping[str, Any],
    y: np.ndarray,
    *,
    second_order: bool = False,
    num_resamples: int = 100,
    conf_level: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """Sobol first-order and total indices of outputs ``y`` evaluated on :func:`sobol_design`.

    Returns
    -------
    pandas.DataFrame
        Index the input names; columns ``S1``, ``S1_conf``, ``ST``, ``ST_conf``.
    """
    _salib("Sobol indices")
    from SALib.analyze import sobol as salib_sobol

    y = np.asarray(y, dtype=np.float64).ravel()
    if not np.isfinite(y).all():
        raise InputError("y must be finite")
    res = salib_sobol.analyze(
        dict(problem),
        y,
        calc_second_order=second_order,
        num_resamples=num_resamples,
        conf_level=conf_level,
        # SALib seeds its bootstrap only for a truthy seed: seed=0 drew from numpy's global
        # state. A Generator is always truthy, and default_rng(int) is what SALib makes of one
        seed=np.random.default_rng(seed),
    )
    return pd.DataFrame(
        {k: np.asarray(res[k], dtype=np.float64) for k in ("S1", "S1_conf", "ST", "ST_conf")},
        index=pd.Index(problem["names"], name="input"),
    )


@dataclass(frozen=True)
class GlobalSensitivity:
    """Spearman, SRC and contribution to variance for one demand and category.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per tracked input, ranked by ``|SRC|``: ``matrix``, ``entry``, ``spearman``,
        ``src``, ``contribution`` (``SRC² / Σ SRC²``, the share of the explained variance).
    r2 : float
        ``R²`` of the regression: the share of the output variance the tracked inputs explain
        linearly.
    """

    table: pd.DataFrame
    r2: float
    extra: dict[str, Any] = field(default_factory=dict)

    def top(self, n: int = 10) -> pd.DataFrame:
        """The ``n`` inputs with the largest ``|SRC|``."""
        return self.table.head(n)

    def _repr_html_(self) -> str:
        return f"<p>R² = {self.r2:.4f}</p>" + self.top(10).to_html(index=False)


def table(X: np.ndarray, y: np.ndarray, labels: pd.DataFrame | None = None) -> GlobalSensitivity:  # noqa: N803
    """Spearman, SRC and contribution to variance of ``(X, y)`` as a ranked table."""
    X, y = _check(X, y)  # noqa: N806
    rho = spearman(X, y)
    beta, r2 = src(X, y)
    b2 = beta**2
    tot = b2.sum()
    frame = pd.DataFrame() if labels is None else labels.reset_index(drop=True).copy()
    if labels is None:
        frame["input"] = np.arange(X.shape[1])
    frame["spearman"] = rho
    frame["src"] = beta
    frame["contribution"] = b2 / tot if tot > 0 else 0.0
    order = np.argsort(-np.abs(beta), kind="stable")
    return GlobalSensitivity(frame.iloc[order].reset_index(drop=True), r2)


def global_sensitivities(
    result: Any,
    record: Mapping[str, Sequence[int]] | Any,
    demand: Hashable | None = None,
    category: Hashable | None = None,
) -> GlobalSensitivity:
    """Spearman and SRC of a Monte Carlo score on the inputs the run recorded.

    Parameters
    ----------
    result : MonteCarloResult
        A run made with ``record=record``; ``result.inputs[matrix]`` holds the sampled values as
        they enter the matrix, one column per recorded entry.
    record : mapping or Screening
        The ``record=`` given to the run (``{matrix: entry indices}``), or the
        :class:`~lcasolve.sensitivity.Screening` whose ``record`` it was (its ids and names are
        then added to the table).
    demand, category : name, optional
        Which score; default the first.

    Returns
    -------
    GlobalSensitivity
        ``r2`` is the share of the score's variance the recorded inputs explain linearly.
    """
    names = getattr(record, "table", None)
    record = getattr(record, "record", record)
    inputs: Mapping[str, np.ndarray] = getattr(result, "inputs", {}) or {}
    y = np.asarray(result.values(demand, category), dtype=np.float64)
    blocks, labels = [], []
    for matrix, idx in record.items():
        idx = np.asarray(idx, dtype=np.int64)
        if len(idx) == 0:
            continue
        if matrix not in inputs:
            raise InputError(
                f"the Monte Carlo result has no recorded {matrix} inputs: run it with record=..."
            )
        arr = np.asarray(inputs[matrix], dtype=np.float64)
        if arr.shape != (len(y), len(idx)):
            raise InputError(
                f"recorded {matrix} inputs have shape {arr.shape}, expected {(len(y), len(idx))}"
            )
        blocks.append(arr)
        labels.append(pd.DataFrame({"matrix": matrix, "entry": idx}))
    if not blocks:
        raise InputError("no recorded inputs to analyse: the record is empty")
    X = np.hstack(blocks)  # noqa: N806
    frame = pd.concat(labels, ignore_index=True)
    if isinstance(names, pd.DataFrame) and {"matrix", "entry"} <= set(names.columns):
        keep = [c for c in ("row_id", "col_id", "row_name", "col_name") if c in names.columns]
        frame = frame.merge(
            names[["matrix", "entry", *keep]].drop_duplicates(["matrix", "entry"]),
            on=["matrix", "entry"],
            how="left",
        )
    return table(X, y, frame)
