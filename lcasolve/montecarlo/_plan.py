"""Build the Monte Carlo plan of a run: which entries vary, the fixed patterns, the record."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypedDict

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import breadth_first_order

from lcasolve.batch import Baseline, BatchSettings, Pattern
from lcasolve.errors import InputError, InvalidUncertaintyError, ShapeMismatchError
from lcasolve.model import System
from lcasolve.model.entries import Entries
from lcasolve.montecarlo._engine import MATRICES, Draws, MatrixPlan, Plan, entry_keys
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
    pattern: Pattern | None = None,
) -> tuple[MatrixPlan, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """The plan of one matrix and the (records, keys, signs) of its varying entries.

    The entries' positions make the CSR pattern, unless ``pattern`` gives it (the baseline's
    technosphere).
    """
    keep = (row_map[e.row] >= 0) & (col_map[e.col] >= 0)
    sel = np.flatnonzero(keep)
    rows, cols = row_map[e.row[sel]], col_map[e.col[sel]]
    if pattern is None:
        pattern, slot = Pattern.from_entries(rows, cols, shape)
    else:
        slot = pattern.locate(rows, cols)
    indptr, indices = pattern.indptr, pattern.indices
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


@dataclass(frozen=True)
class RunSettings:
    """How a :class:`~lcasolve.montecarlo.MonteCarlo` runs (see its parameters).

    Attributes
    ----------
    solver : BatchSettings
        Method, preconditioner, tolerance, iterations and threads of the batched solves.
    batch_size : int
        Iterations per chunk.
    skip : bool
        Draw only the entries that can change the scores.
    allow_ill_conditioned : bool
        Warn instead of refusing a deterministic solution whose forward-error bound is above
        the limit (as :class:`~lcasolve.LCA`'s option).
    """

    solver: BatchSettings
    batch_size: int = 16
    skip: bool = True
    allow_ill_conditioned: bool = False


@dataclass(frozen=True, eq=False)
class Deterministic:
    """The deterministic part of an analysis, computed once and shared by its runs.

    Attributes
    ----------
    baseline : Baseline
        Factorization, supplies and sweep order of the deterministic technosphere.
    reach : numpy.ndarray
        Activities the demands can reach (all when ``skip`` is off).
    flows : numpy.ndarray
        Flows with a characterization factor in the scored categories (all without ``skip``).
    scores : numpy.ndarray
        Deterministic scores ``(demands, categories)``.
    database_hash : str
        :func:`database_hash` of the system.
    condition : float
        Skeel's condition of the technosphere (:mod:`lcasolve.solve.conditioning`).
    error_bound : float
        Bound of the relative forward error of the deterministic supplies (worst demand).
    """

    baseline: Baseline
    reach: np.ndarray
    flows: np.ndarray
    scores: np.ndarray
    database_hash: str
    condition: float = float("nan")
    error_bound: float = float("nan")

    @classmethod
    def build(
        cls,
        system: System,
        F: np.ndarray,  # noqa: N803
        categories: Sequence[int],
        settings: RunSettings,
    ) -> Deterministic:
        """Solve every demand with the deterministic values and prepare the sweeps.

        The supplies pass the check of :class:`~lcasolve.LCA` (Skeel's condition and the
        forward-error bound, :func:`~lcasolve.solve.conditioning.solution_accuracy`) once,
        with the factorization the samples' solves use.

        Raises
        ------
        IllConditionedError
            The bound is above the limit and ``settings.allow_ill_conditioned`` is not set
            (above the warning level: an :class:`~lcasolve.errors.IllConditionedWarning`).
        """
        from lcasolve.solve.conditioning import solution_accuracy

        n, m = system.n_activities, system.n_flows
        cats = np.asarray(categories, dtype=np.int64)
        ids = system.activities["id"].tolist()
        baseline = Baseline.build(system.A, F, ids, settings.solver.tolerance)
        X = baseline.supply[baseline.position]  # noqa: N806 - the system's activity order
        # with the factorization the supplies came from (the one in sweep order is built only
        # when a sample falls back to it)
        lu = baseline.caller_factorization
        assert lu is not None  # set by build
        condition, bound = solution_accuracy(
            lu,
            X,
            baseline.demands[baseline.position],
            allow=settings.allow_ill_conditioned,
            stacklevel=7,  # past build, .deterministic and its cached_property, .run
        )
        flows = np.ones(m, dtype=bool)
        reach = np.ones(n, dtype=bool)
        if settings.skip:
            reach = _reach(system, F)
            flows = np.zeros(m, dtype=bool)
            flows[np.unique(sp.coo_matrix(system.C[cats]).col)] = True
        scores = np.asarray((system.C[cats] @ (system.B @ X)).T)
        return cls(baseline, reach, flows, scores, database_hash(system), condition, bound)


def build_plan(
    system: System,
    det: Deterministic,
    settings: RunSettings,
    categories: Sequence[int],
    *,
    others: str,
    design_index: dict[str, np.ndarray],
    seed: int = 0,
    record: Mapping[str, Sequence[int]] | None = None,
    contributions: np.ndarray | None = None,
    inventory: np.ndarray | None = None,
) -> Plan:
    """The plan of one run: which entries vary, their patterns, the recorded entries.

    ``contributions`` and ``inventory`` are activity and flow positions (see :func:`outputs`).
    """
    n, m = system.n_activities, system.n_flows
    cats = np.asarray(categories, dtype=np.int64)
    # activities are renumbered in the baseline's sweep order: the plan's technosphere rows (and
    # the columns of A and B) are stored in the order the sweeps visit them
    position = det.baseline.position
    inventory = np.zeros(0, dtype=np.int64) if inventory is None else inventory
    reach = det.reach
    flows = det.flows.copy()
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
        det.baseline.pattern,
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
        baseline=det.baseline,
        settings=settings.solver,
        technosphere=a,
        biosphere=b,
        characterization=c,
        draws=draws,
        seed=int(seed),
        record=rec,
        contributions=None if contributions is None else position[contributions],
        inventory_rows=flow_map[inventory],
        inventory_flows=inventory,
    )


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


@dataclass(frozen=True, eq=False)
class Analysis:
    """What an analysis computes: its demands and categories (checked, with names).

    Attributes
    ----------
    demand_names : list of str
    demands : list of dict
        ``{product id: amount}`` per demand.
    F : numpy.ndarray
        Demand vectors ``(activities, demands)``.
    category_positions : list of int
    category_names, category_units : list of str
    """

    demand_names: list[str]
    demands: list[dict[Any, float]]
    F: np.ndarray  # noqa: N815
    category_positions: list[int]
    category_names: list[str]
    category_units: list[str]


class RunHeader(TypedDict):
    """Metadata of a run, written to (and checked on resume of) a run file."""

    seed: int
    iterations: int
    batch_size: int
    method: str
    others: str
    database_hash: str
    demand_names: list[str]
    category_names: list[str]
    category_units: list[str]
    deterministic: np.ndarray
    record: dict[str, list[int]]
    contribution_activities: list[Any] | None
    inventory_flows: list[Any]
    versions: dict[str, str]
    parameters: dict[str, Any]


def header_for(
    system: System,
    analysis: Analysis,
    det: Deterministic,
    settings: RunSettings,
    plan: Plan,
    *,
    iterations: int,
    others: str,
    record: Mapping[str, Sequence[int]] | None,
    design_values: dict[str, np.ndarray],
) -> RunHeader:
    """The header of a run file."""
    import numba
    import scipy

    import lcasolve

    design_hash = hashlib.sha256()
    for key in sorted(design_values):
        design_hash.update(key.encode())
        design_hash.update(design_values[key].tobytes())
    order = det.baseline.order
    solver = settings.solver
    return {
        "seed": int(plan.seed),
        "iterations": int(iterations),
        "batch_size": int(settings.batch_size),
        "method": solver.method,
        "others": others,
        "database_hash": det.database_hash,
        "demand_names": list(analysis.demand_names),
        "category_names": list(analysis.category_names),
        "category_units": list(analysis.category_units),
        "deterministic": det.scores,
        "record": {
            k: np.asarray(v[0] & np.uint64(2**48 - 1), dtype=np.int64).tolist()
            for k, v in plan.record.items()
        },
        "contribution_activities": None
        if plan.contributions is None
        else _plain(system.activities["id"].to_numpy(dtype=object)[order[plan.contributions]]),
        "inventory_flows": _plain(system.flows["id"].to_numpy(dtype=object)[plan.inventory_flows]),
        "versions": {
            "lcasolve": lcasolve.__version__,
            "numpy": np.__version__,
            "scipy": scipy.__version__,
            "numba": numba.__version__,
        },
        "parameters": json.loads(
            json.dumps(
                {
                    "demands": [{str(k): float(v) for k, v in d.items()} for d in analysis.demands],
                    "categories": list(analysis.category_names),
                    "skip": bool(settings.skip),
                    "preconditioner": solver.preconditioner,
                    "tolerance": solver.tolerance,
                    "max_iter": solver.max_iter,
                    "record": {k: [int(i) for i in v] for k, v in (record or {}).items()},
                    "contributions": None
                    if plan.contributions is None
                    else order[plan.contributions].tolist(),
                    "inventory": plan.inventory_flows.tolist(),
                    "design_sha256": design_hash.hexdigest(),
                }
            )
        ),
    }


def _plain(ids: np.ndarray) -> list[Any]:
    """Ids as plain Python values (numpy scalars unwrapped) for JSON metadata."""
    return [x.item() if isinstance(x, np.generic) else x for x in ids.tolist()]
