"""Brightway fixtures (../shared/data/bw2calc-fixtures) give their documented results."""

from __future__ import annotations

import numpy as np
import pytest

import lcasolve
from lcasolve.errors import DataFileError, UnknownDemandError


@pytest.fixture(scope="module")
def fx(shared_data):
    return shared_data / "bw2calc-fixtures"


def test_basic_fixture(fx):
    system = lcasolve.load(fx / "basic_fixture.zip")
    np.testing.assert_array_equal(system.A.toarray(), [[1, 0], [-0.5, 1]])
    assert dict(system.product_index) == {1: 0, 2: 1}
    assert dict(system.activity_index) == {101: 0, 102: 1}
    assert dict(system.flow_index) == {1: 0}
    assert system.C.toarray().tolist() == [[1.0]]
    lca = lcasolve.LCA(system)
    result = lca.calculate({1: 1})
    np.testing.assert_allclose(result.supply, [1.0, 0.5], rtol=1e-15)
    assert result.score() == pytest.approx(1.0, rel=1e-15)
    two = lca.calculate({2: 1})
    np.testing.assert_allclose(two.supply, [0.0, 1.0], atol=1e-15)
    assert two.score() == 0.0
    assert system.demand_vector({2: 5}).tolist() == [0.0, 5.0]
    # the inverse, column by column, from the all-activity adjoint: A⁻¹ = [[1, 0], [0.5, 1]]
    inv = lca.factorization.solve(np.eye(2)).x
    np.testing.assert_allclose(inv, [[1, 0], [0.5, 1]], rtol=1e-15)


def test_basic_fixture_bad_demands(fx):
    system = lcasolve.load(fx / "basic_fixture.zip")
    with pytest.raises(UnknownDemandError, match="100 is not a product"):
        system.demand_vector({100: 1})
    with pytest.raises(UnknownDemandError, match="101 is an activity, not a product"):
        system.demand_vector({101: 1})
    assert isinstance(UnknownDemandError("x"), ValueError)  # bw2calc raises ValueError here


@pytest.fixture(scope="module")
def multi(fx):
    return lcasolve.load(*[fx / f"multi_lca_simple_{i}.zip" for i in range(1, 6)])


def test_multi_lca_matrices(multi):
    # production is off the diagonal in id order: rows are matched to producing activities
    assert multi.A.sum() == pytest.approx(3.7, rel=1e-14)
    assert multi.B.sum() == pytest.approx(30.0, rel=1e-14)
    row100 = multi.A.toarray()[multi.product_index[100]]
    np.testing.assert_allclose(row100, [-0.2, -0.5, 1, -0.1, 0, -0.1])
    assert multi.categories["name"].tolist() == ["first | category", "second | category"]
    # "CF matrix sums 4 (first) and 20 (second) over the flows present" in the biosphere
    present = np.flatnonzero(np.asarray(abs(multi.B).sum(axis=1)).ravel() > 0)
    char = multi.C.toarray()[:, present]
    assert char[0].sum() == pytest.approx(4.0) and char[1].sum() == pytest.approx(20.0)


@pytest.mark.parametrize(
    ("demand", "supply", "inventory", "first", "second"),
    [
        ({100: 1}, {3: 1}, {200: 8, 201: 3}, 11.0, 30.0),
        ({103: 2}, {1: 0.2, 2: 0.1, 3: 0.09, 5: 2}, {200: 5.52, 201: 0.67, 202: 2}, 8.19, 6.7),
        ({105: 3}, {2: 0.6, 3: 0.6, 6: 3}, {200: 10.2, 201: 3, 202: 6, 203: 9}, 28.2, 120.0),
    ],
)
def test_multi_lca_results(multi, demand, supply, inventory, first, second):
    result = lcasolve.LCA(multi).calculate(demand)
    expected_s = np.zeros(6)
    for aid, v in supply.items():
        expected_s[multi.activity_index[aid]] = v
    np.testing.assert_allclose(result.supply, expected_s, rtol=1e-12, atol=1e-15)
    for fid, v in inventory.items():
        assert result.inventory[multi.flow_index[fid]] == pytest.approx(v, rel=1e-12)
    assert result.score("first | category") == pytest.approx(first, rel=1e-12)
    assert result.score("second | category") == pytest.approx(second, rel=1e-12)


