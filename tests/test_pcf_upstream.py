"""Stage and scope tags of foreground activities count everything upstream of them."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

import lcasolve
from lcasolve.pcf.footprint import footprint
from lcasolve.pcf.tags import UNTAGGED, upstream_values


def tagged(tech, bio, stages):
    """A system whose activities carry ``stages`` (``{activity id: stage}``) as a column."""
    system = lcasolve.build_system(tech, bio, {"GWP100": {"CO2": 1.0}})
    acts = system.activities.assign(stage=[stages[i] for i in system.activities["id"]])
    return replace(system, activities=acts)


def test_background_counts_in_the_stage_that_pulls_it_in():
    # F (A3) needs 2 of B1 and 1 of G (A1); G needs 2 of B1; B1 needs 0.5 of B2 (untagged)
    tech = [("F", "F", 1), ("B1", "B1", 1), ("B2", "B2", 1), ("G", "G", 1)]
    tech += [("B1", "F", -2), ("G", "F", -1), ("B1", "G", -2), ("B2", "B1", -0.5)]
    bio = [("CO2", "F", 1.0), ("CO2", "B1", 3.0), ("CO2", "B2", 4.0), ("CO2", "G", 1.0)]
    system = tagged(tech, bio, {"F": "A3", "B1": None, "B2": None, "G": "A1"})
    fp = footprint(system, {"F": 1.0}, category="GWP100")
    # B1 per unit: 3 + 0.5·4 = 5; F: 1 + 2·5 = 11; G: 1 + 2·5 = 11
    assert fp.total == pytest.approx(22.0)
    stages = fp.by_stage()["score"].to_dict()
    assert stages == pytest.approx({"A1": 11.0, "A3": 11.0})
    direct = footprint(system, {"F": 1.0}, category="GWP100", upstream=False).by_stage()
    assert direct["score"].to_dict() == pytest.approx({"A1": 1.0, "A3": 1.0, UNTAGGED: 20.0})
    # what the functional unit asks of the background directly stays untagged
    both = footprint(system, {"F": 1.0, "B2": 1.0}, category="GWP100").by_stage()
    assert both["score"].to_dict() == pytest.approx({"A1": 11.0, "A3": 11.0, UNTAGGED: 4.0})


def test_a_background_that_consumes_foreground_products_against_dense_algebra():
    rng = np.random.default_rng(5)
    n = 9
    A = np.eye(n) * rng.uniform(1, 2, n)  # noqa: N806
    for j in range(n):
        for i in rng.choice([x for x in range(n) if x != j], 3, replace=False):
            A[i, j] = -rng.uniform(0.02, 0.2)
    cb = rng.uniform(0, 3, n)
    labels = np.array(["A3", "A1", "A2"] + [UNTAGGED] * (n - 3), dtype=object)
    ids = [f"p{i}" for i in range(n)]
    tech = [(ids[i], ids[j], A[i, j]) for i in range(n) for j in range(n) if A[i, j]]
    bio = [("CO2", ids[j], cb[j]) for j in range(n)]
    system = tagged(tech, bio, dict(zip(ids, labels, strict=True)))
    order = [system.activity_index[i] for i in ids]
    assert order == list(range(n))  # ids p0..p8 keep their order
    f = np.zeros(n)
    f[0], f[5] = 1.0, 0.5
    s = np.linalg.solve(A, f)
    lam = np.linalg.solve(A.T, cb)
    got = upstream_values(system, labels, s, f, lam, cb)
    u = np.arange(3, n)
    lam_u = np.linalg.solve(A[np.ix_(u, u)].T, cb[u])  # the background on its own
    expected = np.zeros(n)
    for t in range(3):
        expected[t] = cb[t] * s[t] + (-A[u, t] * s[t]) @ lam_u
    expected[u] = f[u] * lam_u
    np.testing.assert_allclose(got, expected, rtol=1e-12)
    assert got.sum() == pytest.approx(cb @ s, rel=1e-12)
    assert np.abs(A[:3][:, u]).sum() > 0  # the case where the background needs its own solve


@pytest.mark.data
def test_csv_foreground_on_uslci_is_no_longer_untagged(shared_data, tmp_path):
    from lcasolve.io import tables
    from lcasolve.methods import with_methods

    (tmp_path / "activities.csv").write_text(
        "id,name,product,unit,location,amount,stage,scope\n"
        "block,Concrete block making,Concrete block,kg,US,1,A3,1\n"
        "haul,Delivery,Delivery,kg,US,1,A4,3\n"
    )
    (tmp_path / "exchanges.csv").write_text(
        "activity,kind,provider,flow,amount,unit\n"
        "block,technosphere,62993671-574c-3fc5-b66a-6be3bb21ad3d,,0.15,kg\n"
        "block,biosphere,,co2,0.01,kg\n"
        "haul,technosphere,block,,1,kg\n"
        "haul,technosphere,0aaf1e13-5d80-37f9-b7bb-81a6b8965c71,,0.00002,m3\n"
    )
    (tmp_path / "flows.csv").write_text(
        'id,name,compartment,unit\nco2,"Carbon dioxide, fossil",air,kg\n'
    )
    background = lcasolve.load(shared_data / "uslci" / "uslci_olca1_5_0_json_ld.zip", strict=False)
    system = with_methods(tables.read(tmp_path, background=background), None)
    lca = lcasolve.LCA(system)
    fp = footprint(lca, {"haul": 1.0})
    lam = lca.activity_scores()
    cement = 0.15 * lam.score("62993671-574c-3fc5-b66a-6be3bb21ad3d")
    diesel = 0.00002 * lam.score("0aaf1e13-5d80-37f9-b7bb-81a6b8965c71")
    stages = fp.by_stage()["score"].to_dict()
    assert set(stages) == {"A3", "A4"}
    assert stages["A3"] == pytest.approx(0.01 + cement, rel=1e-12)
    assert stages["A4"] == pytest.approx(diesel, rel=1e-12)
    assert sum(stages.values()) == pytest.approx(fp.total, rel=1e-12)
    before = footprint(lca, {"haul": 1.0}, upstream=False).by_stage()["share"]
    assert before[UNTAGGED] > 0.9  # the 99.5 % "(untagged)"
