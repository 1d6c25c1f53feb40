"""Monte Carlo for LCA: paired draws of A, B and C, batched solves, resumable HDF5 runs.

>>> from lcasolve.montecarlo import MonteCarlo
>>> mc = MonteCarlo(system, {"steel": {4: 1.0}, "alu": {5: 1.0}})  # doctest: +SKIP
>>> res = mc.run(1000, seed=1, out="run.h5")  # doctest: +SKIP
>>> res.statistics(); res.compare("steel", "alu")  # doctest: +SKIP

Draws are keyed by (matrix, entry, iteration) with a counter-based hash, so a seed gives
bit-identical results whatever the batch size, thread count or executor; every demand and
category of a run share the draws.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Hashable, Mapping, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from lcasolve.batch import BatchSettings
from lcasolve.errors import InputError
from lcasolve.model import System
from lcasolve.montecarlo._plan import (
    Analysis,
    Deterministic,
    RunSettings,
    build_plan,
    header_for,
    outputs,
    run_design,
    validate_system,
)
from lcasolve.montecarlo._warmup import KernelWarmup, compile_kernels
from lcasolve.montecarlo.result import Comparison, MonteCarloResult, StreamingStatistics

__all__ = [
    "LARGE_TECHNOSPHERE",
    "Comparison",
    "KernelWarmup",
    "MonteCarlo",
    "MonteCarloResult",
    "StreamingStatistics",
    "compile_kernels",
    "default_batch_size",
]


class MonteCarlo:
    """Monte Carlo analysis of one system for one or several demands.

    Parameters
    ----------
    system : System
        The product system; entries with stats_arrays type > 1 vary.
    demands : mapping
        One demand ``{product id: amount}``, or named demands ``{name: {product id: amount}}``.
    categories : sequence of ids or names, optional
        Impact categories to score (default: all of the system's).
    method : {"iterative", "exact"}
        ``"iterative"``: block preconditioned iteration with the deterministic factorization,
        per-sample residual check and a direct fallback; ``"exact"``: refactorize every sample.
    batch_size : int, optional
        Samples solved together (and iterations per chunk of the output file). Results do not
        depend on it. By default :func:`default_batch_size` of the technosphere, and on
        ``run(resume=True)`` the batch size of the run file being resumed.
    threads : int, optional
        Threads (default: Numba's setting). Without an executor, :meth:`run` and
        :meth:`scores` run that many chunks side by side, each with single-threaded kernels;
        a run of one chunk splits its kernels over the threads instead.
    skip : bool
        Draw only entries that can change the scores (biosphere rows with a characterization
        factor, activities the demands reach). Results are identical either way.
    tolerance : float
        Relative residual ``‖f − A_k x‖∞ / ‖|A_k| |x| + |f|‖∞`` each sample must reach (the
        Gauss-Seidel iteration aims at a tenth of it).
    max_iter : int
        Sweeps (or preconditioned steps) before a sample falls back to a direct solve; a sample
        whose measured rate of convergence predicts more goes to the direct solve at once. 64
        Gauss-Seidel sweeps of one sample cost about one refactorization of eco20k.
    preconditioner : {"gauss-seidel", "lu"}
        ``"gauss-seidel"``: sweeps with each sample's own values, rows ordered consumers before
        suppliers (the acyclic part is exact in one sweep; no factorization, cheap per step);
        ``"lu"``: Richardson steps preconditioned with the deterministic factorization (few
        steps, each as costly as a triangular solve with the factors).
    allow_ill_conditioned : bool
        The deterministic supplies pass the check of :class:`~lcasolve.LCA` once (Skeel's
        condition, forward-error bound; :mod:`lcasolve.solve.conditioning`): above the limit
        :class:`~lcasolve.errors.IllConditionedError`, unless this is set (then, as above the
        warning level, an :class:`~lcasolve.errors.IllConditionedWarning`). Every result
        carries ``condition`` and ``error_bound``.
    """

    def __init__(
        self,
        system: System,
        demands: Mapping[Hashable, Any],
        *,
        categories: Sequence[Hashable] | None = None,
        method: str = "iterative",
        batch_size: int | None = None,
        threads: int | None = None,
        skip: bool = True,
        tolerance: float = 1e-10,
        max_iter: int = 64,
        preconditioner: str = "gauss-seidel",
        allow_ill_conditioned: bool = False,
    ) -> None:
        given = batch_size is not None
        if batch_size is None:
            batch_size = default_batch_size(int(system.technosphere.value.size))
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise InputError(f"batch_size must be a positive integer, not {batch_size!r}")
        self._batch_size_given = given
        self.system = system
        self.settings = RunSettings(
            solver=BatchSettings(
                method=method,
                preconditioner=preconditioner,
                tolerance=float(tolerance),
                max_iter=int(max_iter),
                threads=threads,
            ),
            batch_size=batch_size,
            skip=skip,
            allow_ill_conditioned=bool(allow_ill_conditioned),
        )
        demand_names, demand_list = _named_demands(demands)
        if categories is None:
            positions = list(range(system.n_categories))
        else:
            positions = [system.category_position(c) for c in categories]
        if not positions:
            raise InputError("the system has no impact categories to score")
        names = system.categories["name"].astype(str).tolist()
        units = system.categories["unit"].astype(str).tolist()
        self.analysis = Analysis(
            demand_names=demand_names,
            demands=demand_list,
            F=np.column_stack([system.demand_vector(d) for d in demand_list]),
            category_positions=positions,
            category_names=[names[i] for i in positions],
            category_units=[units[i] for i in positions],
        )
        validate_system(system)

    @cached_property
    def deterministic(self) -> Deterministic:
        """The deterministic part (factorization, supplies, scores), computed once."""
        return Deterministic.build(
            self.system, self.analysis.F, self.analysis.category_positions, self.settings
        )

    @property
    def method(self) -> str:
        """``"iterative"`` or ``"exact"``."""
        return self.settings.solver.method

    @property
    def batch_size(self) -> int:
        """Iterations per chunk."""
        return self.settings.batch_size

    @property
    def demand_names(self) -> list[str]:
        """Names of the demands."""
        return self.analysis.demand_names

    @property
    def category_names(self) -> list[str]:
        """Names of the scored categories."""
        return self.analysis.category_names

    def run(
        self,
        iterations: int,
        *,
        seed: int = 0,
        out: str | Path | None = None,
        resume: bool = False,
        overwrite: bool = False,
        record: Mapping[str, Sequence[int]] | None = None,
        design: Mapping[str, tuple[Sequence[int], np.ndarray]] | None = None,
        others: str = "sample",
        contributions: bool | Sequence[Hashable] = False,
        inventory: Sequence[Hashable] | None = None,
        thresholds: Sequence[float] = (),
        progress: bool | None = None,
        executor: Any = None,
        invalid: str = "flag",
    ) -> MonteCarloResult:
        """Run ``iterations`` Monte Carlo iterations.

        Parameters
        ----------
        iterations : int
            Number of iterations (> 0).
        seed : int
            Non-negative seed; the same seed gives bit-identical results.
        out : path, optional
            HDF5 file written per completed chunk (atomically; resumable).
        resume : bool
            Continue an interrupted run in ``out`` (same data and parameters). Chunks of the
            file, finished or not, whose checksum does not match are computed again
            (:class:`~lcasolve.errors.CorruptChunkWarning`, ``result.redone``); an altered
            header is refused.
        overwrite : bool
            Replace an existing ``out``.
        record : mapping, optional
            ``{matrix: entry indices}``; their sampled values (as they enter the matrix) are
            returned in ``result.inputs[matrix]``, shape ``(iterations, len(indices))``.
        design : mapping, optional
            ``{matrix: (entry indices, values)}`` with ``values`` of shape
            ``(iterations, len(indices))`` in the matrix sign (as ``record`` gives them),
            imposed on those entries (e.g. a SALib design).
        others : {"sample", "mean"}
            The entries not in ``design``: sampled, or at their deterministic values.
        contributions : bool or sequence of activity ids
            Keep per-activity contributions ``(C_k B_k)_qj s_kj`` of every activity (True) or of
            the given ones, as ``result.contributions`` (a pydata ``sparse`` COO array
            ``(iterations, demands, categories, activities)``; zeros are not stored).
        inventory : sequence of flow ids, optional
            Keep the inventories ``g_k = B_k s_k`` of these flows as ``result.inventory``
            ``(iterations, demands, flows)``; their biosphere entries are drawn even when no
            category characterizes them (the draws of every other entry do not change).
        thresholds : sequence of float
            Counted chunk by chunk in ``result.running`` (streaming exceedance probabilities).
        progress : bool, optional
            Show a tqdm bar (default: when stderr is a terminal).
        executor : optional
            ``concurrent.futures``-style executor or ``dask.distributed.Client``; chunks are
            submitted to it (the plan is scattered once when it has ``scatter``). Without
            one, chunks run on ``threads`` threads of this process.
        invalid : {"flag", "refuse", "drop"}
            Samples without meaning (a production amount drawn ≤ 0 — ≥ 0 for a waste treatment,
            whose diagonal is negative — or a loop drawn so that it
            no longer converges; :mod:`lcasolve.montecarlo._validity`) are always flagged in
            ``result.invalid`` and counted in ``result.n_invalid``. ``"flag"`` keeps them with
            an :class:`~lcasolve.errors.InvalidSampleWarning`; ``"refuse"`` raises
            :class:`~lcasolve.errors.InvalidSampleError` (the run file, if any, keeps the
            flags); ``"drop"`` leaves them out of the result (``result.dropped``) with a
            warning stating the count.

        Returns
        -------
        MonteCarloResult

        Raises
        ------
        InputError
            Bad iterations, seed, record, design, others, contributions or inventory.
        OutputExistsError
            ``out`` exists and neither ``resume`` nor ``overwrite`` is set.
        InvalidSampleError
            ``invalid="refuse"`` and a sample is flagged.
        IllConditionedError
            The deterministic supplies' forward-error bound is above the limit (see
            ``allow_ill_conditioned``).
        """
        from lcasolve.montecarlo import _runner, _store, _validity

        _validity.check_choice(invalid)

        if isinstance(iterations, bool) or not isinstance(iterations, (int, np.integer)):
            raise InputError(f"iterations must be a positive integer, not {iterations!r}")
        if iterations <= 0:
            raise InputError(f"iterations must be > 0, got {iterations}")
        if others not in ("sample", "mean"):
            raise InputError(f"others must be 'sample' or 'mean', not {others!r}")
        from lcasolve.uncertainty import seed_key

        seed_key(seed)
        design_index, design_values = run_design(self.system, design, int(iterations))
        contrib, flows = outputs(self.system, contributions, inventory)
        limits = tuple(float(x) for x in thresholds)
        if not all(np.isfinite(limits)):
            raise InputError(f"thresholds must be finite numbers, not {list(thresholds)}")
        det = self.deterministic
        settings = self.settings
        if resume and out is not None and not self._batch_size_given:
            # a run file keeps its chunks: go on with its batch size (an older default too)
            stored = _store.stored_batch_size(Path(out))
            if stored is not None:
                settings = dataclasses.replace(settings, batch_size=stored)
        plan = build_plan(
            self.system,
            det,
            settings,
            self.analysis.category_positions,
            others=others,
            design_index=design_index,
            seed=seed,
            record=record,
            contributions=contrib,
            inventory=flows,
        )
        header = header_for(
            self.system,
            self.analysis,
            det,
            settings,
            plan,
            iterations=int(iterations),
            others=others,
            record=record,
            design_values=design_values,
        )
        start = time.perf_counter()
        result = _runner.execute(
            plan,
            int(iterations),
            header,
            design_values,
            out=None if out is None else Path(out),
            resume=resume,
            overwrite=overwrite,
            progress=progress,
            executor=executor,
            thresholds=limits,
        )
        object.__setattr__(result, "seconds", time.perf_counter() - start)
        object.__setattr__(result, "condition", det.condition)
        object.__setattr__(result, "error_bound", det.error_bound)
        return _validity.apply(result, invalid)

    def scores(
        self,
        draws: np.ndarray,
        *,
        seed: int = 0,
        design: Mapping[str, tuple[Sequence[int], np.ndarray]] | None = None,
    ) -> np.ndarray:
        """Scores of samples with given draw numbers, in memory (no run file, no flags).

        Sample ``k`` takes draw number ``draws[k]`` of every varying entry (the same value as
        iteration ``draws[k]`` of :meth:`run` with this seed), so samples with equal draw
        numbers share every sampled entry, while ``design`` may give each sample its own values
        of some entries (e.g. entries defined by formulas of sampled parameters).

        Parameters
        ----------
        draws : array of int
            Non-negative draw number of each sample.
        seed : int
            Non-negative seed.
        design : mapping, optional
            ``{matrix: (entry indices, values)}`` with ``values`` of shape
            ``(len(draws), len(indices))`` in the matrix sign, as in :meth:`run`.

        Returns
        -------
        numpy.ndarray
            ``(len(draws), demands, categories)``.
        """
        from lcasolve.montecarlo._runner import side_by_side
        from lcasolve.uncertainty import seed_key

        seed_key(seed)
        its = np.asarray(draws)
        if its.ndim != 1 or (its.size and not np.issubdtype(its.dtype, np.integer)):
            raise InputError("draws must be a 1-D array of integer draw numbers")
        if its.size and its.min() < 0:
            raise InputError(f"draw numbers must be non-negative, got {int(its.min())}")
        k = int(its.size)
        design_index, design_values = run_design(self.system, design, k)
        plan = build_plan(
            self.system,
            self.deterministic,
            self.settings,
            self.analysis.category_positions,
            others="sample",
            design_index=design_index,
            seed=seed,
        )
        out = np.empty((k, len(self.demand_names), len(self.category_names)))
        chunks = [(s, min(k, s + self.batch_size)) for s in range(0, k, self.batch_size)]

        def args(s: int, e: int) -> tuple[Any, ...]:
            return {m: v[s:e] for m, v in design_values.items()}, its[s:e], False

        for (start, stop), res in zip(chunks, side_by_side(plan, chunks, args), strict=True):
            out[start:stop] = res["scores"]
        return out

    def __repr__(self) -> str:
        return (
            f"<MonteCarlo {len(self.demand_names)} demands x {len(self.category_names)} "
            f"categories, method {self.method!r}, batch {self.batch_size}>"
        )


#: technosphere entries above which :func:`default_batch_size` halves the batch
LARGE_TECHNOSPHERE = 100_000


def default_batch_size(entries: int) -> int:
    """The default samples per batch for a technosphere of ``entries`` stored entries.

    16, or 8 above :data:`LARGE_TECHNOSPHERE` entries. Two chunks run side by side (one per
    core), each sweeping its samples' values, ``entries × batch`` doubles: on eco20k (244k
    entries) 8 took 5.9–6.0 s for 1,000 iterations against 6.4–6.6 s for 16, on eco5k (61k)
    1.59–1.66 s against 1.53–1.54 s (2 cores, ``benchmarks/RESULTS.md``).

    Parameters
    ----------
    entries : int
        Stored technosphere entries.

    Returns
    -------
    int
    """
    return 8 if entries > LARGE_TECHNOSPHERE else 16


def _named_demands(
    demands: Mapping[Hashable, Any],
) -> tuple[list[str], list[dict[Hashable, float]]]:
    if not isinstance(demands, Mapping) or not demands:
        raise InputError("demands must be a non-empty mapping {product id: amount} or {name: ...}")
    values = list(demands.values())
    if all(isinstance(v, Mapping) for v in values):
        return [str(k) for k in demands], [dict(v) for v in values]
    if any(isinstance(v, Mapping) for v in values):
        raise InputError("demands mix amounts and named demands; use one form")
    name = " + ".join(f"{float(v):g} x {k}" for k, v in demands.items())
    return [name], [dict(demands)]
