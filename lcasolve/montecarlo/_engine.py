"""The Monte Carlo plan: varying entries of A, B and C on fixed CSR patterns, and chunk runs.

A :class:`Plan` holds plain arrays only (picklable, sent once to executor workers). ``run_chunk``
computes iterations ``[start, stop)``: draw every varying entry with the counter-based RNG (keyed
by matrix, entry and iteration), scatter the draws into per-sample matrix values, solve
``A_k s_k = f`` for every sample and demand, and score ``h_k = C_k B_k s_k``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import splu

from lcasolve.errors import IllConditionedError, SingularSystemError, format_ids
from lcasolve.solve.btf import BTFFactorization
from lcasolve.uncertainty import numba_threads, sample_records, seed_key

MATRICES = ("technosphere", "biosphere", "characterization")
_FLOAT_FIELDS = ("loc", "scale", "shape", "minimum", "maximum")
#: key of the deterministic technosphere's factorization in a plan's ``shared`` cache
MEAN_FACTORIZATION = "mean_factorization"
#: high bits of the RNG entry key per matrix: draws of different matrices never share a stream
_MATRIX_KEY = {name: np.uint64(i) << np.uint64(48) for i, name in enumerate(MATRICES)}


def entry_keys(matrix: str, index: np.ndarray) -> np.ndarray:
    """RNG keys of entries ``index`` of ``matrix``."""
    return np.asarray(index, dtype=np.uint64) | _MATRIX_KEY[matrix]


def csr_pattern(
    row: np.ndarray, col: np.ndarray, shape: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CSR ``indptr``, ``indices`` of the merged positions and each entry's slot in it."""
    nrows, ncols = shape
    key = row.astype(np.int64) * max(ncols, 1) + col.astype(np.int64)
    ukeys, slot = np.unique(key, return_inverse=True)
    indices = (ukeys % max(ncols, 1)).astype(np.int64)
    rows = ukeys // max(ncols, 1)
    indptr = np.zeros(nrows + 1, dtype=np.int64)
    np.add.at(indptr, rows + 1, 1)
    return np.cumsum(indptr), indices, slot.astype(np.int64)


