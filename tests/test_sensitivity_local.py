"""Local sensitivities against central finite differences, analytic cases and screening."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

import lcasolve
from lcasolve.errors import UnknownCategoryError
from lcasolve.lca import LCA
from lcasolve.model import Entries, System
from lcasolve.sensitivity import local_sensitivities, screen
from lcasolve.sensitivity.local import MATRICES


def random_system(n: int, m: int, k: int, seed: int) -> System:
    rng = np.random.default_rng(seed)
    tech = [(p, p, float(rng.uniform(0.5, 2.0))) for p in range(n)]
    for j in range(n):
        tech.extend(
            (int(i), j, -float(rng.uniform(0.01, 0.3)))
            for i in rng.choice(n, size=3, replace=False)
            if i != j
        )
    bio = [
        (f"f{r}", j, float(rng.uniform(0.1, 5.0)))
        for j in range(n)
        for r in rng.choice(m, 4, replace=False)
    ]
    cf = {
        f"cat{q}": {
            f"f{r}": float(rng.uniform(0.5, 3.0)) for r in rng.choice(m, m // 2 + 1, replace=False)
        }
        for q in range(k)
    }
    return lcasolve.build_system(tech, bio, cf)


def score(system: System, demand: dict, k: int) -> float:
    A = system.A.toarray()
    s = np.linalg.solve(A, system.demand_vector(demand))
    return float((system.C.toarray() @ (system.B.toarray() @ s))[k])


def central_difference(system: System, matrix: str, e: int, demand: dict, k: int) -> float:
    entries = getattr(system, matrix)
    v = entries.value.copy()
    step = 1e-5 * max(abs(v[e]), 1e-3)
    out = []
    for sign in (1.0, -1.0):
        w = v.copy()
        w[e] += sign * step
        perturbed = dataclasses.replace(system, **{matrix: entries.with_values(w)})
        out.append(score(perturbed, demand, k))
    return (out[0] - out[1]) / (2 * step)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_equals_central_differences_on_random_systems(seed):
    system = random_system(12, 9, 2, seed)
    demand = {3: 1.0, 7: 2.5}
    local = local_sensitivities(system, demand)
    assert local.residual < 1e-12
    for q in range(2):
        name = f"cat{q}"
        assert local.scores[q] == pytest.approx(score(system, demand, q), rel=1e-12)
        for matrix in MATRICES:
            sens = local.sensitivity(matrix, name)
            fd = np.array(
                [central_difference(system, matrix, e, demand, q) for e in range(len(sens))]
            )
            scale = np.abs(fd).max()
            np.testing.assert_allclose(sens, fd, rtol=1e-6, atol=1e-9 * scale)


def test_analytic_two_process_chain():
    # A = [[1, 0], [-a, 1]], B = [b1, b2], C = [c]: h = c (b1 + a b2) for f = e_0
    a, b1, b2, c = 0.5, 1.0, 2.0, 3.0
    system = lcasolve.build_system(
        [(1, 1, 1.0), (2, 2, 1.0), (2, 1, -a)],
        [("CO2", 1, b1), ("CO2", 2, b2)],
        {"GWP": {"CO2": c}},
    )
    local = local_sensitivities(system, {1: 1.0}, "GWP")
    h = c * (b1 + a * b2)
    assert local.scores[0] == pytest.approx(h)
    frame = local.to_frame().set_index(["matrix", "row_id", "col_id"])
    # d h / d A[2,1] = -lambda_2 s_1 = -(c b2)(1)
    assert frame.loc[("technosphere", 2, 1), "sensitivity"] == pytest.approx(-c * b2)
    assert frame.loc[("technosphere", 2, 1), "elasticity"] == pytest.approx(a * c * b2 / h)
    # d h / d A[1,1] = -lambda_1 s_1 = -h
    assert frame.loc[("technosphere", 1, 1), "elasticity"] == pytest.approx(-1.0)
    assert frame.loc[("biosphere", "CO2", 2), "sensitivity"] == pytest.approx(c * a)
    assert frame.loc[("characterization", "GWP", "CO2"), "sensitivity"] == pytest.approx(
        b1 + a * b2
    )
    assert frame.loc[("characterization", "GWP", "CO2"), "elasticity"] == pytest.approx(1.0)
    # product (2) not demanded directly: A[2,2] sensitivity = -lambda_2 s_2
    assert frame.loc[("technosphere", 2, 2), "sensitivity"] == pytest.approx(-c * b2 * a)
    # ranked by |elasticity|; the names are there
    top = local.top(3)
    assert list(np.abs(top["elasticity"])) == sorted(np.abs(top["elasticity"]), reverse=True)
    assert set(top.columns) >= {"row_name", "col_name", "value", "std", "importance"}


def test_shared_position_entries_each_get_the_position_derivative():
    system = lcasolve.build_system(
        [(1, 1, 1.0), (2, 2, 1.0), (2, 1, -0.5)],
        [("CO2", 1, 1.0), ("CO2", 2, 2.0)],
        {"GWP": {"CO2": 1.0}},
    )
    t = system.technosphere
    dup = Entries.create(t.shape, np.r_[t.row, 1], np.r_[t.col, 0], np.r_[t.value, -0.25])
    twice = dataclasses.replace(system, technosphere=dup)
    local = local_sensitivities(twice, {1: 1.0})
    sens = local.sensitivity("technosphere")
    pos = np.flatnonzero((dup.row == 1) & (dup.col == 0))
    assert len(pos) == 2
    assert sens[pos[0]] == sens[pos[1]]
    assert sens[pos[0]] == pytest.approx(
        central_difference(twice, "technosphere", pos[0], {1: 1.0}, 0), rel=1e-6
    )


def test_reuses_an_lca_and_rejects_unknown_category():
    system = random_system(8, 5, 1, 5)
    lca = LCA(system)
    a = local_sensitivities(lca, {0: 1.0})
    b = local_sensitivities(system, {0: 1.0})
    np.testing.assert_allclose(a.sensitivity("biosphere"), b.sensitivity("biosphere"), rtol=1e-12)
    with pytest.raises(UnknownCategoryError, match="nope"):
        local_sensitivities(lca, {0: 1.0}, "nope")


def with_normal_uncertainty(system: System, matrix: str, std: np.ndarray) -> System:
    entries = getattr(system, matrix)
    rec = entries.uncertainty.copy()
    rec["uncertainty_type"] = np.where(std > 0, 3, 0)
    rec["loc"] = np.where(entries.flip, -entries.value, entries.value)
    rec["scale"] = np.where(std > 0, std, np.nan)
    return dataclasses.replace(system, **{matrix: dataclasses.replace(entries, uncertainty=rec)})


def test_screening_keeps_every_input_above_one_percent_of_exact_variance():
    # Planted case: biosphere and CF are linear in h; with independent normal inputs on B and C
    # and only B/C uncertain the exact variance (up to the tiny B*C product term) is known.
    rng = np.random.default_rng(7)
    system = random_system(30, 12, 1, 11)
    nb = len(system.biosphere)
    std_b = np.zeros(nb)
    planted = rng.choice(nb, 6, replace=False)
    std_b[rng.choice(nb, 60, replace=False)] = 0.001 * np.abs(system.biosphere.value[:60])
    std_b[planted] = 0.5 * np.abs(system.biosphere.value[planted])
    system = with_normal_uncertainty(system, "biosphere", std_b)
    local = local_sensitivities(system, {0: 1.0})
    sens = local.sensitivity("biosphere")
    # exact variance of a function linear in each independent B entry (C fixed): Σ (∂h/∂b σ)²
    exact = (sens * std_b) ** 2 / np.sum((sens * std_b) ** 2)
    # cross-check this linear variance by sampling B
    draws = rng.normal(system.biosphere.value, std_b, size=(4000, nb))
    Ainv_f = np.linalg.solve(system.A.toarray(), system.demand_vector({0: 1.0}))
    c = system.C.toarray()[0]
    h = np.array([c[system.biosphere.row] @ (d * Ainv_f[system.biosphere.col]) for d in draws])
    assert h.var() == pytest.approx(np.sum((sens * std_b) ** 2), rel=0.1)
    result = screen(local)
    important = set(np.flatnonzero(exact > 0.01).tolist())
    assert important
    assert important <= set(result.record["biosphere"].tolist())
    assert result.explained >= 0.999 - 1e-12
    assert result.n_kept < result.n_uncertain
    assert len(result.table) == result.n_kept
    assert result.table["variance_share"].iloc[0] == pytest.approx(exact.max(), rel=1e-9)


@pytest.mark.data
def test_uslci_product_equals_central_differences(shared_data):
    path = shared_data / "uslci" / "uslci_olca1_5_0_json_ld.zip"
    # strict=False: the data have a few invalid triangular distributions, listed and dropped
    system = lcasolve.load(path, strict=False)
    from lcasolve.methods import with_methods

    system = with_methods(system, None)
    lca = LCA(system)
    # the product with the most upstream activities contributing: the largest score per unit
    # relative to its direct emissions
    lam = lca.activity_scores().lam[:, 0]
    direct = np.asarray(system.CB.toarray())[0]
    j = int(np.argmax(np.abs(lam - direct)))
    pid = system.activities["product_id"].iloc[j]
    demand = {pid: 1.0}
    local = local_sensitivities(lca, demand, system.categories["name"].iloc[0])
    top = local.top(8)
    base = LCA(system).calculate(demand).scores.iloc[0]
    assert local.scores[0] == pytest.approx(base, rel=1e-9)
    for row in top.itertuples():
        entries = getattr(system, row.matrix)
        v = entries.value.copy()
        step = 1e-6 * abs(v[row.entry])
        hs = []
        for sgn in (1, -1):
            w = v.copy()
            w[row.entry] += sgn * step
            pert = dataclasses.replace(system, **{row.matrix: entries.with_values(w)})
            hs.append(LCA(pert).calculate(demand).scores.iloc[0])
        fd = (hs[0] - hs[1]) / (2 * step)
        assert row.sensitivity == pytest.approx(fd, rel=1e-6), row
    assert isinstance(top, pd.DataFrame)


def test_tornado_and_ranked_bar_draw_the_top_entries():
    from lcasolve.sensitivity.plots import ranked_bar, tornado

    system = random_system(10, 6, 1, 3)
    local = local_sensitivities(system, {0: 1.0})
    ax = tornado(local, n=5, spread=0.2)
    widths = sorted(p.get_width() for p in ax.patches)
    top = local.top(5)
    np.testing.assert_allclose(widths[-1], np.abs(top["elasticity"]).max() * 20, rtol=1e-12)
    assert len(ax.patches) == 10
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert len(labels) == 5 and all("→" in t for t in labels)
    ax2 = ranked_bar(local.to_frame(), "sensitivity", n=4)
    assert len(ax2.patches) == 4
    with pytest.raises(ValueError, match="nothing"):
        ranked_bar(local.to_frame(), "nothing")


@pytest.mark.data
def test_useeio_food_consumption_equals_reference_and_central_differences(shared_data):
    from lcasolve.io import useeio

    folder = shared_data / "useeio" / "USEEIO"
    system = useeio.read(folder)
    demand = useeio.read_demand(folder, "2007_us_consumption_food")
    lca = LCA(system)
    local = local_sensitivities(lca, demand)
    names = system.categories["name"].tolist()
    k = next(
        i
        for i, (cid, nm) in enumerate(zip(system.categories["id"], names, strict=True))
        if "GCC" in str(cid) + str(nm)
    )
    # reference value of the data README (GCC, kg CO2 eq)
    assert local.scores[k] == pytest.approx(1.0504025543e12, rel=1e-9)
    cat = system.categories["id"].iloc[k]
    top = local.top(6, cat)
    for row in top.itertuples():
        entries = getattr(system, row.matrix)
        v = entries.value.copy()
        step = 1e-6 * abs(v[row.entry])
        hs = []
        for sgn in (1, -1):
            w = v.copy()
            w[row.entry] += sgn * step
            pert = dataclasses.replace(system, **{row.matrix: entries.with_values(w)})
            hs.append(float(LCA(pert).calculate(demand).scores.iloc[k]))
        fd = (hs[0] - hs[1]) / (2 * step)
        assert row.sensitivity == pytest.approx(fd, rel=1e-6), row
