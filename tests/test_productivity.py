"""Systems that are not productive raise; credits and productive loops do not."""

from __future__ import annotations

import numpy as np
import pytest

import lcasolve
from lcasolve.errors import NotProductiveError
from lcasolve.solve.productivity import unproductive_blocks


def loop(gain_ab: float, gain_ba: float, *, tail: bool = True) -> lcasolve.System:
    """a and b take ``gain`` of each other per unit made; c (outside the loop) takes 1 of a."""
    tech = [("a", "a", 1.0), ("b", "b", 1.0), ("b", "a", -gain_ab), ("a", "b", -gain_ba)]
    if tail:
        tech += [("c", "c", 1.0), ("a", "c", -1.0)]
    bio = [("co2", "a", 1.0), ("co2", "b", 2.0)]
    return lcasolve.build_system(tech, bio, {"gwp": {"co2": 1.0}})


def test_unproductive_loop_raises_naming_the_block() -> None:
    system = loop(2.0, 1.0)  # technical coefficients [[0, 1], [2, 0]]: spectral radius √2
    with pytest.raises(NotProductiveError, match=r"block of 2 activities.*'a'.*'b'.*units") as e:
        lcasolve.LCA(system).calculate({"c": 1.0})
    assert sorted(e.value.activities) == ["a", "b"]
    with pytest.raises(NotProductiveError):
        lcasolve.LCA(system).calculate_many([{"c": 1.0}, {"b": 2.0}])
    with pytest.raises(NotProductiveError):
        lcasolve.LCA(system).activity_scores()


def test_opt_out_returns_the_plain_solve() -> None:
    system = loop(2.0, 1.0)
    r = lcasolve.LCA(system, allow_unproductive=True).calculate({"c": 1.0})
    f = system.demand_vector({"c": 1.0})
    np.testing.assert_allclose(r.supply, np.linalg.solve(system.A.toarray(), f), rtol=1e-12)
    assert (r.supply < 0).any()
    lcasolve.LCA(system, allow_unproductive=True).activity_scores()


def test_spectral_radius_exactly_one_is_not_productive() -> None:
    # gains 2 and 0.5: radius 1, A singular; the block test sees it before any solve
    assert [sorted(b.tolist()) for b in unproductive_blocks(loop(2.0, 0.5).A)] == [[0, 1]]


def test_productive_loop_and_credits_are_allowed() -> None:
    r = lcasolve.LCA(loop(0.5, 0.5)).calculate({"c": 1.0})
    assert (r.supply > 0).all()
    # an avoided product: the credit makes a supply negative, no loop involved
    credit = lcasolve.build_system([("a", "a", 1.0), ("b", "b", 1.0), ("a", "b", 2.0)])
    r = lcasolve.LCA(credit).calculate({"b": 1.0})
    assert r.supply.tolist() == [-2.0, 1.0]
    # a loop with a credit inside: negative supplies may be intended, no error
    mixed = lcasolve.build_system(
        [("a", "a", 1.0), ("b", "b", 1.0), ("a", "b", 3.0), ("b", "a", -1.0)]
    )
    r = lcasolve.LCA(mixed).calculate({"a": 1.0})
    np.testing.assert_allclose(r.supply, np.linalg.solve(mixed.A.toarray(), [1.0, 0.0]))
    assert unproductive_blocks(mixed.A) == []


def test_negative_demand_is_not_checked() -> None:
    r = lcasolve.LCA(loop(0.5, 0.5)).calculate({"c": -1.0})
    assert (r.supply < 0).all()
