"""Build the Monte Carlo plan of a run: which entries vary, the fixed patterns, the record."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import breadth_first_order

from lcasolve.errors import InputError, InvalidUncertaintyError, ShapeMismatchError
from lcasolve.model import System
from lcasolve.model.entries import Entries
from lcasolve.montecarlo._engine import (
    MATRICES,
    MEAN_FACTORIZATION,
    BTFPreconditioner,
    Draws,
    MatrixPlan,
    Plan,
    csr_pattern,
    deterministic_supply,
    entry_keys,
)
from lcasolve.uncertainty import validate


def entry_names(system: System, matrix: str) -> list[str]:
    """Readable label of every entry of a matrix (for error messages)."""
    e: Entries = getattr(system, matrix)
    acts = system.activities
    if matrix == "technosphere":
        pid = acts["product_id"].to_numpy()[e.row]
        aid = acts["id"].to_numpy()[e.col]
        return [
            f"technosphere entry {i} (product {p!r} into activity {a!r})"
            for i, (p, a) in enumerate(zip(pid, aid, strict=True))
        ]
    if matrix == "biosphere":
        fid = system.flows["id"].to_numpy()[e.row]
        aid = acts["id"].to_numpy()[e.col]
        return [
            f"biosphere entry {i} (flow {f!r} of activity {a!r})"
            for i, (f, a) in enumerate(zip(fid, aid, strict=True))
        ]
    cat = system.categories["name"].to_numpy()[e.row]
    fid = system.flows["id"].to_numpy()[e.col]
    return [
        f"characterization entry {i} (flow {f!r} in category {c!r})"
        for i, (c, f) in enumerate(zip(cat, fid, strict=True))
    ]


def validate_system(system: System) -> None:
    """Validate the uncertainty of every matrix; errors name the activities and flows."""
    for name in MATRICES:
        e: Entries = getattr(system, name)
        if not len(e):
            continue
        try:
            validate(e.uncertainty)
        except InvalidUncertaintyError:
            validate(e.uncertainty, names=entry_names(system, name))


def _indices(system: System, matrix: str, index: Any, what: str) -> np.ndarray:
    if matrix not in MATRICES:
        raise InputError(f"{what}: unknown matrix {matrix!r}; use one of {MATRICES}")
    idx = np.asarray(index)
    if idx.ndim != 1 or (idx.size and not np.issubdtype(idx.dtype, np.integer)):
        raise InputError(f"{what}[{matrix!r}]: entry indices must be a 1-D integer array")
    idx = idx.astype(np.int64)
    n = len(getattr(system, matrix))
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        raise InputError(f"{what}[{matrix!r}]: entry indices must be in [0, {n}), got {idx}")
    if np.unique(idx).size != idx.size:
        raise InputError(f"{what}[{matrix!r}]: entry indices repeat")
    return idx


def run_design(
    system: System, design: Mapping[str, Any] | None, iterations: int
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Check a design; return ``{matrix: indices}`` and ``{matrix: values (iterations, len)}``."""
    index: dict[str, np.ndarray] = {}
    values: dict[str, np.ndarray] = {}
    for matrix, spec in (design or {}).items():
        try:
            idx_raw, vals_raw = spec
        except (TypeError, ValueError):
            raise InputError(f"design[{matrix!r}] must be (entry indices, values)") from None
        idx = _indices(system, matrix, idx_raw, "design")
        vals = np.ascontiguousarray(vals_raw, dtype=np.float64)
        if vals.shape != (iterations, idx.size):
            raise ShapeMismatchError(
                f"design[{matrix!r}]: values must have shape (iterations, entries) = "
                f"({iterations}, {idx.size}), got {vals.shape}"
            )
        if not np.isfinite(vals).all():
            raise InputError(f"design[{matrix!r}] has non-finite values")
        index[matrix], values[matrix] = idx, vals
    return index, values


