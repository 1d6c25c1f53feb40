"""The matrix model on small hand-checkable systems."""

from __future__ import annotations

import numpy as np
import pytest

import lcasolve
from lcasolve.errors import (
    EmptySystemError,
    InvalidProductionError,
    NonFiniteValueError,
    ShapeMismatchError,
    UnknownCategoryError,
    UnknownDemandError,
)
from lcasolve.model import Entries, build_system


def two_step():
    # 1 unit of product 1 needs 0.5 of product 2; activity 1 emits 1 kg CO2, activity 2 emits 2.
    return build_system(
        [(1, 1, 1.0), (2, 2, 1.0), (2, 1, -0.5)],
        [("CO2", 1, 1.0), ("CO2", 2, 2.0), ("CH4", 2, 0.1)],
        {"GWP100": {"CO2": 1.0, "CH4": 27.9}},
    )


def test_two_step_system_by_hand():
    system = two_step()
    result = lcasolve.LCA(system).calculate({1: 1.0})
    np.testing.assert_allclose(result.supply, [1.0, 0.5])
    # inventory: CO2 = 1 + 0.5*2 = 2, CH4 = 0.05 -> GWP = 2 + 0.05*27.9
    assert result.score("GWP100") == pytest.approx(2 + 0.05 * 27.9, rel=1e-14)
    assert result.residual <= 1e-14


def test_duplicates_are_summed_and_pattern_slots_scatter_samples():
    e = Entries.create((2, 2), [0, 0, 1, 1], [0, 0, 1, 0], [1.0, 2.0, 3.0, -1.0])
    assert e.matrix.toarray().tolist() == [[3.0, 0.0], [-1.0, 3.0]]
    samples = np.array([[1.0, 10.0], [2.0, 20.0], [3.0, 30.0], [-1.0, -10.0]])
    data = e.pattern.data(samples)
    assert data[:, 1].tolist() == [30.0, -10.0, 30.0]


def test_products_matched_to_producing_activities():
    # product ids differ from activity ids and are not in diagonal order
    system = build_system([("b", 1, -0.2), ("a", 1, 2.0), ("b", 2, 4.0)])
    assert system.activities["product_id"].tolist() == ["a", "b"]
    np.testing.assert_allclose(system.A.diagonal(), [2.0, 4.0])
    s = lcasolve.LCA(system).calculate({"b": 4.0}).supply
    np.testing.assert_allclose(s, [0.0, 1.0])


def test_errors_name_what_is_wrong():
    with pytest.raises(InvalidProductionError, match="2"):
        build_system([(1, 1, 1.0), (2, 2, 0.0), (1, 2, -1.0)])
    with pytest.raises(InvalidProductionError, match="negative"):
        build_system([(1, 1, 1.0), (2, 2, -1.0)])
    with pytest.raises(NonFiniteValueError, match="technosphere"):
        build_system([(1, 1, 1.0), (2, 2, float("nan"))])
    with pytest.raises(ShapeMismatchError, match="not square"):
        build_system([(1, 1, 1.0), (2, 1, -1.0)])
    with pytest.raises(EmptySystemError):
        build_system([])
    system = two_step()
    with pytest.raises(UnknownDemandError, match="'nope' is not a product"):
        system.demand_vector({"nope": 1})
    with pytest.raises(UnknownCategoryError, match="GWP20"):
        lcasolve.LCA(system).calculate({1: 1}).score("GWP20")


def test_shape_mismatch_between_matrices():
    system = two_step()
    with pytest.raises(ShapeMismatchError, match="biosphere columns"):
        lcasolve.System(
            technosphere=system.technosphere,
            biosphere=Entries.empty((2, 3)),
            characterization=system.characterization,
            activities=system.activities,
            flows=system.flows,
            categories=system.categories,
        )
