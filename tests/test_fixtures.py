"""The hand-checkable fixtures in ``fixtures/`` give their closed-form results."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import lcasolve

LOOP = Path(__file__).resolve().parents[1] / "fixtures" / "loop"


def test_loop_fixture_closed_form() -> None:
    system = lcasolve.methods.with_methods(lcasolve.load(LOOP), ["IPCC AR6 GWP100"])
    lca = lcasolve.LCA(system)
    # by hand: 1 kWh needs s_e = 1 / (1 - 0.4 * 0.05) kWh in all and s_c = 0.4 s_e kg coal
    s_e = 1.0 / (1.0 - 0.4 * 0.05)
    s_c = 0.4 * s_e
    kwh = s_e * 1.0 + s_c * 0.002 * 29.8  # CO2 fossil 1, CH4 fossil 29.8 (IPCC AR6 GWP100)
    electricity = lca.calculate({"electricity": 1.0})
    assert electricity.residual <= 1e-14
    assert electricity.scores.iloc[0] == pytest.approx(kwh, rel=1e-14)
    steel = lca.calculate({"steel": 1.0})
    assert steel.scores.iloc[0] == pytest.approx(0.5 + 2.0 * kwh, rel=1e-14)
    supply = dict(zip(system.activities["id"], steel.supply, strict=True))
    assert supply == pytest.approx({"steel": 1.0, "electricity": 2 * s_e, "coal": 2 * s_c})
    # all products at once from the adjoint equal the one-by-one results
    lam = lca.activity_scores()
    np.testing.assert_allclose(
        [lam.score("electricity"), lam.score("steel"), lam.score("coal")],
        [kwh, 0.5 + 2.0 * kwh, (0.05 * s_e * 1.0) + s_c / 0.4 * 0.002 * 29.8],
        rtol=1e-13,
    )