def _reach(system: System, F: np.ndarray) -> np.ndarray:  # noqa: N803
    """Activities a demand can reach through the technosphere (others have zero supply)."""
    A = system.A  # noqa: N806
    n = A.shape[0]
    graph = sp.csr_matrix(A.T, copy=True)  # edge j -> i when activity j uses product i
    graph.data = np.ones_like(graph.data)
    reach = np.zeros(n, dtype=bool)
    for start in np.flatnonzero(np.any(F != 0, axis=1)):
        if not reach[start]:
            reach[breadth_first_order(graph, int(start), return_predecessors=False)] = True
    return reach


def _matrix_plan(
    name: str,
    e: Entries,
    shape: tuple[int, int],
    row_map: np.ndarray,
    col_map: np.ndarray,
    relevant: np.ndarray,
    vary_all: bool,
    design_idx: np.ndarray,
) -> tuple[MatrixPlan, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """The plan of one matrix and the (records, keys, signs) of its varying entries."""
    keep = (row_map[e.row] >= 0) & (col_map[e.col] >= 0)
    sel = np.flatnonzero(keep)
    indptr, indices, slot = csr_pattern(row_map[e.row[sel]], col_map[e.col[sel]], shape)
    nnz = indices.shape[0]
    designed = np.isin(sel, design_idx)
    varying = vary_all & (e.uncertainty["uncertainty_type"][sel] > 1) & relevant[sel] & ~designed
    fixed = ~varying & ~designed
    base = np.bincount(slot[fixed], weights=e.value[sel[fixed]], minlength=nnz).astype(np.float64)
    by_slot = np.argsort(slot[varying], kind="stable")  # varying entries in slot order
    var = sel[varying][by_slot]
    var_slot = slot[varying][by_slot]
    column = np.full(len(e), -1, dtype=np.int64)
    column[design_idx] = np.arange(design_idx.size)
    plan = MatrixPlan(
        name=name,
        shape=shape,
        indptr=indptr,
        indices=indices,
        base=base,
        var_slot=np.ascontiguousarray(var_slot),
        var_value=e.value[var].copy(),
        design_slot=np.ascontiguousarray(slot[designed]),
        design_column=column[sel[designed]],
        design_value=e.value[sel[designed]].copy(),
    )
    draws = (e.uncertainty[var].copy(), entry_keys(name, var), np.where(e.flip[var], -1.0, 1.0))
    return plan, draws


def outputs(
    system: System,
    contributions: bool | Sequence[Any],
    inventory: Sequence[Any] | None,
) -> tuple[np.ndarray | None, np.ndarray]:
    """Activity positions of ``contributions`` (None: none) and flow positions of ``inventory``.

    Raises
    ------
    InputError
        An activity or flow id that the system does not have.
    """
    if contributions is True:
        act: np.ndarray | None = np.arange(system.n_activities, dtype=np.int64)
    elif contributions is False or contributions is None:
        act = None
    else:
        index = system.activity_index
        missing = [a for a in contributions if a not in index]
        if missing:
            raise InputError(f"contributions: activities not in the system: {missing[:10]}")
        act = np.array([index[a] for a in contributions], dtype=np.int64)
        if np.unique(act).size != act.size:
            raise InputError("contributions: activity ids repeat")
    flows = np.zeros(0, dtype=np.int64)
    if inventory is not None:
        index = system.flow_index
        missing = [f for f in inventory if f not in index]
        if missing:
            raise InputError(f"inventory: flows not in the system: {missing[:10]}")
        flows = np.array([index[f] for f in inventory], dtype=np.int64)
        if np.unique(flows).size != flows.size:
            raise InputError("inventory: flow ids repeat")
    return act, flows


def build_plan(
    mc: Any,
    *,
    others: str,
    design_index: dict[str, np.ndarray],
    seed: int = 0,
    record: Mapping[str, Sequence[int]] | None = None,
    contributions: np.ndarray | None = None,
    inventory: np.ndarray | None = None,
) -> Plan:
    """The plan of one run of a :class:`~lcasolve.montecarlo.MonteCarlo`.

    ``contributions`` and ``inventory`` are activity and flow positions (see :func:`outputs`).
    """
    system: System = mc.system
    cache = mc._cache
    n, m = system.n_activities, system.n_flows
    cats = np.asarray(mc.category_positions, dtype=np.int64)
    if "reach" not in cache:
        cache["reach"] = _reach(system, mc.F) if mc.skip else np.ones(n, dtype=bool)
        c_sel = system.C[cats]
        used_flows = np.zeros(m, dtype=bool)
        used_flows[np.unique(sp.coo_matrix(c_sel).col)] = True
        cache["flows"] = used_flows if mc.skip else np.ones(m, dtype=bool)
    ids = system.activities["id"].tolist()
    if "supply" not in cache:
        cache["supply"], lu = deterministic_supply(system.A, mc.F, ids, mc.tolerance)
        cache.setdefault("shared", {})[MEAN_FACTORIZATION] = lu
    if "order" not in cache:
        cache["order"] = sweep_order(system.A, np.abs(cache["supply"]).sum(axis=1))
    # activities are renumbered in sweep order: the plan's technosphere rows (and the columns
    # of A and B) are stored in the order the sweeps visit them, for sequential memory access
    order, c0, c1 = cache["order"]
    position = np.empty(n, dtype=np.int64)
    position[order] = np.arange(n, dtype=np.int64)
    labels = [ids[i] for i in order]
    if "preconditioner" not in cache and mc.method == "iterative" and mc.preconditioner == "lu":
        A_plan = sp.csr_matrix(system.A)[order][:, order]  # noqa: N806
        cache["preconditioner"] = BTFPreconditioner.from_matrix(A_plan, labels)
    inventory = np.zeros(0, dtype=np.int64) if inventory is None else inventory
    reach = cache["reach"]
    flows = cache["flows"].copy()
    flows[inventory] = True  # flows whose inventory is kept vary even without a CF
    flow_map = np.full(m, -1, dtype=np.int64)
    flow_map[flows] = np.arange(int(flows.sum()))
    cat_map = np.full(system.n_categories, -1, dtype=np.int64)
    cat_map[cats] = np.arange(cats.size)
    vary = others == "sample"
    empty = np.zeros(0, dtype=np.int64)
    tech, bio, char = system.technosphere, system.biosphere, system.characterization
    a, a_draws = _matrix_plan(
        "technosphere",
        tech,
        (n, n),
        position,
        position,
        reach[tech.col],
        vary,
        design_index.get("technosphere", empty),
    )
    b, b_draws = _matrix_plan(
        "biosphere",
        bio,
        (int(flows.sum()), n),
        flow_map,
        position,
        reach[bio.col],
        vary,
        design_index.get("biosphere", empty),
    )
    c, c_draws = _matrix_plan(
        "characterization",
        char,
        (cats.size, int(flows.sum())),
        cat_map,
        flow_map,
        np.ones(len(char), dtype=bool),
        vary,
        design_index.get("characterization", empty),
    )
    parts = (a_draws, b_draws, c_draws)
    draws = Draws(
        records=np.concatenate([p[0] for p in parts]),
        keys=np.concatenate([p[1] for p in parts]),
        sign=np.concatenate([p[2] for p in parts]),
        bounds=np.cumsum([0] + [len(p[0]) for p in parts]).astype(np.int64),
    )
    rec: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = {}
    for matrix, index in (record or {}).items():
        idx = _indices(system, matrix, index, "record")
        e: Entries = getattr(system, matrix)
        records = e.uncertainty[idx].copy()
        if not vary:
            records["uncertainty_type"] = 0
        column = np.full(idx.size, -1, dtype=np.int64)
        didx = design_index.get(matrix, empty)
        pos = {int(v): i for i, v in enumerate(didx)}
        for i, v in enumerate(idx):
            column[i] = pos.get(int(v), -1)
        rec[matrix] = (
            entry_keys(matrix, idx),
            records,
            np.where(e.flip[idx], -1.0, 1.0),
            e.value[idx].copy(),
            column,
        )
    return Plan(
        n=n,
        F=np.ascontiguousarray(mc.F[order]),
        technosphere=a,
        biosphere=b,
        characterization=c,
        draws=draws,
        preconditioner=cache.get("preconditioner") if mc.preconditioner == "lu" else None,
        method=mc.method,
        tolerance=mc.tolerance,
        max_iter=mc.max_iter,
        seed=int(seed),
        record=rec,
        labels=labels,
        threads=mc.threads,
        order=order,
        cycles=(c0, c1),
        x0=np.ascontiguousarray(cache["supply"][order]),
        diag_pos=_diagonal_positions(a),
        contributions=None if contributions is None else position[contributions],
        inventory_rows=flow_map[inventory],
        inventory_flows=inventory,
        shared=cache.setdefault("shared", {}),
    )


def _diagonal_positions(a: MatrixPlan) -> np.ndarray:
    """CSR position of each diagonal entry of the technosphere."""
    n = a.shape[0]
    rows = np.repeat(np.arange(n), np.diff(a.indptr))
    pos = np.full(n, -1, dtype=np.int64)
    hit = np.flatnonzero(rows == a.indices)
    pos[rows[hit]] = hit
    return pos


def sweep_order(
    A: sp.spmatrix,  # noqa: N803
    supply: np.ndarray | None = None,
) -> tuple[np.ndarray, int, int]:
    """Activities ordered consumers before suppliers, and the range of the cyclic rows.

    Components (strongly connected) follow a topological order of the component graph, so a
    Gauss-Seidel sweep solves the acyclic part of ``A`` exactly; only the cycles need further
    sweeps. Inside each cycle the activities follow a greedy minimum-feedback order
    (:func:`~lcasolve.montecarlo._kernels.greedy_order`) of the edges consumer ``j`` → supplier
    ``i`` weighted by ``|a_ij| s_j / (a_ii s_i)``, the share of ``i``'s output that ``j`` uses
    (with a supply ``s``, e.g. the deterministic one): the stale values a sweep reads then carry
    little weight, and sweeps converge faster.

    Returns
    -------
    order : numpy.ndarray
        Activity positions in sweep order.
    start, stop : int
        Positions in ``order`` of the first and one past the last activity in a cycle (equal
        when ``A`` has no cycles). Rows before ``start`` are exact after one sweep; rows from
        ``stop`` on are exact after one sweep that follows the cycles.
    """
    from scipy.sparse.csgraph import connected_components

    from lcasolve.montecarlo._kernels import greedy_order

    A = sp.csr_matrix(A)  # noqa: N806
    n = A.shape[0]
    n_comp, label = connected_components(A, directed=True, connection="strong")
    coo = A.tocoo()
    # edge consumer (column) -> supplier (row) between different components
    src, dst = label[coo.col], label[coo.row]
    keep = src != dst
    cond = sp.csr_matrix(
        (np.ones(int(keep.sum()), dtype=np.int8), (src[keep], dst[keep])), shape=(n_comp, n_comp)
    )
    cond.sum_duplicates()
    indeg = np.bincount(cond.indices, minlength=n_comp)
    stack = list(np.flatnonzero(indeg == 0))
    rank = np.empty(n_comp, dtype=np.int64)
    pos = 0
    indptr, indices = cond.indptr, cond.indices
    while stack:
        c = stack.pop()
        rank[c] = pos
        pos += 1
        for d in indices[indptr[c] : indptr[c + 1]]:
            indeg[d] -= 1
            if indeg[d] == 0:
                stack.append(d)
    inner = np.arange(n, dtype=np.int64)
    size = np.bincount(label, minlength=n_comp)
    cyclic = size[label] > 1
    if cyclic.any():
        s = np.ones(n) if supply is None else np.abs(np.asarray(supply, dtype=np.float64))
        s = np.where(s > 0, s, 0.0)
        within = (src == dst) & (coo.row != coo.col) & cyclic[coo.row]
        i, j = coo.row[within], coo.col[within]
        diag = np.abs(A.diagonal())
        den = diag[i] * s[i]
        w = np.divide(np.abs(coo.data[within]) * s[j], den, out=np.zeros(i.size), where=den > 0)
        by_src = sp.csr_matrix((w, (j, i)), shape=(n, n))  # u = consumer j -> v = supplier i
        by_dst = sp.csr_matrix((w, (i, j)), shape=(n, n))
        for m in (by_src, by_dst):
            m.sort_indices()
        inner[
            greedy_order(
                n,
                by_src.indptr.astype(np.int64),
                by_src.indices.astype(np.int64),
                by_src.data,
                by_dst.indptr.astype(np.int64),
                by_dst.indices.astype(np.int64),
                by_dst.data,
            )
        ] = np.arange(n)
    order = np.lexsort((inner, rank[label])).astype(np.int64)
    where = np.flatnonzero(cyclic[order])
    if not where.size:
        return order, n, n
    return order, int(where[0]), int(where[-1]) + 1


def deterministic(mc: Any, plan: Plan) -> np.ndarray:
    """Scores ``(demands, categories)`` with every entry at its deterministic value."""
    if "deterministic" not in mc._cache:
        from lcasolve.montecarlo._engine import solve_scores

        mc._cache["deterministic"] = solve_scores(plan)
    return mc._cache["deterministic"]


def database_hash(system: System) -> str:
    """SHA-256 of the matrices (positions, values, flips, uncertainty)."""
    h = hashlib.sha256()
    for name in MATRICES:
        e: Entries = getattr(system, name)
        h.update(name.encode())
        h.update(np.asarray(e.shape, dtype=np.int64).tobytes())
        for arr in (e.row, e.col, e.value, e.flip, e.uncertainty):
            h.update(np.ascontiguousarray(arr).tobytes())
    return h.hexdigest()


def header_for(
    mc: Any,
    plan: Plan,
    iterations: int,
    seed: int,
    others: str,
    record: Mapping[str, Sequence[int]] | None,
    design_values: dict[str, np.ndarray],
) -> dict[str, Any]:
    """Metadata written to (and checked on resume of) a run file."""
    import numba
    import scipy

    import lcasolve

    if "hash" not in mc._cache:
        mc._cache["hash"] = database_hash(mc.system)
    design_hash = hashlib.sha256()
    for key in sorted(design_values):
        design_hash.update(key.encode())
        design_hash.update(design_values[key].tobytes())
    return {
        "seed": int(seed),
        "iterations": int(iterations),
        "batch_size": int(mc.batch_size),
        "method": mc.method,
        "others": others,
        "database_hash": mc._cache["hash"],
        "demand_names": list(mc.demand_names),
        "category_names": list(mc.category_names),
        "category_units": list(mc.category_units),
        "deterministic": deterministic(mc, plan),
        "record": {
            k: np.asarray(v[0] & np.uint64(2**48 - 1), dtype=np.int64).tolist()
            for k, v in plan.record.items()
        },
        "contribution_activities": None
        if plan.contributions is None
        else _plain(
            mc.system.activities["id"].to_numpy(dtype=object)[plan.order[plan.contributions]]
        ),
        "inventory_flows": _plain(
            mc.system.flows["id"].to_numpy(dtype=object)[plan.inventory_flows]
        ),
        "versions": {
            "lcasolve": lcasolve.__version__,
            "numpy": np.__version__,
            "scipy": scipy.__version__,
            "numba": numba.__version__,
        },
        "parameters": json.loads(
            json.dumps(
                {
                    "demands": [{str(k): float(v) for k, v in d.items()} for d in mc.demands],
                    "categories": list(mc.category_names),
                    "skip": bool(mc.skip),
                    "preconditioner": mc.preconditioner,
                    "tolerance": mc.tolerance,
                    "max_iter": mc.max_iter,
                    "record": {k: [int(i) for i in v] for k, v in (record or {}).items()},
                    "contributions": None
                    if plan.contributions is None
                    else plan.order[plan.contributions].tolist(),
                    "inventory": plan.inventory_flows.tolist(),
                    "design_sha256": design_hash.hexdigest(),
                }
            )
        ),
    }


def _plain(ids: np.ndarray) -> list[Any]:
    """Ids as plain Python values (numpy scalars unwrapped) for JSON metadata."""
    return [x.item() if isinstance(x, np.generic) else x for x in ids.tolist()]
