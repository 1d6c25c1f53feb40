"""The Monte Carlo plan: varying entries of A, B and C on fixed CSR patterns, and chunk runs.

A :class:`Plan` holds plain arrays and the run's :class:`~lcasolve.batch.Baseline` (picklable,
sent once to executor workers). :func:`run_chunk` computes iterations ``[start, stop)``: draw
every varying entry with the counter-based RNG (keyed by matrix, entry and iteration), scatter
the draws into per-sample matrix values, solve ``A_k s_k = f`` for every sample and demand with
the batched engine (:func:`lcasolve.batch.solve_batch`), and score ``h_k = C_k B_k s_k``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import cached_property
from typing import TypedDict

import numpy as np

from lcasolve.batch import Baseline, BatchSettings, Pattern, solve_batch
from lcasolve.montecarlo._validity import sample_flags
from lcasolve.uncertainty import numba_threads, sample_records, seed_key

MATRICES = ("technosphere", "biosphere", "characterization")
_FLOAT_FIELDS = ("loc", "scale", "shape", "minimum", "maximum")
#: high bits of the RNG entry key per matrix: draws of different matrices never share a stream
_MATRIX_KEY = {name: np.uint64(i) << np.uint64(48) for i, name in enumerate(MATRICES)}


def entry_keys(matrix: str, index: np.ndarray) -> np.ndarray:
    """RNG keys of entries ``index`` of ``matrix``."""
    return np.asarray(index, dtype=np.uint64) | _MATRIX_KEY[matrix]


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

    @property
    def pattern(self) -> Pattern:
        """The CSR pattern the values are given on."""
        return Pattern(self.shape, self.indptr, self.indices)

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
        free = np.ones(self.nnz, dtype=bool)
        free[slots] = False
        fixed = np.flatnonzero(free)  # np.setdiff1d's result, without its hashing (0.04 s)
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
        out[fixed] = self.base[fixed, None]
        _kernels.sample_into(  # type: ignore[call-arg]  # columns: a tuple of 9 arrays
            *draws.columns(matrix), seed_key, iterations, ptr, slots, self.base, out
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


@dataclass(frozen=True, eq=False)
class Plan:
    """Everything a worker needs to compute chunks of iterations of one run (picklable).

    Activities are numbered in the baseline's sweep order: positions in ``contributions`` and
    the technosphere and biosphere columns are sweep positions (``baseline.order[p]`` is the
    system's position of sweep position ``p``). ``contributions`` holds the activity positions
    whose per-activity contributions are kept (None: none); ``inventory_flows`` the flow
    positions whose inventories are kept and ``inventory_rows`` their rows in the biosphere
    plan. ``record`` maps a matrix to the (RNG keys, records, signs, deterministic values,
    design columns) of its recorded entries.
    """

    baseline: Baseline
    settings: BatchSettings
    technosphere: MatrixPlan
    biosphere: MatrixPlan
    characterization: MatrixPlan
    draws: Draws
    seed: int
    record: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]]
    contributions: np.ndarray | None = None
    inventory_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    inventory_flows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    @property
    def n(self) -> int:
        """Activities."""
        return self.baseline.n

    @property
    def n_demands(self) -> int:
        """Demands of the run."""
        return int(self.baseline.demands.shape[1])

    def matrices(self) -> tuple[MatrixPlan, MatrixPlan, MatrixPlan]:
        """A, B and C plans."""
        return self.technosphere, self.biosphere, self.characterization


class ChunkContributions(TypedDict):
    """Nonzero per-activity contributions of a chunk.

    ``coords`` ``(4, nnz)``: iteration, demand, category and selected activity of each value in
    ``data``.
    """

    coords: np.ndarray
    data: np.ndarray


class ChunkResult(TypedDict):
    """The results of iterations ``[start, stop)`` of a run (what the run file stores).

    ``scores`` ``(K, demands, categories)``; ``inputs`` the recorded matrix values per matrix
    ``(K, len)``; ``contributions`` or None when none are kept; ``inventory``
    ``(K, demands, flows)`` of the kept flows; ``invalid`` the flags ``(K,)`` of samples
    without meaning (:mod:`lcasolve.montecarlo._validity`); ``n_fallback`` the sample-demand
    solves that
    went to the fallback solver; ``preconditioner_solves`` the sweeps or preconditioner
    applications; ``timing`` the seconds spent sampling, solving and on the rest.
    """

    start: int
    stop: int
    scores: np.ndarray
    inputs: dict[str, np.ndarray]
    contributions: ChunkContributions | None
    inventory: np.ndarray
    invalid: np.ndarray
    n_fallback: int
    preconditioner_solves: int
    timing: dict[str, float]


def run_chunk(
    plan: Plan,
    start: int,
    stop: int,
    design: dict[str, np.ndarray] | None = None,
    draws: np.ndarray | None = None,
    flags: bool = True,
) -> ChunkResult:
    """Compute iterations ``[start, stop)``; ``design`` holds this chunk's designed values.

    Iteration ``k`` takes draw number ``k`` of every varying entry, or ``draws[k - start]``
    when ``draws`` is given (samples that must share their draws, e.g. a Sobol design).
    Without ``flags`` the samples are not checked for meaning (``invalid`` all zero): the
    check factorizes every sample whose supplies come out negative.
    """
    design = design or {}
    its = (
        np.arange(start, stop, dtype=np.int64)
        if draws is None
        else np.ascontiguousarray(draws, dtype=np.int64)
    )
    K = its.shape[0]
    timing = {"sample": 0.0, "solve": 0.0, "other": 0.0}
    with numba_threads(plan.settings.threads):
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
        _, b, c = plan.matrices()
        n_dem = plan.n_demands
        scores = np.empty((K, n_dem, c.shape[0]))
        inventory = np.empty((K, n_dem, plan.inventory_rows.size))
        pieces: list[tuple[np.ndarray, np.ndarray]] = []
        n_fallback = 0
        solves = 0
        supplies = []
        for d in range(n_dem):
            t1 = time.perf_counter()
            sol = solve_batch(plan.baseline, plan.settings, data[0], d)
            n_fallback += int(sol.fallback.size)
            solves += sol.solves
            x = sol.supply
            supplies.append(x)
            t2 = time.perf_counter()
            timing["solve"] += t2 - t1
            g = b.pattern.multiply(data[1], x)
            scores[:, d, :] = c.pattern.multiply(data[2], g).T
            inventory[:, d, :] = g[plan.inventory_rows].T
            if plan.contributions is not None:
                pieces.append(_contributions(plan, data, x, d, start))
            timing["other"] += time.perf_counter() - t2
        t2 = time.perf_counter()
        base = plan.baseline
        invalid = np.zeros(K, dtype=np.uint8)
        if flags:
            invalid = sample_flags(
                data[0], base.diag_pos, base.pattern, base.demands, supplies,
                base.values[base.diag_pos],
            )  # fmt: skip
        timing["other"] += time.perf_counter() - t2
    contrib: ChunkContributions | None = None
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
        "invalid": invalid,
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


def solve_scores(plan: Plan) -> np.ndarray:
    """Deterministic scores ``(demands, categories)`` from the baseline's supplies."""
    _, b, c = plan.matrices()
    B = b.pattern.matrix(b.deterministic()[:, 0])  # noqa: N806
    C = c.pattern.matrix(c.deterministic()[:, 0])  # noqa: N806
    return np.asarray((C @ (B @ plan.baseline.supply)).T)
