"""Scores for many parameter samples at once: one batch, or a partitioned foreground.

``full``: every sample's technosphere is the deterministic one with the formula entries
replaced; all samples are solved as one batch by :mod:`lcasolve.batch`. ``partitioned``: when the
formula entries sit in a small foreground ``F`` — the columns they change and the demanded
products, closed under "is consumed by" so that no other activity takes in a foreground product —
the background ``B`` is solved once (its adjoint ``λ_B``, the all-activity scores) and each sample
solves only ``A_FF s_F = f_F``; then ``h = (C B_F − λ_Bᵀ A_BF) s_F`` exactly (bw2calc's
``PartitionedMonteCarloLCA`` idea). ``auto`` takes the partition when ``F`` has at most
:data:`PARTITION_LIMIT` activities and no characterization factor is a formula.

Accuracy: before the first batch, the deterministic system is solved by
:meth:`LCA.calculate <lcasolve.lca.LCA.calculate>` with its checks, among them the
forward-error bound (:mod:`lcasolve.solve.conditioning`: a warning above
``error_bound_warning``, a refusal above ``error_bound_limit`` unless
``allow_ill_conditioned``); the partitioned method also checks the bound of its adjoint
``λ``, which enters every sample's score. Every variant's own solve is checked by its
residual; its condition is not estimated (that would need a factorization per variant), so
a sample that moves a loop's gain close to 1 is caught only when its residual misses the
tolerance. The warnings of the deterministic solve (and of the adjoint) are given again by
every call of :meth:`ParameterBatch.scores`, not only by the one that computed them.

:func:`cached_batch` keeps one batch per system, demand and settings on the (immutable) system,
so that analyses run one after another on one model — a Monte Carlo, then Sobol indices —
solve its background once, as lca_algebraic keeps its background scores.
"""

from __future__ import annotations

import warnings
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from lcasolve.errors import IllConditionedError, InputError

__all__ = ["PARTITION_LIMIT", "SPARSE_SHARE", "ParameterBatch", "cached_batch"]

#: largest foreground solved densely per sample by the partitioned method
PARTITION_LIMIT = 200
#: at most this share of the technosphere's values changed per sample: solved as changes
#: (:func:`lcasolve.batch.solve_changes`) instead of one full copy of the values per sample
SPARSE_SHARE = 0.05


