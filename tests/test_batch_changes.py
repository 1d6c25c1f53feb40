"""Variants given as a few changes of the deterministic technosphere (solve_changes)."""

from __future__ import annotations

import numpy as np
import pytest

from lcasolve.batch import BatchSettings, solve_changes
from lcasolve.errors import ShapeMismatchError
from tests.test_batch import base, dense_supplies  # noqa: F401 - the fixture

K = 20


def _changes(base, share=0.1, seed=3):  # noqa: F811
    """Each variant scales ``share`` of the off-diagonal slots by U(0.5, 1.5), one diagonal too."""
    rng = np.random.default_rng(seed)
    off = np.flatnonzero(~np.isin(np.arange(base.pattern.nnz), base.diag_pos))
    slots, variants, deltas = [], [], []
    for k in range(K):
        pick = rng.choice(off, size=int(share * off.size), replace=False)
        pick = np.append(pick, base.diag_pos[k])  # a diagonal change as well
        factor = rng.uniform(0.5, 1.5, size=pick.size)
        slots.append(pick)
        variants.append(np.full(pick.size, k))
        deltas.append(base.values[pick] * (factor - 1.0))
    return np.concatenate(slots), np.concatenate(variants), np.concatenate(deltas)


def _data(base, slots, variants, deltas, count=K):  # noqa: F811
    data = np.repeat(base.values[:, None], count, axis=1)
    np.add.at(data, (slots, variants), deltas)
    return data


@pytest.mark.parametrize("demand", [0, 1])
def test_every_variant_equals_its_own_dense_solve(base, demand):  # noqa: F811
    slots, variants, deltas = _changes(base)
    sol = solve_changes(base, BatchSettings(), slots, variants, deltas, K, demand)
    expected = dense_supplies(base, _data(base, slots, variants, deltas), demand)
    np.testing.assert_allclose(sol.supply, expected, rtol=0, atol=1e-9 * np.abs(expected).max())
    assert sol.fallback.size == 0


def test_variants_do_not_depend_on_the_batch_and_changes_add_up(base):  # noqa: F811
    slots, variants, deltas = _changes(base)
    whole = solve_changes(base, BatchSettings(), slots, variants, deltas, K).supply
    mine = variants == 5
    alone = solve_changes(base, BatchSettings(), slots[mine], variants[mine] * 0, deltas[mine], 1)
    np.testing.assert_array_equal(alone.supply[:, 0], whole[:, 5])
    # one change split in two halves is the same variant
    split = np.concatenate([deltas[mine] / 2, deltas[mine] / 2])
    twice = solve_changes(base, BatchSettings(), np.tile(slots[mine], 2),
                          np.zeros(split.size, dtype=int), split, 1)  # fmt: skip
    np.testing.assert_allclose(twice.supply[:, 0], whole[:, 5], rtol=1e-12)


def test_variants_left_unconverged_go_to_the_fallback(base):  # noqa: F811
    slots, variants, deltas = _changes(base)
    sol = solve_changes(base, BatchSettings(max_iter=2), slots, variants, deltas, K)
    assert sol.fallback.size > 0
    expected = dense_supplies(base, _data(base, slots, variants, deltas), 0)
    np.testing.assert_allclose(sol.supply, expected, rtol=0, atol=1e-9 * np.abs(expected).max())


def test_changes_outside_the_pattern_are_refused(base):  # noqa: F811
    with pytest.raises(ShapeMismatchError, match="slot outside"):
        solve_changes(base, BatchSettings(), np.array([base.pattern.nnz]), np.array([0]),
                      np.array([1.0]), 1)  # fmt: skip
    with pytest.raises(ShapeMismatchError, match="one length"):
        solve_changes(base, BatchSettings(), np.array([0, 1]), np.array([0]), np.array([1.0]), 1)


@pytest.mark.parametrize("via", ["changes", "values"])
def test_a_production_changed_to_zero_is_not_a_silent_infinity(via):
    """An acyclic chain (one sweep is exact) whose variant 1 sets a production to 0: variant 0
    is solved, variant 1 goes to the direct fallback, which refuses the singular matrix."""
    import scipy.sparse as sp

    from lcasolve.batch import Baseline, solve_batch
    from lcasolve.errors import LcasolveError

    A = sp.csr_matrix(np.array([[1.0, 0.0, 0.0], [-2.0, 1.0, 0.0], [0.0, -3.0, 1.0]]))  # noqa: N806
    base = Baseline.build(A, np.array([[1.0], [0.0], [0.0]]), ["a", "b", "c"])  # noqa: F811
    slot = int(base.diag_pos[1])
    with pytest.raises(LcasolveError, match="variant 1 is singular"):
        if via == "changes":
            solve_changes(base, BatchSettings(), np.array([slot]), np.array([1]),
                          np.array([-1.0]), 2)  # fmt: skip
        else:
            data = np.repeat(base.values[:, None], 2, axis=1)
            data[slot, 1] = 0.0
            solve_batch(base, BatchSettings(), data)
    ok = solve_changes(base, BatchSettings(), np.array([slot]), np.array([0]), np.array([1.0]), 1)
    doubled = A.toarray()
    doubled[1, 1] = 2.0  # b's production doubled: a takes 2 b (one unit of b's activity)
    np.testing.assert_allclose(ok.supply[:, 0], np.linalg.solve(doubled, [1.0, 0.0, 0.0]))