def test_multi_lca_block_of_demands(multi):
    many = lcasolve.LCA(multi).calculate_many({"γ": {100: 1}, "ε": {103: 2}, "ζ": {105: 3}})
    np.testing.assert_allclose(many.scores.to_numpy(), [[11, 30], [8.19, 6.7], [28.2, 120]])


def test_bw2io_example_db(fx):
    system = lcasolve.load(fx / "bw2io_example_db.zip", fx / "ipcc_simple.zip")
    lca = lcasolve.LCA(system)
    car = lca.calculate({1: 1})
    assert car.score() == pytest.approx(0.18248161259647164, rel=1e-12)
    expected = {
        1: 1,
        2: 4.999999873689376e-6,
        3: 4.999999873689348e-6,
        4: 0.009654399756681547,
        5: 0.28000001047621476,
        6: 5.999999714316753e-7,
    }
    for aid, v in expected.items():
        assert car.supply[system.activity_index[aid]] == pytest.approx(v, rel=1e-12)
    by_activity = car.contributions(by="activity", top=None).set_index("id")["score"]
    assert by_activity[5] == pytest.approx(0.16800001296144934, rel=1e-4)
    assert by_activity[4] == pytest.approx(0.014481599635022317, rel=1e-4)
    a = system.A.toarray()
    p, c = system.product_index, system.activity_index
    assert a[p[5], c[3]] == -2000 and a[p[4], c[2]] == -1921 and a[p[4], c[8]] == -1641
    assert a[p[4], c[3]] == pytest.approx(-9.880000114440918, rel=1e-7)
    assert lca.calculate({7: 1}).score() == pytest.approx(0.15490749959371897, rel=1e-12)
    # all products' scores in one adjoint solve equal the single ones
    lam = lca.activity_scores()
    assert lam.score(1) == pytest.approx(car.score(), rel=1e-12)
    assert lam.score(7) == pytest.approx(0.15490749959371897, rel=1e-12)


def test_mc_basic_deterministic(fx):
    system = lcasolve.load(fx / "mc_basic.zip")
    result = lcasolve.LCA(system).calculate({3: 1})
    assert result.score() == pytest.approx(1.1, rel=1e-12)
    np.testing.assert_allclose(result.inventory, [1.0, 0.05], rtol=1e-12)
    # every entry carries its stats_arrays distribution
    assert system.technosphere.uncertain.sum() == 1
    assert system.biosphere.uncertain.sum() == 2
    assert system.characterization.uncertain.sum() == 2


def test_array_resources_kept_for_monte_carlo(fx):
    system = lcasolve.load(fx / "array_sequential.zip")
    arrays = system.metadata["arrays"]["biosphere"]
    assert arrays["values"].tolist() == [[1.0, 2.0, 3.0, 4.0]]
    assert lcasolve.LCA(system).calculate({1: 1}).score() == pytest.approx(1.0)


def test_empty_biosphere(fx):
    system = lcasolve.load(fx / "empty_biosphere.zip")
    assert system.n_flows >= 0
    result = lcasolve.LCA(system).calculate({1: 1})
    np.testing.assert_allclose(result.supply, [0.5, 1 / 6], rtol=1e-14)
    assert (result.inventory == 0).all()


def test_missing_characterization_has_no_categories(fx):
    system = lcasolve.load(fx / "missing_characterization.zip")
    assert system.n_categories == 0
    result = lcasolve.LCA(system).calculate({1: 1})
    assert result.scores.empty


def test_corrupt_and_missing_files(tmp_path, fx):
    bad = tmp_path / "broken.zip"
    bad.write_bytes((fx / "basic_fixture.zip").read_bytes()[:300])
    with pytest.raises(DataFileError, match="broken.zip"):
        lcasolve.load(bad)
    with pytest.raises(DataFileError, match="no such"):
        lcasolve.load(tmp_path / "absent.zip")
    import zipfile

    partial = tmp_path / "partial.zip"
    with zipfile.ZipFile(fx / "basic_fixture.zip") as src, zipfile.ZipFile(partial, "w") as dst:
        for item in src.namelist():
            if item != "biosphere.data.npy":
                dst.writestr(item, src.read(item))
    with pytest.raises(DataFileError, match="biosphere.data.npy"):
        lcasolve.load(partial)
