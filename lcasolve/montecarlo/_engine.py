"""The Monte Carlo plan: varying entries of A, B and C on fixed CSR patterns, and chunk runs.

A :class:`Plan` holds plain arrays only (picklable, sent once to executor workers). ``run_chunk``
computes iterations ``[start, stop)``: draw every varying entry with the counter-based RNG (keyed
by matrix, entry and iteration), scatter the draws into per-sample matrix values, solve
``A_k s_k = f`` for every sample and demand, and score ``h_k = C_k B_k s_k``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import splu

from lcasolve.errors import IllConditionedError, SingularSystemError, format_ids
from lcasolve.solve.btf import BTFFactorization
from lcasolve.uncertainty import numba_threads, sample_records

MATRICES = ("technosphere", "biosphere", "characterization")
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

    def values(self, draws: np.ndarray, design: np.ndarray | None) -> np.ndarray:
        """Per-sample CSR data ``(nnz, K)`` from this matrix's draws ``(n_varying, K)``."""
        from lcasolve.montecarlo import _kernels

        K = draws.shape[1]
        vals, slot = draws, self.var_slot
        if self.design_slot.size:
            assert design is not None
            vals = np.concatenate([vals, np.ascontiguousarray(design[:, self.design_column].T)])
            slot = np.concatenate([slot, self.design_slot])
        out = np.empty((self.nnz, K))
        _kernels.assemble(self.base, slot, np.ascontiguousarray(vals), out)
        return out