@dataclass
class MatrixPlan:
    """One matrix on a fixed CSR pattern: fixed base values plus varying and designed entries.

    The draws of the varying entries come from :class:`Draws` (one kernel call for A, B and C);
    ``var_slot[u]`` is where the ``u``-th of this matrix's draws is added.
    """

    name: str
    shape: tuple[int, int]
    indptr: np.ndarray
    indices: np.ndarray
    base: np.ndarray
    var_slot: np.ndarray
    var_value: np.ndarray
    design_slot: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    design_column: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    design_value: np.ndarray = field(default_factory=lambda: np.zeros(0))

    @property
    def nnz(self) -> int:
        """Stored positions."""
        return int(self.indices.shape[0])

    def deterministic(self) -> np.ndarray:
        """CSR data ``(nnz, 1)`` with every entry at its deterministic value."""
        data = self.base.copy()
        np.add.at(data, self.var_slot, self.var_value)
        np.add.at(data, self.design_slot, self.design_value)
        return data[:, None]

    @cached_property
    def groups(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Varying entries grouped by slot: ``group_ptr``, ``group_slot`` and the fixed slots."""
        if np.any(np.diff(self.var_slot) < 0):
            raise AssertionError("the varying entries of a matrix plan must be in slot order")
        slots, start = np.unique(self.var_slot, return_index=True)
        ptr = np.append(start, self.var_slot.size).astype(np.int64)
        fixed = np.setdiff1d(np.arange(self.nnz, dtype=np.int64), slots)
        return ptr, slots.astype(np.int64), fixed

    def values(
        self,
        draws: Draws,
        matrix: int,
        iterations: np.ndarray,
        seed_key: np.uint64,
        design: np.ndarray | None,
    ) -> np.ndarray:
        """Per-sample CSR data ``(nnz, K)``: the base values plus this matrix's draws.

        The draws are made in place (:func:`~lcasolve.uncertainty._kernels.sample_into`);
        designed entries are added after.
        """
        from lcasolve.uncertainty import _kernels

        K = iterations.shape[0]
        out = np.empty((self.nnz, K))
        ptr, slots, fixed = self.groups
        _kernels.sample_into(  # type: ignore[call-arg]  # numba dispatcher takes *args
            *draws.columns(matrix), seed_key, iterations, ptr, slots, fixed, self.base, out
        )
        if self.design_slot.size:
            assert design is not None
            np.add.at(out, self.design_slot, design[:, self.design_column].T)
        return out


@dataclass
class Draws:
    """The varying entries of A, B and C, as plain columns for the sampling kernels.

    Attributes
    ----------
    records, keys, sign : numpy.ndarray
        stats_arrays records (source sign), RNG entry keys and the sign each draw enters its
        matrix with, for the varying entries of A, then B, then C (each in slot order).
    bounds : numpy.ndarray
        ``[0, n_A, n_A + n_B, n_A + n_B + n_C]``: the rows of each matrix.
    """

    records: np.ndarray
    keys: np.ndarray
    sign: np.ndarray
    bounds: np.ndarray

    @cached_property
    def _columns(self) -> tuple[np.ndarray, ...]:
        r = self.records
        floats = (np.ascontiguousarray(r[c], dtype=np.float64) for c in _FLOAT_FIELDS)
        return (
            np.ascontiguousarray(r["uncertainty_type"], dtype=np.int64),
            *floats,
            np.ascontiguousarray(r["negative"], dtype=np.bool_),
            np.ascontiguousarray(self.sign, dtype=np.float64),
            np.ascontiguousarray(self.keys, dtype=np.uint64),
        )

    def columns(self, matrix: int) -> tuple[np.ndarray, ...]:
        """Kernel arguments (kind, loc, scale, shape, bounds, negative, sign, key) of a matrix."""
        lo, hi = int(self.bounds[matrix]), int(self.bounds[matrix + 1])
        return tuple(c[lo:hi] for c in self._columns)


@dataclass
class Preconditioner:
    """SuperLU factors of the deterministic ``Aᵀ`` as plain arrays for the block kernel."""

    perm_c: np.ndarray
    perm_r: np.ndarray
    u_ptr: np.ndarray
    u_idx: np.ndarray
    u_val: np.ndarray
    u_diag: np.ndarray
    l_ptr: np.ndarray
    l_idx: np.ndarray
    l_val: np.ndarray

    @classmethod
    def from_matrix(cls, A: sp.spmatrix, labels: list[object]) -> Preconditioner:  # noqa: N803
        """Factorize ``Aᵀ`` with SuperLU (COLAMD) and unpack the factors."""
        try:
            lu = splu(sp.csc_matrix(A).T.tocsc(), permc_spec="COLAMD")
        except RuntimeError as exc:
            from lcasolve.errors import format_ids

            raise SingularSystemError(
                f"the technosphere matrix is singular ({exc}); activities: {format_ids(labels)}",
                labels,
            ) from None
        U = lu.U.tocsc()  # noqa: N806
        U.sort_indices()
        L = lu.L.tocsc()  # noqa: N806
        L.sort_indices()
        ucol = np.repeat(np.arange(U.shape[1]), np.diff(U.indptr))
        strict_u = U.indices != ucol
        u_diag = U.diagonal()
        lcol = np.repeat(np.arange(L.shape[1]), np.diff(L.indptr))
        strict_l = L.indices != lcol
        u_ptr = np.concatenate([[0], np.cumsum(np.bincount(ucol[strict_u], minlength=U.shape[1]))])
        l_ptr = np.concatenate([[0], np.cumsum(np.bincount(lcol[strict_l], minlength=L.shape[1]))])
        return cls(
            perm_c=lu.perm_c.astype(np.int64),
            perm_r=lu.perm_r.astype(np.int64),
            u_ptr=u_ptr.astype(np.int64),
            u_idx=U.indices[strict_u].astype(np.int64),
            u_val=U.data[strict_u].copy(),
            u_diag=u_diag,
            l_ptr=l_ptr.astype(np.int64),
            l_idx=L.indices[strict_l].astype(np.int64),
            l_val=L.data[strict_l].copy(),
        )

    @property
    def factor_nnz(self) -> int:
        """Entries read per right-hand side."""
        return int(self.u_val.size + self.u_diag.size + self.l_val.size)

    def solve(self, b: np.ndarray) -> np.ndarray:
        """``M⁻¹ b`` for an ``(n, K)`` block, each column independent of the others."""
        from lcasolve.montecarlo import _kernels

        b = np.ascontiguousarray(b)
        out = np.empty_like(b)
        work = np.empty_like(b)
        _kernels.lu_solve(
            self.perm_c,
            self.u_ptr,
            self.u_idx,
            self.u_val,
            self.u_diag,
            self.l_ptr,
            self.l_idx,
            self.l_val,
            self.perm_r,
            b,
            work,
            out,
        )
        return out


@dataclass
class BTFPreconditioner:
    """The deterministic ``A`` in block-triangular form, as plain (picklable) arrays.

    Singleton blocks are solved by substitution; each cyclic block carries the SuperLU factors
    of its transpose (:class:`Preconditioner`). Applying it costs the factors of the cyclic
    blocks only, far less than a general LU of the whole matrix.
    """

    perm: np.ndarray
    M: sp.csr_matrix  # noqa: N815 - the permuted matrix
    diag: np.ndarray
    segments: list[tuple[int, int, Preconditioner | None, sp.csr_matrix | None]]

    @classmethod
    def from_matrix(cls, A: sp.spmatrix, labels: list[object]) -> BTFPreconditioner:  # noqa: N803
        """Permute ``A`` by its strongly connected components and factorize the cyclic blocks."""
        from lcasolve.solve._checks import check_structure
        from lcasolve.solve.btf import _segments, block_triangular_order

        A = sp.csc_matrix(A)  # noqa: N806
        check_structure(A, labels)
        perm, block_ptr = block_triangular_order(A)
        M = sp.csr_matrix(A[perm][:, perm])  # noqa: N806
        M.sort_indices()
        diag = M.diagonal()
        segments: list[tuple[int, int, Preconditioner | None, sp.csr_matrix | None]] = []
        for start, end, cyclic in _segments(block_ptr):
            if not cyclic:
                zero = np.flatnonzero(diag[start:end] == 0) + start
                if zero.size:
                    ids = [labels[perm[i]] for i in zero]
                    raise SingularSystemError(
                        f"the technosphere matrix is singular: activities in no loop produce "
                        f"none of their reference product: {format_ids(ids)}",
                        ids,
                    )
                segments.append((start, end, None, None))
                continue
            block = Preconditioner.from_matrix(
                M[start:end, start:end], [labels[i] for i in perm[start:end]]
            )
            segments.append((start, end, block, M[start:end, :start] if start else None))
        return cls(perm=perm, M=M, diag=diag, segments=segments)

    @property
    def factor_nnz(self) -> int:
        """Entries read per right-hand side."""
        cyc = sum(b.factor_nnz for _, _, b, _ in self.segments if b is not None)
        tri = sum(
            int(self.M.indptr[e] - self.M.indptr[s]) for s, e, b, _ in self.segments if b is None
        )
        return cyc + tri

    def solve(self, b: np.ndarray) -> np.ndarray:
        """``A⁻¹ b`` for an ``(n, K)`` block."""
        from lcasolve.solve.btf import _forward

        x = np.ascontiguousarray(b[self.perm], dtype=np.float64)
        M = self.M  # noqa: N806
        for start, end, block, below in self.segments:
            if block is None:
                _forward(M.indptr, M.indices, M.data, self.diag, start, end, x)
                continue
            rhs = x[start:end]
            if below is not None:
                rhs = rhs - below @ x[:start]
            x[start:end] = block.solve(rhs)
        out = np.empty_like(x)
        out[self.perm] = x
        return out


@dataclass
class Plan:
    """Everything a worker needs to compute chunks of iterations (plain arrays, picklable).

    ``contributions`` holds the activity positions whose per-activity contributions are kept
    (None: none); ``inventory_flows`` the flow positions whose inventories are kept and
    ``inventory_rows`` their rows in the biosphere plan. Activities are numbered in Gauss-Seidel
    sweep order (:func:`~lcasolve.montecarlo._plan.sweep_order`): positions in ``F``, ``x0``,
    ``labels``, ``contributions`` and the technosphere and biosphere columns are sweep
    positions, ``order[p]`` is the system's position of sweep position ``p``, and ``cycles``
    is the range of the cyclic ones. ``x0`` holds the deterministic
    supply of every demand ``(n, demands)``, the starting point of every sample's iteration.
    """

    n: int
    F: np.ndarray
    technosphere: MatrixPlan
    biosphere: MatrixPlan
    characterization: MatrixPlan
    draws: Draws
    preconditioner: BTFPreconditioner | Preconditioner | None
    method: str
    tolerance: float
    max_iter: int
    seed: int
    record: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]]
    labels: list[object]
    threads: int | None = None
    order: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    cycles: tuple[int, int] = (0, 0)
    diag_pos: np.ndarray | None = None
    x0: np.ndarray | None = None
    contributions: np.ndarray | None = None
    inventory_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    inventory_flows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    shared: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def matrices(self) -> tuple[MatrixPlan, MatrixPlan, MatrixPlan]:
        """A, B and C plans."""
        return self.technosphere, self.biosphere, self.characterization

    def mean_solve(self, r: np.ndarray) -> np.ndarray:
        """``A⁻¹ r`` with the deterministic technosphere, ``r`` and the result in sweep order.

        The factorization (in the system's order) is the one :func:`deterministic_supply` made,
        kept in ``shared`` (the Monte Carlo object's cache); an executor worker, where
        ``shared`` does not travel, factorizes once from the plan.
        """
        lu = self.shared.get(MEAN_FACTORIZATION)
        if lu is None:
            a = self.technosphere
            A = sp.csr_matrix((a.deterministic()[:, 0], a.indices, a.indptr), shape=a.shape)  # noqa: N806
            position = np.empty_like(self.order)
            position[self.order] = np.arange(self.order.size)
            lu = BTFFactorization(A[position][:, position], [self.labels[p] for p in position])
            self.shared[MEAN_FACTORIZATION] = lu
        z = np.empty_like(r)
        z[self.order] = r
        return lu.solve(z, check=False).x[self.order]

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["shared"] = {}  # factorizations do not pickle; rebuilt on use
        return state


def run_chunk(
    plan: Plan, start: int, stop: int, design: dict[str, np.ndarray] | None = None
) -> dict[str, object]:
    """Compute iterations ``[start, stop)``; ``design`` holds this chunk's designed values.

    Returns
    -------
    dict
        ``start``, ``stop``, ``scores`` ``(K, demands, categories)``, ``inputs`` per recorded
        matrix ``(K, len)``, ``contributions`` (``coords`` ``(4, nnz)`` of iteration, demand,
        category, selected activity, and ``data``) or None, ``inventory``
        ``(K, demands, flows)``, ``n_fallback``, ``preconditioner_solves`` and a ``timing`` split.
    """
    from lcasolve.montecarlo import _kernels

    design = design or {}
    its = np.arange(start, stop, dtype=np.int64)
    K = its.shape[0]
    timing = {"sample": 0.0, "solve": 0.0, "other": 0.0}
    with numba_threads(plan.threads):
        t0 = time.perf_counter()
        key = seed_key(plan.seed)
        data = [
            m.values(plan.draws, i, its, key, design.get(m.name))
            for i, m in enumerate(plan.matrices())
        ]
        inputs = {}
        for name, (keys, rec, sign, fixed, dcol) in plan.record.items():
            vals = sample_records(rec, its, plan.seed, entry_keys=keys, sign=sign).T
            vals = np.where(rec["uncertainty_type"] > 1, vals, fixed)
            use = dcol >= 0
            if use.any():
                vals[:, use] = design[name][:, dcol[use]]
            inputs[name] = np.ascontiguousarray(vals)
        t1 = time.perf_counter()
        timing["sample"] = t1 - t0
        a, b, c = plan.matrices()
        n_dem = plan.F.shape[1]
        scores = np.empty((K, n_dem, c.shape[0]))
        inventory = np.empty((K, n_dem, plan.inventory_rows.size))
        pieces: list[tuple[np.ndarray, np.ndarray]] = []
        n_fallback = 0
        solves = 0
        for d in range(n_dem):
            f = np.ascontiguousarray(plan.F[:, d])
            t1 = time.perf_counter()
            if plan.method == "exact":
                x = _exact(plan, data[0], f, np.arange(K))
            else:
                x, failed, used = solve_block(plan, data[0], f, d)
                solves += used
                if failed.size:
                    n_fallback += int(failed.size)
                    x[:, failed] = _fallback(plan, data[0], f, d, failed)
            t2 = time.perf_counter()
            timing["solve"] += t2 - t1
            g = np.empty((b.shape[0], K))
            _kernels.spmv(b.indptr, b.indices, data[1], x, g)
            h = np.empty((c.shape[0], K))
            _kernels.spmv(c.indptr, c.indices, data[2], g, h)
            scores[:, d, :] = h.T
            inventory[:, d, :] = g[plan.inventory_rows].T
            if plan.contributions is not None:
                pieces.append(_contributions(plan, data, x, d, start))
            timing["other"] += time.perf_counter() - t2
    contrib = None
    if plan.contributions is not None:
        contrib = {
            "coords": np.concatenate([p[0] for p in pieces], axis=1),
            "data": np.concatenate([p[1] for p in pieces]),
        }
    return {
        "start": start,
        "stop": stop,
        "scores": scores,
        "inputs": inputs,
        "contributions": contrib,
        "inventory": inventory,
        "n_fallback": n_fallback,
        "preconditioner_solves": solves,
        "timing": timing,
    }


def _contributions(
    plan: Plan, data: list[np.ndarray], x: np.ndarray, demand: int, start: int
) -> tuple[np.ndarray, np.ndarray]:
    """Nonzero per-activity contributions ``(C_k B_k)_qj x_jk`` of the selected activities."""
    from lcasolve.montecarlo import _kernels

    b, c = plan.biosphere, plan.characterization
    K = x.shape[1]
    out = np.empty((c.shape[0], plan.n, K))
    _kernels.activity_contributions(
        b.indptr, b.indices, data[1], c.indptr, c.indices, data[2], x, out
    )
    sel = plan.contributions
    assert sel is not None
    vals = out[:, sel, :]
    q, j, k = np.nonzero(vals)
    coords = np.stack([k + start, np.full(k.size, demand), q, j]).astype(np.int64)
    return coords, vals[q, j, k]


def solve_block(
    plan: Plan, data: np.ndarray, f: np.ndarray, demand: int = 0
) -> tuple[np.ndarray, np.ndarray, int]:
    """Solve ``A_k x_k = f`` for every sample with the plan's iteration; see the two methods."""
    if plan.preconditioner is None:
        return _gauss_seidel(plan, data, f, demand)
    return _iterate(plan, data, f)


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


def _gauss_seidel(
    plan: Plan, data: np.ndarray, f: np.ndarray, demand: int = 0
) -> tuple[np.ndarray, np.ndarray, int]:
    """Gauss-Seidel sweeps in consumer-before-supplier order from the deterministic supply.

    The first sweep covers every row; the rows before the cycles are then exact, so later sweeps
    cover the cyclic rows only, and the rows after them are brought up to date (one pass, exact
    given the cycles) before each residual check. Each sample is checked on its own schedule:
    after the first check at sweep 1 and a second ``_FIRST_GAP`` sweeps later, the next one
    comes where its measured rate of convergence predicts the aim (at most ``_LONGEST_GAP``
    sweeps later). A sample is done once its relative residual is at most ``_AIM`` times the
    tolerance; one that converges slower than ``_SLOWEST_RATE`` per sweep before that, or
    would need more than ``max_iter`` sweeps, is returned in ``failed`` for the fallback
    solver. Everything a sample goes through depends on its own values only, so results are
    bit-identical whatever the batch. Finished samples leave the working copies once a whole
    tile of them can be dropped.
    """
    from lcasolve.montecarlo import _kernels

    a = plan.technosphere
    assert plan.diag_pos is not None
    K = data.shape[1]
    n = plan.n
    c0, c1 = plan.cycles
    assert plan.x0 is not None
    x = np.ascontiguousarray(np.repeat(plan.x0[:, demand : demand + 1], K, axis=1))
    args = (a.indptr, a.indices)
    kern = _kernels.gauss_seidel
    kern(*args, data, plan.diag_pos, 0, n, f, x, 1)
    sweeps = 1
    if c0 >= c1:  # no cycles: one sweep is exact
        return x, np.zeros(0, dtype=np.int64), sweeps
    out = x.copy()
    cols = np.arange(K, dtype=np.int64)  # sample of each working column
    live = np.ones(K, dtype=bool)  # working columns still iterating
    due = np.ones(K, dtype=np.int64)  # sweep count of each sample's next check
    last_r = np.full(K, np.nan)
    last_s = np.zeros(K, dtype=np.int64)
    failed: list[int] = []
    dc, xc = data, x
    log_aim = np.log(_OVERSHOOT * _AIM * plan.tolerance)
    while True:
        width = int(live.sum())
        if not width:
            break
        target = int(due[cols[live]].min())
        if target > sweeps:
            kern(*args, dc, plan.diag_pos, c0, c1, f, xc, target - sweeps)
            sweeps = target
        if c1 < n:
            kern(*args, dc, plan.diag_pos, c1, n, f, xc, 1)
        check = np.flatnonzero(live & (due[cols] == sweeps))
        if 3 * check.size >= xc.shape[1]:  # the vectorized kernel on every working column
            r_all = np.empty(xc.shape[1])
            _kernels.block_relative_residuals(*args, dc, xc, f, r_all)
            r = r_all[check]
        else:
            r = np.empty(check.size)
            _kernels.relative_residuals(*args, dc, xc, f, check, r)
        for c, rc in zip(check.tolist(), r.tolist(), strict=True):
            k = int(cols[c])
            if rc <= _AIM * plan.tolerance:
                live[c] = False
                out[:, k] = xc[:, c]
                continue
            if np.isnan(last_r[k]):
                gap = _FIRST_GAP
            else:
                rate = (rc / last_r[k]) ** (1.0 / (sweeps - last_s[k])) if last_r[k] > 0 else 1.0
                gap = -1
                if rate < _SLOWEST_RATE:
                    gap = int(np.ceil((log_aim - np.log(rc)) / np.log(rate)))
                    gap = min(max(gap, 1), _LONGEST_GAP)
                    gap += (sweeps + gap) % _GRID  # checks on a grid: samples share rounds
            if gap < 0 or not np.isfinite(rc) or sweeps + gap > plan.max_iter:
                live[c] = False
                failed.append(k)  # even below the tolerance: its forward error may not be
                continue
            last_r[k], last_s[k] = rc, sweeps
            due[k] = sweeps + gap
        n_live = int(live.sum())
        if n_live and -(-n_live // _kernels._TILE) < -(-xc.shape[1] // _kernels._TILE):
            keep = np.flatnonzero(live)
            dc = np.ascontiguousarray(dc[:, keep])
            xc = np.ascontiguousarray(xc[:, keep])
            cols, live = cols[keep], np.ones(keep.size, dtype=bool)
    return out, np.array(sorted(failed), dtype=np.int64), sweeps


def _iterate(plan: Plan, data: np.ndarray, f: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Preconditioned Richardson on the block: ``x ← x + M⁻¹ (f − A_k x)`` per sample.

    A sample is frozen once its relative residual is at most ``_LU_AIM`` times the tolerance
    (the corrections leave their error in rows of small magnitude, which a normwise residual
    weighs little: on eco20k a residual of a tenth of the tolerance left a forward error of
    5e-8); one whose residual stops shrinking before that, or that is not there after
    ``max_iter`` steps, is returned in ``failed`` for the fallback solver.
    """
    from lcasolve.montecarlo import _kernels

    pre = plan.preconditioner
    assert pre is not None
    K = data.shape[1]
    a = plan.technosphere
    x0 = pre.solve(f.reshape(-1, 1))[:, 0]
    x = np.repeat(x0[:, None], K, axis=1)
    active = np.arange(K)
    failed: list[int] = []
    previous = np.full(K, np.inf)
    used = 1
    for _ in range(plan.max_iter + 1):
        xa = np.ascontiguousarray(x[:, active])
        da = np.ascontiguousarray(data[:, active]) if active.size < K else data
        ra = np.empty_like(xa)
        _kernels.residual(a.indptr, a.indices, da, xa, f, ra)
        res = np.empty(active.size)
        _kernels.relative_residuals(a.indptr, a.indices, data, x, f, active, res)
        done = res <= _LU_AIM * plan.tolerance
        stalled = ~(res < 0.9 * previous[active]) & ~done
        failed.extend(active[stalled].tolist())
        previous[active] = res
        keep = ~done & ~stalled
        if not keep.any():
            break
        if _ == plan.max_iter:
            failed.extend(active[keep].tolist())
            break
        active = active[keep]
        step = pre.solve(np.ascontiguousarray(ra[:, keep]))
        used += int(active.size)
        x[:, active] = xa[:, keep] + step
    return x, np.array(sorted(set(failed)), dtype=np.int64), used


def _fallback(
    plan: Plan, data: np.ndarray, f: np.ndarray, demand: int, samples: np.ndarray
) -> np.ndarray:
    """Samples the batched iteration did not solve: GMRES, else a refactorization.

    GMRES is preconditioned with the factorization of the deterministic technosphere
    (:meth:`Plan.mean_solve`) and starts from the deterministic supply; a sample whose relative
    residual then is above the tolerance is refactorized (:func:`_exact`). Either way the
    result passes the residual check, and depends on the sample's own values only.
    """
    from scipy.sparse.linalg import LinearOperator, gmres

    from lcasolve.montecarlo import _kernels

    a = plan.technosphere
    assert plan.x0 is not None
    M = LinearOperator(a.shape, matvec=plan.mean_solve)  # noqa: N806
    out = np.empty((plan.n, samples.size))
    start = plan.x0[:, demand]
    exact: list[int] = []
    for i, k in enumerate(samples.tolist()):
        Ak = sp.csr_matrix((data[:, k], a.indices, a.indptr), shape=a.shape)  # noqa: N806
        x, _ = gmres(
            Ak, f, x0=start, M=M, rtol=1e-3 * plan.tolerance, atol=0.0, restart=20, maxiter=2
        )
        xk = np.ascontiguousarray(x.reshape(-1, 1))
        r = np.empty(1)
        _kernels.block_relative_residuals(
            a.indptr, a.indices, np.ascontiguousarray(data[:, k : k + 1]), xk, f, r
        )
        if r[0] <= plan.tolerance:
            out[:, i] = x
        else:
            exact.append(i)
    if exact:
        out[:, exact] = _exact(plan, data, f, samples[exact])
    return out


def _exact(plan: Plan, data: np.ndarray, f: np.ndarray, samples: np.ndarray) -> np.ndarray:
    """Refactorize ``A_k`` and solve, for each sample in ``samples``."""
    a = plan.technosphere
    out = np.empty((plan.n, samples.size))
    for i, k in enumerate(samples):
        Ak = sp.csr_matrix((data[:, k], a.indices, a.indptr), shape=a.shape)  # noqa: N806
        out[:, i] = exact_solve(
            Ak, f, plan.labels, plan.tolerance, f"the sampled technosphere of sample {int(k)}"
        )
    return out


def exact_solve(
    A: sp.spmatrix,  # noqa: N803
    f: np.ndarray,
    labels: list[object],
    tolerance: float,
    what: str = "the technosphere",
) -> np.ndarray:
    """``A⁻¹ f`` by a block-triangular LU, refined once when the residual is above tolerance.

    Raises
    ------
    SingularSystemError
        ``A`` is singular (the message names ``what`` and the activities).
    IllConditionedError
        The relative residual stays above ``max(tolerance, 1e-8)`` after refinement.
    """
    A = sp.csr_matrix(A)  # noqa: N806
    return _refined(_factorize(A, labels, what), A, f, tolerance, what)


def _factorize(A: sp.csr_matrix, labels: list[object], what: str) -> BTFFactorization:  # noqa: N803
    try:
        # block-triangular LU: substitution outside loops, LU of the cyclic blocks only
        return BTFFactorization(A, labels)
    except SingularSystemError as exc:
        raise SingularSystemError(f"{what} is singular: {exc}", exc.activities) from None


def _refined(
    lu: BTFFactorization,
    A: sp.csr_matrix,  # noqa: N803
    f: np.ndarray,
    tolerance: float,
    what: str,
) -> np.ndarray:
    """``lu``'s solution of ``A x = f``, refined once when the residual is above tolerance."""
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


def deterministic_supply(
    A: sp.spmatrix,  # noqa: N803
    F: np.ndarray,  # noqa: N803
    labels: list[object],
    tolerance: float,
) -> tuple[np.ndarray, BTFFactorization]:
    """Supplies ``(n, demands)`` of every demand with every entry at its deterministic value.

    Returns the supplies and the factorization of ``A`` (one for all demands), which the
    Monte Carlo fallback reuses as its preconditioner.
    """
    A = sp.csr_matrix(A)  # noqa: N806
    lu = _factorize(A, labels, "the technosphere")
    X = np.column_stack(  # noqa: N806
        [
            _refined(lu, A, np.ascontiguousarray(F[:, d]), tolerance, "the technosphere")
            for d in range(F.shape[1])
        ]
    )
    return X, lu


def solve_scores(plan: Plan) -> np.ndarray:
    """Deterministic scores ``(demands, categories)`` from the plan's deterministic supplies."""
    from lcasolve.montecarlo import _kernels

    _, b, c = plan.matrices()
    assert plan.x0 is not None
    X = plan.x0  # noqa: N806
    data = [m.deterministic() for m in (b, c)]
    out = np.empty((plan.F.shape[1], c.shape[0]))
    for d in range(plan.F.shape[1]):
        x = np.ascontiguousarray(X[:, d : d + 1])
        g = np.empty((b.shape[0], 1))
        _kernels.spmv(b.indptr, b.indices, data[0], x, g)
        h = np.empty((c.shape[0], 1))
        _kernels.spmv(c.indptr, c.indices, data[1], g, h)
        out[d] = h[:, 0]
    return out