@dataclass(frozen=True, eq=False)
class ParameterBatch:
    """Scores of one functional unit for many parameter samples; build once, call many times.

    Attributes
    ----------
    system : System
        A system with parameters.
    demand : Mapping
        ``{product id: amount}``.
    tolerance : float
        Relative residual every sample's solve must reach.
    allow_ill_conditioned : bool
        Warn instead of refusing when the deterministic solve's forward-error bound (or the
        partitioned adjoint's) is above the limit (see the module documentation).
    """

    system: Any
    demand: Mapping[Hashable, float]
    tolerance: float = 1e-10
    allow_ill_conditioned: bool = False
    _cache: dict[str, Any] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.system.n_categories == 0:
            raise InputError("the system has no impact category")

    @cached_property
    def f(self) -> np.ndarray:
        """The demand vector."""
        return np.asarray(self.system.demand_vector(self.demand), dtype=np.float64)

    @cached_property
    def foreground(self) -> np.ndarray | None:
        """Positions of the partition's foreground, or None when it is not applicable."""
        params = self.system.parameters
        if params is None or any(e.matrix == "characterization" for e in params.entries):
            return None
        A = self.system.A.tocsr()  # noqa: N806 - rows are products
        members = {int(e.col) for e in params.entries}
        members.update(int(i) for i in np.flatnonzero(self.f))
        stack = list(members)
        while stack:
            i = stack.pop()
            for j in A.indices[A.indptr[i] : A.indptr[i + 1]]:
                if int(j) not in members:
                    members.add(int(j))
                    stack.append(int(j))
                    if len(members) > PARTITION_LIMIT:
                        return None
        return np.asarray(sorted(members), dtype=np.int64)

    def scores(self, values: Mapping[Hashable, object], method: str = "auto") -> np.ndarray:
        """Scores ``(K, categories)`` for parameter values (numbers or K samples each).

        Parameters
        ----------
        values : Mapping
            Parameter (``"NAME"``, ``"PROCESS_ID/NAME"``, ``(scope, name)``) -> value or 1-d
            array of K samples; parameters not given keep their values.
        method : {"auto", "full", "partitioned"}
            See the module documentation.

        Returns
        -------
        numpy.ndarray
            One row per sample (one row when every value is a number).
        """
        if method not in ("auto", "full", "partitioned"):
            raise InputError(f"method must be 'auto', 'full' or 'partitioned', not {method!r}")
        params = self.system.parameters
        if params is None:
            raise InputError("the system has no parameters")
        point = params.evaluate(values)
        k = max((np.shape(v)[0] for v in point.values() if np.ndim(v)), default=1)
        entries = {
            m: (i, np.broadcast_to(v.reshape(len(i), -1), (len(i), k)))
            for m, (i, v) in params.entry_values(point).items()
        }
        if method == "partitioned" and self.foreground is None:
            raise InputError(
                "the partitioned method needs a foreground of at most "
                f"{PARTITION_LIMIT} activities that no other activity consumes, and no "
                "characterization factor defined by a formula"
            )
        if method == "partitioned" or (method == "auto" and self.foreground is not None):
            self._prepare("_lca", "_partition")
            return self._partitioned(entries, k)
        self._prepare("_lca", "_baseline")
        return self._full(entries, k)

    def _prepare(self, *names: str) -> None:
        """Compute the cached steps ``names`` once; give their warnings on every call."""
        store: dict[str, list[warnings.WarningMessage]] = self._cache.setdefault("warnings", {})
        for name in names:
            if name in store:
                _replay(store[name])
                continue
            caught: list[warnings.WarningMessage] = []
            try:
                with warnings.catch_warnings(record=True) as caught:  # type: ignore[assignment]
                    warnings.simplefilter("always")
                    getattr(self, name)
            finally:
                _replay(caught)  # after the recording: under the caller's filters
            store[name] = list(caught)

    def entry_scores(self, entries: Mapping[str, tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
        """Scores ``(K, categories)`` with matrix entries replaced (one full batch).

        Parameters
        ----------
        entries : Mapping
            Matrix name -> (entry indices, values ``(n, K)`` in matrix sign), e.g.
            :attr:`ExchangeScenarios.entries`.

        Returns
        -------
        numpy.ndarray
        """
        k = max((np.shape(v)[1] for _, v in entries.values()), default=1)
        self._prepare("_lca", "_baseline")
        return self._full(entries, k)

    @cached_property
    def _lca(self) -> Any:
        """The deterministic system's LCA, its supply checked (productive, finite, accurate)."""
        from lcasolve.lca import LCA

        lca = LCA(self.system, allow_ill_conditioned=self.allow_ill_conditioned)
        lca.calculate(self.demand)
        return lca

    # ------------------------------------------------------------------ full batch
    @cached_property
    def _baseline(self) -> Any:
        from lcasolve.batch import Baseline

        labels = list(self.system.activities["id"])
        fact = self._lca.factorization
        return Baseline.build(self.system.A, self.f, labels, self.tolerance, fact)

    def _full(self, entries: Mapping[str, tuple[np.ndarray, np.ndarray]], k: int) -> np.ndarray:
        from lcasolve.batch import BatchSettings, solve_batch, solve_changes

        system, base = self.system, self._baseline
        settings = BatchSettings(tolerance=self.tolerance)
        # the changes only, (slot, variant, value - deterministic value): no (entries, k)
        # temporary of differences, which for 100 scenarios of eco20k is 180 MB of fresh memory
        slots = variants = np.zeros(0, dtype=np.int64)
        deltas = np.zeros(0)
        if "technosphere" in entries:
            index, vals = entries["technosphere"]
            tech = system.technosphere
            pos = base.position
            vals = np.broadcast_to(np.asarray(vals, dtype=np.float64), (len(index), k))
            fixed = tech.value[index]
            at, variants = np.nonzero(vals != fixed[:, None])
            deltas = vals[at, variants] - fixed[at]
            slots = base.pattern.locate(pos[tech.row[index[at]]], pos[tech.col[index[at]]])
        if slots.size <= SPARSE_SHARE * base.pattern.nnz * k:
            # few changes per variant (scenarios): the sweeps stream one matrix, not k
            sweep = solve_changes(base, settings, slots, variants, deltas, k).supply
        else:
            data = np.repeat(base.values[:, None], k, axis=1)
            np.add.at(data, (slots, variants), deltas)
            sweep = solve_batch(base, settings, data, 0).supply
        s = np.empty_like(sweep)
        s[base.order] = sweep
        g = system.B @ s
        if "biosphere" in entries:
            index, vals = entries["biosphere"]
            bio = system.biosphere
            np.add.at(g, bio.row[index], (vals - bio.value[index][:, None]) * s[bio.col[index]])
        h = system.C @ g
        if "characterization" in entries:
            index, vals = entries["characterization"]
            cf = system.characterization
            np.add.at(h, cf.row[index], (vals - cf.value[index][:, None]) * g[cf.col[index]])
        return np.asarray(h.T)

    # ------------------------------------------------------------------ partitioned
    @cached_property
    def _partition(self) -> dict[str, Any]:
        from lcasolve import equations

        system = self.system
        fg = self.foreground
        assert fg is not None
        n = system.n_activities
        where = np.full(n, -1, dtype=np.int64)
        where[fg] = np.arange(fg.size)
        lca = self._lca
        cB = np.asarray(system.CB.T.toarray())  # noqa: N806 - (n, k)
        adjoint = equations.adjoint(lca.factorization, cB).x
        lca._accuracy_transposed(cB, adjoint)  # λ enters every sample's score
        lam = np.asarray(adjoint).reshape(n, -1)
        A = system.A.tocsc()  # noqa: N806
        a_ff = A[fg][:, fg].toarray()
        background = np.ones(n, dtype=bool)
        background[fg] = False
        lam_b = np.where(background[:, None], lam, 0.0)
        w = np.asarray(system.CB[:, fg].toarray()) - (A[:, fg].T @ lam_b).T
        return {"where": where, "a_ff": a_ff, "w": w, "lam": lam, "f": self.f[fg]}

    def _partitioned(
        self, entries: Mapping[str, tuple[np.ndarray, np.ndarray]], k: int
    ) -> np.ndarray:
        from lcasolve.parameters import _kernels

        system, part = self.system, self._partition
        where = part["where"]
        nq = part["w"].shape[0]
        # one array of every formula entry's values (matrix sign) and their deterministic
        # values: the kernel forms each change value - base itself (no (e, K) temporaries)
        values: list[np.ndarray] = []
        bases: list[np.ndarray] = []
        none = np.zeros(0, dtype=np.int64)
        in_at = in_row = in_col = none
        out_at: list[np.ndarray] = [none]
        out_col: list[np.ndarray] = [none]
        out_coef: list[np.ndarray] = [np.zeros((0, nq))]
        if "technosphere" in entries:
            index, vals = entries["technosphere"]
            tech = system.technosphere
            values.append(vals)
            bases.append(tech.value[index])
            rows, cols = where[tech.row[index]], where[tech.col[index]]
            inside = rows >= 0
            at = np.arange(index.size, dtype=np.int64)
            in_at, in_row, in_col = at[inside], rows[inside], cols[inside]
            # an input from the background enters the scores through its adjoint: -λ_r
            out_at.append(at[~inside])
            out_col.append(cols[~inside])
            out_coef.append(-part["lam"][tech.row[index][~inside]])
        if "biosphere" in entries:
            index, vals = entries["biosphere"]
            bio = system.biosphere
            out_at.append(sum(len(b) for b in bases) + np.arange(index.size, dtype=np.int64))
            values.append(vals)
            bases.append(bio.value[index])
            out_col.append(where[bio.col[index]])
            out_coef.append(np.asarray(system.C.tocsc()[:, bio.row[index]].T.toarray()))
        if len(values) == 1:
            value = np.ascontiguousarray(values[0], dtype=np.float64)
        else:
            value = np.zeros((0, k)) if not values else np.vstack(values).astype(np.float64)
        value = np.ascontiguousarray(np.broadcast_to(value, (value.shape[0], k)))
        base = np.ascontiguousarray(np.concatenate([np.zeros(0), *bases]), dtype=np.float64)
        h = np.empty((k, nq))
        worst = np.empty(k)
        # the columns where each row of a sample's foreground matrix can be nonzero
        pattern = part["a_ff"] != 0.0
        pattern[in_row, in_col] = True
        m_ptr = np.concatenate(([0], np.cumsum(pattern.sum(axis=1)))).astype(np.int64)
        m_idx = np.nonzero(pattern)[1].astype(np.int64)
        _kernels.foreground_scores(
            np.ascontiguousarray(part["a_ff"], dtype=np.float64),
            np.ascontiguousarray(part["w"], dtype=np.float64),
            np.ascontiguousarray(part["f"], dtype=np.float64),
            value,
            base,
            np.ascontiguousarray(in_at, dtype=np.int64),
            np.ascontiguousarray(in_row, dtype=np.int64),
            np.ascontiguousarray(in_col, dtype=np.int64),
            np.concatenate(out_at).astype(np.int64),
            np.concatenate(out_col).astype(np.int64),
            np.ascontiguousarray(np.vstack(out_coef), dtype=np.float64),
            m_ptr,
            m_idx,
            h,
            worst,
        )
        largest = float(worst.max()) if k and part["a_ff"].shape[0] else 0.0
        if not largest <= self.tolerance:
            raise IllConditionedError(
                f"a foreground solve of the partitioned batch has relative residual {largest:.2e}",
                largest,
            )
        return h


def _replay(caught: list[warnings.WarningMessage]) -> None:
    for w in caught:
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno, source=w.source)


def cached_batch(
    system: Any,
    demand: Mapping[Hashable, float],
    *,
    tolerance: float = 1e-10,
    allow_ill_conditioned: bool = False,
) -> ParameterBatch:
    """The :class:`ParameterBatch` of ``system`` for ``demand``, kept on the system for reuse.

    A system is immutable, so its deterministic solve, partition and adjoint hold for every
    later analysis with the same demand, settings and options in force
    (:func:`lcasolve.set_options`: solver, accuracy limits); the batch lives as long as the
    system (the last :data:`CACHED_BATCHES` are kept).

    Parameters
    ----------
    system : System
        A system with parameters.
    demand : Mapping
        ``{product id: amount}``.
    tolerance, allow_ill_conditioned
        As for :class:`ParameterBatch`.

    Returns
    -------
    ParameterBatch
    """
    import dataclasses

    from lcasolve._options import get_options

    # the options in force decide the solver and the accuracy checks (not the progress bars)
    options = dataclasses.replace(get_options(), progress=None)
    key = (tuple(demand.items()), float(tolerance), bool(allow_ill_conditioned), options)
    try:
        hash(key)
    except TypeError:  # an unhashable amount: no reuse
        return ParameterBatch(system, demand, tolerance, allow_ill_conditioned)
    cache: dict[Any, ParameterBatch] = system.__dict__.setdefault("_parameter_batches", {})
    batch = cache.pop(key, None)
    if batch is None:
        batch = ParameterBatch(system, dict(demand), tolerance, allow_ill_conditioned)
    cache[key] = batch  # most recent last
    while len(cache) > CACHED_BATCHES:
        del cache[next(iter(cache))]
    return batch


#: batches :func:`cached_batch` keeps per system (each may hold a factorization)
CACHED_BATCHES = 4