@dataclass
class Draws:
    """The varying entries of A, B and C together, so one kernel call draws them all.

    Attributes
    ----------
    records, keys, sign : numpy.ndarray
        stats_arrays records (source sign), RNG entry keys and the sign each draw enters its
        matrix with, for the varying entries of A, then B, then C.
    bounds : numpy.ndarray
        ``[0, n_A, n_A + n_B, n_A + n_B + n_C]``: the rows of each matrix in a block of draws.
    """

    records: np.ndarray
    keys: np.ndarray
    sign: np.ndarray
    bounds: np.ndarray

    def sample(self, iterations: np.ndarray, seed: int) -> list[np.ndarray]:
        """Draw every varying entry for the given iterations; one ``(n_i, K)`` block per matrix."""
        block = sample_records(self.records, iterations, seed, entry_keys=self.keys, sign=self.sign)
        b = self.bounds
        return [block[b[i] : b[i + 1]] for i in range(3)]


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
    ``inventory_rows`` their rows in the biosphere plan.
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
    order: np.ndarray | None = None
    diag_pos: np.ndarray | None = None
    check_every: int = 4
    contributions: np.ndarray | None = None
    inventory_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    inventory_flows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def matrices(self) -> tuple[MatrixPlan, MatrixPlan, MatrixPlan]:
        """A, B and C plans."""
        return self.technosphere, self.biosphere, self.characterization


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
        draws = plan.draws.sample(its, plan.seed)
        data = [
            m.values(d, design.get(m.name)) for m, d in zip(plan.matrices(), draws, strict=True)
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
                x, failed, used = solve_block(plan, data[0], f)
                solves += used
                if failed.size:
                    n_fallback += int(failed.size)
                    x[:, failed] = _exact(plan, data[0], f, failed)
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


def solve_block(plan: Plan, data: np.ndarray, f: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Solve ``A_k x_k = f`` for every sample with the plan's iteration; see the two methods."""
    if plan.preconditioner is None:
        return _gauss_seidel(plan, data, f)
    return _iterate(plan, data, f)


def _gauss_seidel(
    plan: Plan, data: np.ndarray, f: np.ndarray
) -> tuple[np.ndarray, np.ndarray, int]:
    """Gauss-Seidel sweeps in consumer-before-supplier order, checked every few sweeps.

    A sample is frozen once its relative residual is at most the tolerance; a sample whose
    error shrinks less than twofold between checks, or that exceeds ``max_iter`` sweeps, is
    returned in ``failed`` for a direct solve. The samples still iterating are kept in compact
    contiguous copies, so the kernels run on full tiles and finished samples cost nothing.
    """
    from lcasolve.montecarlo import _kernels

    a = plan.technosphere
    assert plan.order is not None and plan.diag_pos is not None
    K = data.shape[1]
    x = np.zeros((plan.n, K))
    current = np.arange(K, dtype=np.int64)
    dc, xc = data, x  # the current samples' values and iterates (x itself until one finishes)
    previous = np.full(K, np.inf)
    failed: list[int] = []
    sweeps = 0
    while current.size:
        step = 1 if sweeps == 0 else plan.check_every
        _kernels.gauss_seidel(a.indptr, a.indices, dc, plan.diag_pos, plan.order, f, xc, step)
        sweeps += step
        r = np.empty(current.size)
        _kernels.block_relative_residuals(a.indptr, a.indices, dc, xc, f, r)
        if xc is not x:
            x[:, current] = xc
        done = r <= plan.tolerance
        stalled = ~done & ~(r < 0.5 * previous[current])
        if sweeps > 1:
            failed.extend(current[stalled].tolist())
        else:
            stalled[:] = False
        previous[current] = r
        keep = ~done & ~stalled
        if sweeps >= plan.max_iter and keep.any():
            failed.extend(current[keep].tolist())
            break
        if not keep.all():
            current = current[keep]
            dc = np.ascontiguousarray(dc[:, keep])
            xc = np.ascontiguousarray(xc[:, keep])
    return x, np.array(sorted(failed), dtype=np.int64), sweeps


def _iterate(plan: Plan, data: np.ndarray, f: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """Preconditioned Richardson on the block: ``x ← x + M⁻¹ (f − A_k x)`` per sample.

    Converged samples are frozen; a sample whose residual stops shrinking, or that has not
    converged after ``max_iter`` steps, is returned in ``failed`` for a direct solve.
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
        stalled = ~(res < 0.9 * previous[active]) & ~(res <= plan.tolerance)
        failed.extend(active[stalled].tolist())
        previous[active] = res
        keep = ~(res <= plan.tolerance) & ~stalled
        if not keep.any():
            break
        active = active[keep]
        if _ == plan.max_iter:
            failed.extend(active.tolist())
            break
        step = pre.solve(np.ascontiguousarray(ra[:, keep]))
        used += int(active.size)
        x[:, active] = xa[:, keep] + step
    return x, np.array(sorted(set(failed)), dtype=np.int64), used


def _exact(plan: Plan, data: np.ndarray, f: np.ndarray, samples: np.ndarray) -> np.ndarray:
    """Refactorize ``A_k`` and solve, for each sample in ``samples``."""
    a = plan.technosphere
    out = np.empty((plan.n, samples.size))
    for i, k in enumerate(samples):
        Ak = sp.csr_matrix((data[:, k], a.indices, a.indptr), shape=a.shape)  # noqa: N806
        try:
            # block-triangular LU: substitution outside loops, SuperLU on the cyclic blocks
            lu = BTFFactorization(Ak, plan.labels)
        except SingularSystemError as exc:
            raise SingularSystemError(
                f"the sampled technosphere of iteration sample {int(k)} is singular: {exc}",
                exc.activities,
            ) from None
        x = lu.solve(f, check=False).x
        r = f - Ak @ x
        den = abs(Ak).sum(axis=1).max() * np.abs(x).max() + np.abs(f).max()
        if not np.abs(r).max() <= plan.tolerance * den:
            x = x + lu.solve(r, check=False).x
            r = f - Ak @ x
            if not np.abs(r).max() <= max(plan.tolerance, 1e-8) * den:
                raise IllConditionedError(
                    f"sampled technosphere (sample {int(k)}): relative residual "
                    f"{np.abs(r).max() / den:.3g} after refinement",
                    residual=float(np.abs(r).max() / den),
                )
        out[:, i] = x
    return out


def solve_scores(plan: Plan) -> np.ndarray:
    """Deterministic scores ``(demands, categories)``: the plan's solver on the mean values."""
    from lcasolve.montecarlo import _kernels

    a, b, c = plan.matrices()
    data = [m.deterministic() for m in plan.matrices()]
    out = np.empty((plan.F.shape[1], c.shape[0]))
    for d in range(plan.F.shape[1]):
        f = np.ascontiguousarray(plan.F[:, d])
        if plan.method == "exact":
            x = _exact(plan, data[0], f, np.arange(1))
        else:  # as accurate as the iteration gets; a direct solve if it stays above tolerance
            x, failed, _ = solve_block(replace(plan, tolerance=1e-15, max_iter=4000), data[0], f)
            if failed.size:
                r = np.empty(1)
                _kernels.relative_residuals(
                    a.indptr, a.indices, data[0], x, f, np.zeros(1, dtype=np.int64), r
                )
                if not r[0] <= plan.tolerance:
                    x = _exact(plan, data[0], f, np.arange(1))
        g = np.empty((b.shape[0], 1))
        _kernels.spmv(b.indptr, b.indices, data[1], x, g)
        h = np.empty((c.shape[0], 1))
        _kernels.spmv(c.indptr, c.indices, data[2], g, h)
        out[d] = h[:, 0]
    return out
