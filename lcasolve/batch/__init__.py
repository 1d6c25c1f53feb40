"""One batched engine for many variants of one technosphere pattern.

Monte Carlo samples, parameter samples and scenarios all solve ``A_k x_k = f`` for many ``k``
with the same stored positions and other values. Build the deterministic part once, then give
each batch's values on its fixed pattern:

>>> from lcasolve.batch import Baseline, BatchSettings, solve_batch
>>> base = Baseline.build(system.A, F, labels)  # doctest: +SKIP
>>> slot = base.pattern.locate(base.position[row], base.position[col])  # doctest: +SKIP
>>> data = np.repeat(base.values[:, None], K, axis=1); data[slot] = new_values  # doctest: +SKIP
>>> sol = solve_batch(base, BatchSettings(), data, demand=0)  # doctest: +SKIP
>>> g = B_pattern.multiply(B_data, sol.supply)  # inventories  # doctest: +SKIP

Variants that change only a few entries each (scenarios) are given as changes instead
(:func:`solve_changes`): the sweeps then stream one matrix, not ``K``.

Every array of a batch uses the baseline's sweep positions (``base.order``,
``base.position``); :class:`Pattern` also serves the biosphere and characterization values of a
batch (``Pattern.from_entries``, ``Pattern.multiply``).
"""

from __future__ import annotations

from lcasolve.batch._changes import solve_changes
from lcasolve.batch._engine import Baseline, BatchSettings, BatchSolution, solve_batch
from lcasolve.batch._order import sweep_order
from lcasolve.batch._pattern import Pattern

__all__ = [
    "Baseline",
    "BatchSettings",
    "BatchSolution",
    "Pattern",
    "solve_batch",
    "solve_changes",
    "sweep_order",
]
