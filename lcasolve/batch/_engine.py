"""Solve many variants of one technosphere pattern: ``A_k x_k = f`` for every variant ``k``.

The deterministic part is computed once (:class:`Baseline`): the sweep order, the deterministic
supplies and the factorization of the deterministic ``A``. Each batch of variants (Monte Carlo
samples, parameter samples, scenarios) then gives its values on the fixed pattern, ``data``
``(nnz, K)``, and :func:`solve_batch` returns the supplies ``(n, K)``:

- ``"gauss-seidel"`` (default): sweeps with each variant's own values, rows ordered consumers
  before suppliers, starting from the deterministic supply; or ``"lu"``: Richardson steps
  preconditioned with the deterministic factorization;
- each variant is checked by its own relative residual; one that converges too slowly goes to
  the fallback: GMRES preconditioned with the deterministic factorization, else a
  refactorization of its own matrix that reuses the deterministic symbolic analysis
  (:meth:`~lcasolve.solve.Factorization.refactorize`).

Every variant's result depends on its own values only: bit-identical whatever the batch.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
import scipy.sparse as sp

from lcasolve.batch._order import sweep_order
from lcasolve.batch._pattern import Pattern
from lcasolve.errors import IllConditionedError, InputError, SingularSystemError
from lcasolve.solve import Factorization, factorize

__all__ = ["Baseline", "BatchSettings", "BatchSolution", "solve_batch"]

_METHODS = ("iterative", "exact")
#: guards the baseline's lazily built factorization and slots (chunks may run on threads)
_LAZY = threading.RLock()
_PRECONDITIONERS = ("gauss-seidel", "lu")


@dataclass(frozen=True)
class BatchSettings:
    """How a batch is solved.

    Attributes
    ----------
    method : {"iterative", "exact"}
        ``"iterative"``: batched iteration, per-variant residual check and a direct fallback;
        ``"exact"``: refactorize every variant (symbolic analysis reused).
    preconditioner : {"gauss-seidel", "lu"}
        The iteration of ``"iterative"`` (see the module docstring).
    tolerance : float
        Relative residual ``‖f − A_k x‖∞ / ‖|A_k| |x| + |f|‖∞`` each variant must reach.
    max_iter : int
        Sweeps (or preconditioned steps) before a variant goes to the fallback.
    threads : int, optional
        Numba threads of the kernels (default: Numba's setting).
    """

    method: str = "iterative"
    preconditioner: str = "gauss-seidel"
    tolerance: float = 1e-10
    max_iter: int = 64
    threads: int | None = None

    def __post_init__(self) -> None:
        if self.method not in _METHODS:
            raise InputError(f"method must be one of {_METHODS}, not {self.method!r}")
        if self.preconditioner not in _PRECONDITIONERS:
            raise InputError(
                f"preconditioner must be 'gauss-seidel' or 'lu', not {self.preconditioner!r}"
            )
        if not (self.tolerance > 0):
            raise InputError(f"tolerance must be > 0, not {self.tolerance!r}")
        if isinstance(self.max_iter, bool) or not isinstance(self.max_iter, (int, np.integer)):
            raise InputError(f"max_iter must be an integer, not {self.max_iter!r}")
        if self.threads is not None and (
            isinstance(self.threads, bool) or not isinstance(self.threads, int) or self.threads < 1
        ):
            raise InputError(f"threads must be a positive integer, not {self.threads!r}")


class BatchSolution(NamedTuple):
    """Supplies of a batch of variants.

    Attributes
    ----------
    supply : numpy.ndarray
        ``(n, K)``, activities in the baseline's sweep order.
    fallback : numpy.ndarray
        Variants the iteration did not solve, solved by the fallback (GMRES or refactorization).
    solves : int
        Applications of the preconditioner (``"lu"``) or sweeps (``"gauss-seidel"``).
    """

    supply: np.ndarray
    fallback: np.ndarray
    solves: int


@dataclass(frozen=True, eq=False)
class Baseline:
    """The deterministic technosphere of a batch: computed once, shared by every batch.

    Activities are renumbered in Gauss-Seidel sweep order: ``order[p]`` is the caller's
    position of sweep position ``p`` (:attr:`position` the inverse), and every array here and
    every batch's ``data`` and supplies use sweep positions. Build it with :meth:`build`.

    Attributes
    ----------
    pattern : Pattern
        The technosphere in sweep order (CSR).
    values : numpy.ndarray
        Its deterministic values ``(nnz,)``.
    demands : numpy.ndarray
        Demand vectors ``(n, demands)`` in sweep order.
    supply : numpy.ndarray
        Their deterministic supplies ``(n, demands)``, the start of every variant's iteration.
    order : numpy.ndarray
        Sweep order.
    cycles : tuple of int
        Sweep positions ``[start, stop)`` of the activities in loops.
    labels : list
        Activity ids in sweep order (for error messages).
    diag_pos : numpy.ndarray
        Slot of each diagonal entry.
    rate : float
        Residual ratio per Gauss-Seidel sweep of the deterministic technosphere, measured
        once (:func:`_sweep_rate`; NaN when there are no cycles or it was not measured): the
        first prediction of each variant's convergence, before its own rate is known.
    """

    pattern: Pattern
    values: np.ndarray
    demands: np.ndarray
    supply: np.ndarray
    order: np.ndarray
    cycles: tuple[int, int]
    labels: list[object]
    diag_pos: np.ndarray
    rate: float = float("nan")
    _lu: list[Factorization] = field(default_factory=list, repr=False)
    _slots: list[np.ndarray] = field(default_factory=list, repr=False)
    _caller_lu: list[Factorization] = field(default_factory=list, repr=False)

    @classmethod
    def build(
        cls,
        A: sp.spmatrix,  # noqa: N803
        F: np.ndarray,  # noqa: N803
        labels: list[object],
        tolerance: float = 1e-10,
        factorization: Factorization | None = None,
    ) -> Baseline:
        """Factorize the deterministic ``A``, solve every demand, order the sweeps.

        Parameters
        ----------
        A : scipy.sparse matrix
            Deterministic technosphere ``(n, n)``; its stored positions (explicit zeros
            included) are the pattern every variant's values are given on.
        F : numpy.ndarray
            Demands ``(n,)`` or ``(n, demands)``, in the caller's activity order.
        labels : list
            Activity ids in the caller's order.
        tolerance : float
            Relative residual the deterministic supplies must reach (refined once).
        factorization : Factorization, optional
            A factorization of this ``A`` made already (e.g. an
            :class:`~lcasolve.lca.LCA`'s), used instead of factorizing again.

        Raises
        ------
        SingularSystemError
            ``A`` is singular (the activities are named).
        IllConditionedError
            A supply misses the tolerance after refinement.
        """
        A = sp.csr_matrix(A)  # noqa: N806
        F = np.asarray(F, dtype=np.float64).reshape(A.shape[0], -1)  # noqa: N806
        lu = _factorize(A, labels, "the technosphere") if factorization is None else factorization
        X = np.column_stack(  # noqa: N806
            [_refined(lu, A, F[:, d], tolerance, "the technosphere") for d in range(F.shape[1])]
        )
        order, c0, c1 = sweep_order(A, np.abs(X).sum(axis=1))
        pattern, values = Pattern.of(A[order][:, order])
        rows = np.repeat(np.arange(pattern.shape[0]), np.diff(pattern.indptr))
        diag = np.full(pattern.shape[0], -1, dtype=np.int64)
        hit = np.flatnonzero(rows == pattern.indices)
        diag[rows[hit]] = hit
        demands = np.ascontiguousarray(F[order])
        return cls(
            pattern=pattern,
            values=values,
            demands=demands,
            supply=np.ascontiguousarray(X[order]),
            order=order,
            cycles=(c0, c1),
            labels=[labels[i] for i in order],
            diag_pos=diag,
            rate=_sweep_rate(pattern, values, diag, (c0, c1)),
            _caller_lu=[lu],
        )

    @property
    def n(self) -> int:
        """Activities."""
        return int(self.pattern.shape[0])

    @property
    def position(self) -> np.ndarray:
        """Sweep position of each of the caller's activity positions (inverse of ``order``)."""
        out = np.empty_like(self.order)
        out[self.order] = np.arange(self.order.size)
        return out

    @property
    def caller_factorization(self) -> Factorization | None:
        """The factorization of ``A`` in the caller's order that :meth:`build` solved with.

        The deterministic checks use it, so that they need no factorization in sweep order
        (:attr:`factorization`, built on first use: by a fallback). None in a copy sent to a
        worker (factorizations do not pickle) and once that one is built (it is released then,
        so that the two are not held at once).
        """
        return self._caller_lu[0] if self._caller_lu else None

    @property
    def factorization(self) -> Factorization:
        """Factorization of the deterministic ``A`` in sweep order (built once per process)."""
        with _LAZY:  # chunks on threads share the baseline: one factorization for all
            if not self._lu:
                A = self.pattern.matrix(self.values)  # noqa: N806
                self._lu.append(_factorize(A, self.labels, "the technosphere"))
                self._caller_lu.clear()
        return self._lu[0]

    def refactorized(self, values: np.ndarray, what: str) -> Factorization:
        """Factorization of one variant's matrix, reusing the deterministic analysis."""
        lu = self.factorization
        try:
            return lu.refactorize(values[self._csc_slots])
        except SingularSystemError as exc:
            raise SingularSystemError(f"{what} is singular: {exc}", exc.activities) from None

    @property
    def _csc_slots(self) -> np.ndarray:
        """Slot of each CSC entry (the factorization's value order), computed once."""
        with _LAZY:
            if not self._slots:
                slots = self.pattern.matrix(np.arange(1, self.pattern.nnz + 1, dtype=np.float64))
                self._slots.append(sp.csc_matrix(slots).data.astype(np.int64) - 1)
        return self._slots[0]

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_lu"] = []  # factorizations do not pickle; a worker factorizes once on use
        state["_caller_lu"] = []
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)


def _sweep_rate(
    pattern: Pattern,
    values: np.ndarray,
    diag_pos: np.ndarray,
    cycles: tuple[int, int],
) -> float:
    """Residual ratio per Gauss-Seidel sweep of the deterministic system (NaN: unknown).

    Sweeps ``A x = 1`` (every row excited) from zero; the ratio per sweep of the relative
    residuals after sweeps ``_RATE_SWEEPS[0]`` and ``_RATE_SWEEPS[1]``, when the first
    sweeps' irregular steps are over: the spectral radius of the sweeps' iteration matrix
    on the cycles. NaN without cycles, or when the residual is at rounding level already or
    does not shrink.
    """
    from lcasolve.batch import _kernels

    c0, c1 = cycles
    n = pattern.shape[0]
    if c0 >= c1:
        return float("nan")
    f = np.ones(n)
    data = np.ascontiguousarray(values[:, None])
    x = np.zeros((n, 1))
    args = (pattern.indptr, pattern.indices, data, diag_pos)
    _kernels.gauss_seidel(*args, 0, n, f, x, 1)
    done = 1
    res = []
    for target in _RATE_SWEEPS:
        _kernels.gauss_seidel(*args, c0, c1, f, x, target - done)
        done = target
        y = x.copy()
        if c1 < n:
            _kernels.gauss_seidel(*args, c1, n, f, y, 1)
        r = np.empty(1)
        _kernels.block_relative_residuals(pattern.indptr, pattern.indices, data, y, f, r)
        res.append(float(r[0]))
    first, last = res
    if not (first > 1e-13 and np.isfinite(last) and last > 0):
        return float("nan")
    rate = (last / first) ** (1.0 / (_RATE_SWEEPS[1] - _RATE_SWEEPS[0]))
    return float(rate) if 0 < rate < _SLOWEST_RATE else float("nan")


def solve_batch(
    base: Baseline, settings: BatchSettings, data: np.ndarray, demand: int = 0
) -> BatchSolution:
    """Solve ``A_k x_k = f`` for the variants ``k`` (columns of ``data``) and one demand.

    Parameters
    ----------
    base : Baseline
        The deterministic part.
    settings : BatchSettings
        Method, preconditioner, tolerance.
    data : numpy.ndarray
        ``(nnz, K)`` values of each variant on ``base.pattern``.
    demand : int
        Column of ``base.demands``.

    Returns
    -------
    BatchSolution

    Raises
    ------
    SingularSystemError
        A variant's technosphere is singular (named).
    IllConditionedError
        A variant misses the tolerance even after refactorization and refinement.
    """
    from lcasolve.uncertainty import numba_threads

    data = np.ascontiguousarray(data, dtype=np.float64)
    if data.ndim != 2 or data.shape[0] != base.pattern.nnz:
        from lcasolve.errors import ShapeMismatchError

        raise ShapeMismatchError(
            f"batch values must have shape (nnz, variants) = ({base.pattern.nnz}, K), "
            f"got {data.shape}"
        )
    f = np.ascontiguousarray(base.demands[:, demand])
    K = data.shape[1]
    with numba_threads(settings.threads):
        if settings.method == "exact":
            x = _exact(base, settings, data, f, np.arange(K))
            return BatchSolution(x, np.zeros(0, dtype=np.int64), 0)
        x0 = base.supply[:, demand]
        if settings.preconditioner == "lu":
            x, failed, used = _iterate(base, settings, data, f, x0)
        else:
            x, failed, used = _gauss_seidel(base, settings, data, f, x0)
        if failed.size:
            x[:, failed] = _fallback(base, settings, data, f, x0, failed)
    return BatchSolution(x, failed, used)


#: a sample whose residual shrinks by less than this factor per sweep goes to a direct solve
_SLOWEST_RATE = 0.95
#: sweeps between the first two residual checks (no rate is known before the second)
_FIRST_GAP = 4
#: at most this many sweeps between two checks of a sample
_LONGEST_GAP = 16
#: samples iterate to this fraction of the tolerance (forward errors can exceed a residual)
_AIM = 0.1
#: the LU-preconditioned iteration's aim, as a fraction of the tolerance (see ``_iterate``)
_LU_AIM = 1e-3
#: checks are scheduled where the measured rate predicts this fraction of the aim
_OVERSHOOT = 0.5
#: after the second check, checks fall on multiples of this many sweeps
_GRID = 2
#: sweeps after which the deterministic rate is measured (:func:`_sweep_rate`)
_RATE_SWEEPS = (6, 12)


def _gauss_seidel(
    base: Baseline, settings: BatchSettings, data: np.ndarray, f: np.ndarray, x0: np.ndarray
) -> tuple[np.ndarray, np.ndarray, int]:
    """Gauss-Seidel sweeps in consumer-before-supplier order from the deterministic supply.

    The first sweep covers every row; the rows before the cycles are then exact, so later sweeps
    cover the cyclic rows only, and the rows after them are brought up to date (one pass, exact
    given the cycles) before each residual check. Each sample is checked on its own schedule:
    after the first check at sweep 1, the second comes where the deterministic system's rate
    (:attr:`Baseline.rate`) predicts the aim from that residual (``_FIRST_GAP`` sweeps later
    when that rate is unknown), and each further one where the sample's own rate, measured
    between its last two checks, predicts it (at most ``_LONGEST_GAP`` sweeps later). On
    eco20k most samples are then done at their second check instead of their third (residual
    histories of 160 samples: 14.5 sweeps and 3.1 checks on average before, 14.1 and 2.1
    after). A sample is done once its relative residual is at most ``_AIM`` times the
    tolerance; one that converges slower than ``_SLOWEST_RATE`` per sweep before that, or
    would need more than ``max_iter`` sweeps, is returned in ``failed`` for the fallback
    solver. Everything a sample goes through depends on its own values only, so results are
    bit-identical whatever the batch. Finished samples leave the working copies once a whole
    tile of them can be dropped.
    """
    from lcasolve.batch import _kernels

    a = base.pattern
    K = data.shape[1]
    n = a.shape[0]
    c0, c1 = base.cycles
    x = np.ascontiguousarray(np.repeat(x0[:, None], K, axis=1))
    args = (a.indptr, a.indices)
    kern = _kernels.gauss_seidel
    kern(*args, data, base.diag_pos, 0, n, f, x, 1)
    sweeps = 1
    if c0 >= c1:  # no cycles: one sweep is exact, unless a variant's production became 0
        return x, np.flatnonzero(~np.isfinite(x).all(axis=0)), sweeps
    out = x.copy()
    cols = np.arange(K, dtype=np.int64)  # sample of each working column
    live = np.ones(K, dtype=bool)  # working columns still iterating
    due = np.ones(K, dtype=np.int64)  # sweep count of each sample's next check
    last_r = np.full(K, np.nan)
    last_s = np.zeros(K, dtype=np.int64)
    failed: list[int] = []
    dc, xc = data, x
    log_aim = np.log(_OVERSHOOT * _AIM * settings.tolerance)
    prior = bool(0 < base.rate < _SLOWEST_RATE)  # False for NaN
    while True:
        width = int(live.sum())
        if not width:
            break
        target = int(due[cols[live]].min())
        if target > sweeps:
            kern(*args, dc, base.diag_pos, c0, c1, f, xc, target - sweeps)
            sweeps = target
        if c1 < n:
            kern(*args, dc, base.diag_pos, c1, n, f, xc, 1)
        check = np.flatnonzero(live & (due[cols] == sweeps))
        if 3 * check.size >= xc.shape[1]:  # the vectorized kernel on every working column
            r_all = np.empty(xc.shape[1])
            _kernels.block_relative_residuals(*args, dc, xc, f, r_all)
            r = r_all[check]
        else:  # on copies of the checked columns (one kernel fewer to compile)
            r = np.empty(check.size)
            _kernels.block_relative_residuals(*args, _columns(dc, check), _columns(xc, check), f, r)
        for c, rc in zip(check.tolist(), r.tolist(), strict=True):
            k = int(cols[c])
            if rc <= _AIM * settings.tolerance:
                live[c] = False
                out[:, k] = xc[:, c]
                continue
            if np.isnan(last_r[k]) and not prior:
                gap = _FIRST_GAP
            else:
                if np.isnan(last_r[k]):
                    rate = base.rate
                elif last_r[k] > 0:
                    rate = (rc / last_r[k]) ** (1.0 / (sweeps - last_s[k]))
                else:
                    rate = 1.0
                gap = -1
                if rate < _SLOWEST_RATE:
                    gap = int(np.ceil((log_aim - np.log(rc)) / np.log(rate)))
                    gap = min(max(gap, 1), _LONGEST_GAP)
                    gap += (sweeps + gap) % _GRID  # checks on a grid: samples share rounds
            if gap < 0 or not np.isfinite(rc) or sweeps + gap > settings.max_iter:
                live[c] = False
                failed.append(k)  # even below the tolerance: its forward error may not be
                continue
            last_r[k], last_s[k] = rc, sweeps
            due[k] = sweeps + gap
        n_live = int(live.sum())
        if n_live and -(-n_live // _kernels._TILE) < -(-xc.shape[1] // _kernels._TILE):
            keep = np.flatnonzero(live)
            dc = _columns(dc, keep)
            xc = _columns(xc, keep)
            cols, live = cols[keep], np.ones(keep.size, dtype=bool)
    return out, np.array(sorted(failed), dtype=np.int64), sweeps


def _columns(a: np.ndarray, which: np.ndarray) -> np.ndarray:
    """C-contiguous copy of the columns ``which`` of ``a``.

    Same values as ``a[:, which]``, by :func:`numpy.take`, which is an order of magnitude
    faster at it: on eco20k's ``(244139, 16)`` sample values, 8 columns in 1.6 ms CPU against
    19 ms for the index (with which a compaction of the working copies cost about four
    Gauss-Seidel sweeps).
    """
    return np.take(a, which, axis=1)


def _iterate(
    base: Baseline, settings: BatchSettings, data: np.ndarray, f: np.ndarray, x0: np.ndarray
) -> tuple[np.ndarray, np.ndarray, int]:
    """Preconditioned Richardson on the block: ``x ← x + M⁻¹ (f − A_k x)`` per variant.

    ``M`` is the deterministic factorization. A variant is frozen once its relative residual
    is at most ``_LU_AIM`` times the tolerance (the corrections leave their error in rows of
    small magnitude, which a normwise residual weighs little: on eco20k a residual of a tenth
    of the tolerance left a forward error of 5e-8); one whose residual stops shrinking before
    that, or that is not there after ``max_iter`` steps, is returned in ``failed``.
    """
    from lcasolve.batch import _kernels

    lu = base.factorization
    K = data.shape[1]
    a = base.pattern
    x = np.repeat(x0[:, None], K, axis=1)
    active = np.arange(K)
    failed: list[int] = []
    previous = np.full(K, np.inf)
    used = 0
    for step in range(settings.max_iter + 1):
        xa = _columns(x, active)
        da = _columns(data, active) if active.size < K else data
        ra = np.empty_like(xa)
        _kernels.residual(a.indptr, a.indices, da, xa, f, ra)
        res = np.empty(active.size)
        _kernels.block_relative_residuals(a.indptr, a.indices, np.ascontiguousarray(da), xa, f, res)
        done = res <= _LU_AIM * settings.tolerance
        stalled = ~(res < 0.9 * previous[active]) & ~done
        failed.extend(active[stalled].tolist())
        previous[active] = res
        keep = ~done & ~stalled
        if not keep.any():
            break
        if step == settings.max_iter:
            failed.extend(active[keep].tolist())
            break
        active = active[keep]
        # each column is solved on its own: the result does not depend on the batch
        correction = lu.solve(np.ascontiguousarray(ra[:, keep]), check=False).x
        used += int(active.size)
        x[:, active] = xa[:, keep] + correction
    return x, np.array(sorted(set(failed)), dtype=np.int64), used


def _fallback(
    base: Baseline,
    settings: BatchSettings,
    data: np.ndarray,
    f: np.ndarray,
    x0: np.ndarray,
    variants: np.ndarray,
    numbers: np.ndarray | None = None,
) -> np.ndarray:
    """Variants the batched iteration did not solve: GMRES, else a refactorization.

    ``variants`` are columns of ``data``; ``numbers`` the variant numbers messages name, when
    ``data`` holds only some variants (default: the columns themselves).

    GMRES is preconditioned with the deterministic factorization and starts from the
    deterministic supply; a variant whose relative residual then is above the tolerance is
    refactorized (:func:`_exact`). Either way the result passes the residual check, and
    depends on the variant's own values only.

    GMRES's vector operations (norms and dot products of length ``n``) run on one BLAS thread:
    OpenBLAS splits them over its threads, which then wait on cores the Numba threads (or
    other processes) hold. On eco20k at a load average of 4 one GMRES solve took 1.0-2.0 s
    with two BLAS threads and 0.05 s with one; one thread also makes its rounding the same
    on every machine size.
    """
    from scipy.sparse.linalg import LinearOperator, gmres
    from threadpoolctl import threadpool_limits

    from lcasolve.batch import _kernels

    a = base.pattern
    lu = base.factorization
    M = LinearOperator(a.shape, matvec=lambda r: lu.solve(r, check=False).x)  # noqa: N806
    out = np.empty((a.shape[0], variants.size))
    exact: list[int] = []
    for i, k in enumerate(variants.tolist()):
        Ak = a.matrix(data[:, k])  # noqa: N806
        with threadpool_limits(1, user_api="blas"):
            x, _ = gmres(
                Ak, f, x0=x0, M=M, rtol=1e-3 * settings.tolerance, atol=0.0, restart=20, maxiter=2
            )
        xk = np.ascontiguousarray(x.reshape(-1, 1))
        r = np.empty(1)
        _kernels.block_relative_residuals(
            a.indptr, a.indices, np.ascontiguousarray(data[:, k : k + 1]), xk, f, r
        )
        if r[0] <= settings.tolerance:
            out[:, i] = x
        else:
            exact.append(i)
    if exact:
        named = variants if numbers is None else numbers
        out[:, exact] = _exact(base, settings, data, f, variants[exact], named[exact])
    return out


def _exact(
    base: Baseline,
    settings: BatchSettings,
    data: np.ndarray,
    f: np.ndarray,
    variants: np.ndarray,
    numbers: np.ndarray | None = None,
) -> np.ndarray:
    """Refactorize ``A_k`` (the deterministic symbolic analysis reused) and solve, per variant."""
    a = base.pattern
    out = np.empty((a.shape[0], variants.size))
    named = (variants if numbers is None else numbers).tolist()
    for i, k in enumerate(variants.tolist()):
        what = f"the technosphere of variant {int(named[i])}"
        lu = base.refactorized(data[:, k], what)
        out[:, i] = _refined(lu, a.matrix(data[:, k]), f, settings.tolerance, what)
    return out


def _factorize(A: sp.spmatrix, labels: list[object], what: str) -> Factorization:  # noqa: N803
    try:
        return factorize(A, labels=labels)
    except SingularSystemError as exc:
        raise SingularSystemError(f"{what} is singular: {exc}", exc.activities) from None


def _refined(
    lu: Factorization,
    A: sp.csr_matrix,  # noqa: N803
    f: np.ndarray,
    tolerance: float,
    what: str,
) -> np.ndarray:
    """``lu``'s solution of ``A x = f``, refined once when the residual is above tolerance.

    Raises
    ------
    IllConditionedError
        The relative residual stays above ``max(tolerance, 1e-8)`` after refinement.
    """
    x = lu.solve(f, check=False).x
    r = f - A @ x
    den = abs(A).sum(axis=1).max() * np.abs(x).max() + np.abs(f).max()
    if not np.abs(r).max() <= tolerance * den:
        x = x + lu.solve(r, check=False).x
        r = f - A @ x
        if not np.abs(r).max() <= max(tolerance, 1e-8) * den:
            raise IllConditionedError(
                f"{what}: relative residual {np.abs(r).max() / den:.3g} after refinement",
                residual=float(np.abs(r).max() / den),
            )
    return x
