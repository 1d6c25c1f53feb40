"""USEEIO models (../shared/data/useeio): our solver reproduces L, D, U and the demand results."""

import numpy as np
import pytest

import lcasolve
from lcasolve.errors import DataFileError
from lcasolve.io import useeio
from lcasolve.solve import factorize

MODELS = ("USEEIO", "USEEIOv2.0-GHG")

# README §3: demand -> (sum x, {category: score})
USEEIO_RESULTS = {
    "2007_us_consumption": (
        3.1001789545e13,
        {
            "Global Climate Change": 5.8719487211e12,
            "Energy": 1.3342703524e14,
            "Water": 3.9297735483e11,
            "Employment": 1.4545670009e8,
            "Value Added": 1.7517758563e13,
            "Acid Rain": 2.1029164248e10,
        },
    ),
    "2007_us_production": (
        2.9574690023e13,
        {
            "Global Climate Change": 5.5541978014e12,
            "Energy": 8.6534985500e13,
            "Water": 4.0142720328e11,
            "Employment": 1.4261013926e8,
            "Value Added": 1.6854348861e13,
            "Acid Rain": 2.0792186403e10,
        },
    ),
    "2007_us_consumption_food": (
        3.1973827485e12,
        {
            "Global Climate Change": 1.0504025543e12,
            "Energy": 1.4630752552e13,
            "Water": 1.4021880617e11,
            "Employment": 1.6752532476e7,
            "Value Added": 1.4492456093e12,
            "Acid Rain": 6.1594825681e9,
        },
    ),
    "2007_us_production_food": (
        3.1113400444e12,
        {
            "Global Climate Change": 1.1029938342e12,
            "Energy": 1.3907143410e13,
            "Water": 1.5874260235e11,
            "Employment": 1.6429342854e7,
            "Value Added": 1.3928130035e12,
            "Acid Rain": 6.8238340480e9,
        },
    ),
}
GHG_RESULTS = {
    "2012_us_domestic_consumption": (
        2.7911264266e13,
        [4.5257962915e6, 4.4364484336e6, 8.9347857860e4],
    ),
    "2012_us_domestic_production": (
        3.2194384589e13,
        [5.4986010656e6, 5.3917840531e6, 1.0681701242e5],
    ),
}


@pytest.fixture(scope="module")
def models(shared_data):
    root = shared_data / "useeio"
    return {m: (root / m, useeio.read(root / m)) for m in MODELS}


@pytest.mark.parametrize("model", MODELS)
def test_inverse_matches_shipped_L(models, model):
    folder, system = models[model]
    shipped_l = useeio.read_matrix(folder, "L")
    n = system.n_activities
    fact = factorize(system.A)
    result = fact.solve(np.eye(n))  # all columns in one block solve
    ours = result.x
    scale = np.abs(shipped_l).max()
    # elementwise relative 1e-9, with an absolute floor far below every printed digit of L
    np.testing.assert_allclose(ours, shipped_l, rtol=1e-9, atol=1e-15 * scale)
    assert result.residual < 1e-13


@pytest.mark.parametrize("model", MODELS)
def test_direct_and_total_impacts(models, model):
    folder, system = models[model]
    c, b = system.C.toarray(), system.B.toarray()
    d = useeio.read_matrix(folder, "D")
    u = useeio.read_matrix(folder, "U")
    shipped_l = useeio.read_matrix(folder, "L")
    np.testing.assert_allclose(c @ b, d, rtol=1e-13, atol=0)
    # U = C B L from our own adjoint solve: Uᵀ = (I − A)⁻ᵀ (C B)ᵀ
    fact = factorize(system.A)
    u_ours = fact.solve((c @ b).T, transposed=True).x.T
    np.testing.assert_allclose(u_ours, u, rtol=1e-9, atol=1e-14 * np.abs(u).max())
    np.testing.assert_allclose(d @ shipped_l, u, rtol=1e-12, atol=1e-15 * np.abs(u).max())


@pytest.mark.parametrize(("demand", "expected"), USEEIO_RESULTS.items())
def test_useeio_demand_results(models, demand, expected):
    folder, system = models["USEEIO"]
    y = useeio.read_demand(folder, demand)
    result = lcasolve.LCA(system).calculate(y)
    sum_x, scores = expected
    assert result.supply.sum() == pytest.approx(sum_x, rel=1e-10)
    for name, value in scores.items():
        assert result.scores[name] == pytest.approx(value, rel=1e-10)


@pytest.mark.parametrize(("demand", "expected"), GHG_RESULTS.items())
def test_ghg_demand_results_match_sector_424200_by_code(models, demand, expected):
    folder, system = models["USEEIOv2.0-GHG"]
    y = useeio.read_demand(folder, demand)
    assert "424200" in y  # the mis-encoded sector name still matches by code
    result = lcasolve.LCA(system).calculate(y)
    sum_x, rows = expected
    assert result.supply.sum() == pytest.approx(sum_x, rel=1e-10)
    np.testing.assert_allclose(np.asarray(result.scores, dtype=float), rows, rtol=1e-10)
    # C row 0 = row 1 + row 2 (README §3)
    assert rows[0] == pytest.approx(rows[1] + rows[2], rel=1e-9)


def test_missing_and_corrupt_files(tmp_path):
    with pytest.raises(DataFileError, match="sectors"):
        useeio.read(tmp_path)
    (tmp_path / "matrix").mkdir()
    (tmp_path / "matrix" / "A.json").write_text("[[1, 2], [3")
    with pytest.raises(DataFileError, match="A.json"):
        useeio.read_matrix(tmp_path, "A")
