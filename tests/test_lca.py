"""The LCA facade: several demands, all-activity scores, contributions, threads."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import lcasolve
from lcasolve.errors import InputError
from lcasolve.model import build_system


def chain_system(n: int = 30, seed: int = 1):
    """A random productive system with a cycle, two categories, hand-made from triplets."""
    rng = np.random.default_rng(seed)
    tech = [(j, j, 1.0 + rng.random()) for j in range(n)]
    for j in range(n):
        tech.extend(
            (int(i), j, -0.1 * rng.random()) for i in rng.choice(n, size=4, replace=False) if i != j
        )
    tech.append((0, n - 1, -0.2))  # close a loop
    bio = [
        (f"f{k}", j, float(rng.random())) for j in range(n) for k in range(3) if rng.random() < 0.6
    ]
    char = {"GWP100": {"f0": 1.0, "f1": 27.9}, "Acid": {"f2": 1.0}}
    return build_system(tech, bio, char)


def dense_scores(system, f):
    A = system.A.toarray()
    s = np.linalg.solve(A, f)
    return system.C.toarray() @ (system.B.toarray() @ s)


def test_scores_match_dense_reference():
    system = chain_system()
    lca = lcasolve.LCA(system)
    result = lca.calculate({3: 2.0, 7: 1.0})
    f = np.zeros(system.n_activities)
    f[[3, 7]] = [2.0, 1.0]
    np.testing.assert_allclose(result.scores.to_numpy(), dense_scores(system, f), rtol=1e-12)
    assert result.residual <= 1e-12


def test_many_demands_in_one_block_equal_single_solves():
    system = chain_system()
    lca = lcasolve.LCA(system)
    demands = {"a": {1: 1.0}, "b": {2: 3.0}, "c": {1: 1.0, 5: 0.5}}
    many = lca.calculate_many(demands)
    for name, demand in demands.items():
        single = lca.calculate(demand).scores
        np.testing.assert_allclose(many.scores.loc[name].to_numpy(), single.to_numpy(), rtol=1e-12)


def test_all_activity_scores_equal_one_by_one():
    system = chain_system()
    lca = lcasolve.LCA(system)
    lam = lca.activity_scores()
    for j, pid in enumerate(system.activities["product_id"]):
        expected = lca.calculate({pid: 1.0}).scores.to_numpy()
        np.testing.assert_allclose(lam.lam[j], expected, rtol=1e-10, atol=1e-14)
    assert lam.score(5, "Acid") == pytest.approx(lca.calculate({5: 1}).score("Acid"), rel=1e-10)


def test_contributions_add_up_to_the_score():
    system = chain_system()
    result = lcasolve.LCA(system).calculate({4: 1.0})
    for by in ("activity", "flow"):
        table = result.contributions("GWP100", by=by, top=1)
        assert table["score"].sum() == pytest.approx(result.score("GWP100"), rel=1e-12)
        assert table["id"].iloc[-1] == "(rest)"
        everything = result.contributions("GWP100", by=by, top=None)
        assert everything["share"].sum() == pytest.approx(1.0, rel=1e-12)
    with pytest.raises(InputError, match="by must be"):
        result.contributions("GWP100", by="stage")


def test_contributions_without_a_category_on_a_one_category_system():
    system = lcasolve.build_system(
        [(1, 1, 1.0), (2, 2, 1.0), (2, 1, -0.5)],
        [("CO2", 1, 1.0), ("CH4", 2, 0.1)],
        {"GWP100": {"CO2": 1.0, "CH4": 29.8}},
    )
    result = lcasolve.LCA(system).calculate({1: 1.0})
    by_flow = result.contributions(by="flow", top=None).set_index("id")["score"]
    assert by_flow.to_dict() == pytest.approx({"CO2": 1.0, "CH4": 0.5 * 0.1 * 29.8})
    by_activity = result.contributions(by="activity", top=None).set_index("id")["score"]
    assert by_activity.to_dict() == pytest.approx({1: 1.0, 2: 0.5 * 0.1 * 29.8})


def test_one_lca_shared_by_threads():
    system = chain_system(60)
    lca = lcasolve.LCA(system)
    products = system.activities["product_id"].tolist()
    expected = {p: dense_scores(system, system.demand_vector({p: 1.0})) for p in products}
    with ThreadPoolExecutor(4) as pool:
        got = dict(
            zip(products, pool.map(lambda p: lca.calculate({p: 1.0}).scores, products), strict=True)
        )
    for p in products:
        np.testing.assert_allclose(got[p].to_numpy(), expected[p], rtol=1e-10, atol=1e-14)
