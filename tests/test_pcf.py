"""PCF layer: breakdowns sum to the total, factor-based CF equals the matrix result, cut-off
check on a planted case, thresholds/classes/rating, external cost, tags, JSON/CSV output.

The small system below is solved by hand: activity ``p`` consumes one unit each of ``x``, ``y``,
``s1``, ``s2`` (no further inputs) and the CO2 emissions are 50, 40, 0.3, 0.5 and 9.2 kg, so the
footprint of one ``p`` is exactly 100 kg with shares 50 %, 40 %, 0.3 %, 0.5 % and 9.2 %.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from lcasolve.errors import InputError, UnknownDemandError
from lcasolve.examples import load_example
from lcasolve.lca import LCA
from lcasolve.model import build_system
from lcasolve.pcf import (
    classify,
    compare_thresholds,
    cutoff_check,
    external_cost,
    factor_footprint,
    footprint,
    rating,
    read_tag_table,
    resolve_tags,
)

EMISSIONS = {"p": 9.2, "x": 50.0, "y": 40.0, "s1": 0.3, "s2": 0.5}


def _planted(extra: dict[str, float] | None = None):
    emissions = dict(EMISSIONS, **(extra or {}))
    ids = list(emissions)
    tech = [(i, i, 1.0) for i in ids] + [(i, "p", -1.0) for i in ids if i != "p"]
    bio = [("co2", i, v) for i, v in emissions.items()]
    acts = pd.DataFrame(
        {
            "id": ids,
            "name": [f"making {i}" for i in ids],
            "product_id": ids,
            "product": [f"product {i}" for i in ids],
            "unit": "kg",
            "location": "GLO",
            "stage": ["production" if i == "p" else "raw material" for i in ids],
            "scope": ["1" if i == "p" else "3" for i in ids],
        }
    )
    flows = pd.DataFrame({"id": ["co2"], "name": ["Carbon dioxide, fossil"], "unit": ["kg"]})
    cats = pd.DataFrame({"id": ["gwp"], "name": ["IPCC AR6 GWP100"], "unit": ["kg CO2-eq"]})
    return build_system(
        tech,
        bio,
        {"gwp": {"co2": 1.0}},
        activities=acts,
        flows=flows,
        categories=cats,
    )


@pytest.fixture(scope="module")
def cement():
    return load_example("cement")


def test_planted_footprint_is_analytic():
    fp = footprint(_planted(), {"p": 1.0})
    assert fp.total == pytest.approx(100.0, rel=1e-12)
    stages = fp.by_stage()["score"]
    assert stages["production"] == pytest.approx(9.2, rel=1e-12)
    assert stages["raw material"] == pytest.approx(90.8, rel=1e-12)
    assert fp.by_scope()["score"].to_dict() == pytest.approx({"1": 9.2, "3": 90.8}, rel=1e-12)
    top = fp.by_activity(top=2)
    assert top["id"].tolist()[:2] == ["x", "y"]
    assert top["score"].iloc[-1] == pytest.approx(10.0, rel=1e-12)  # (rest) = 9.2 + 0.3 + 0.5
    assert fp.boundary == "cradle-to-gate"


def test_stage_and_scope_sums_equal_total_cement(cement):
    system, demand = cement
    fp = footprint(system, demand)
    reference = LCA(system).calculate(demand).score("IPCC AR6 GWP100")
    assert fp.total == pytest.approx(reference, rel=1e-12)
    assert abs(fp.by_stage()["score"].sum() - fp.total) <= 1e-9 * abs(fp.total)
    assert abs(fp.by_scope()["score"].sum() - fp.total) <= 1e-9 * abs(fp.total)
    assert abs(fp.flow_values.sum() - fp.total) <= 1e-9 * abs(fp.total)
    assert abs(fp.activity_values.sum() - fp.total) <= 1e-9 * abs(fp.total)
    assert set(fp.by_stage().index) <= {"A1", "A2", "A3"}
    assert fp.by_stage()["share"].sum() == pytest.approx(1.0, rel=1e-12)


def test_factor_based_cf_equals_full_matrix(cement):
    system, demand = cement
    total = footprint(system, demand).total
    # the whole functional unit as one line of activity data
    assert factor_footprint(system, demand).total == pytest.approx(total, rel=1e-10)
    # foreground = the cement activity: its inputs x cradle-to-gate factors + its own emissions
    j = system.activity_index["cement"]
    col = system.A.getcol(j).toarray().ravel()
    inputs = {
        system.activities["product_id"].iloc[i]: -col[i] for i in np.flatnonzero(col) if i != j
    }
    k = system.category_position("IPCC AR6 GWP100")
    direct = system.CB.getrow(k).toarray().ravel()[j] * demand["cement"] / col[j]
    data = pd.DataFrame(
        {
            "product": list(inputs),
            "amount": [v * demand["cement"] / col[j] for v in inputs.values()],
            "stage": "A1-A3",
        }
    )
    ff = factor_footprint(LCA(system), data)
    assert ff.total + direct == pytest.approx(total, rel=1e-10)
    assert ff.by_tag("stage")["score"].sum() == pytest.approx(ff.total, rel=1e-12)
    payload = ff.to_dict()
    assert len(payload["lines"]) == len(inputs)


def test_factor_footprint_uncertainty_equals_monte_carlo_of_the_whole_demand(cement):
    """Paired factor samples: Σ amount_i EF_i,k equals the score of Σ amount_i e_i in draw k."""
    from lcasolve.montecarlo import MonteCarlo

    system, _ = cement
    lines = {"clinker": 0.8, "electricity": 45.0, "gypsum": 0.05, "truck": 20.0}
    ff = factor_footprint(system, lines, iterations=300, seed=4)
    whole = MonteCarlo(system, lines, categories=["IPCC AR6 GWP100"]).run(300, seed=4)
    np.testing.assert_allclose(ff.samples, whole.values(), rtol=1e-8)
    assert ff.total == pytest.approx(float(whole.deterministic[0, 0]), rel=1e-10)
    summary = ff.to_dict()["uncertainty"]
    assert summary["iterations"] == 300
    assert summary["mean"] == pytest.approx(whole.values().mean(), rel=1e-8)
    assert summary["97.5%"] == pytest.approx(np.percentile(whole.values(), 97.5), rel=1e-8)
    assert ff.samples.std() > 0


def test_factor_footprint_errors(cement):
    system, _ = cement
    with pytest.raises(UnknownDemandError, match="nowhere"):
        factor_footprint(system, {"nowhere": 1.0})
    with pytest.raises(InputError, match="amount"):
        factor_footprint(system, pd.DataFrame({"product": ["cement"]}))


def test_cutoff_flags_exactly_the_planted_inputs():
    check = cutoff_check(_planted(), {"p": 1.0})
    assert sorted(check.flagged["input"]) == ["s1", "s2"]
    shares = dict(zip(check.table["input"], check.table["share"], strict=True))
    assert shares == pytest.approx({"x": 0.5, "y": 0.4, "s1": 0.003, "s2": 0.005}, rel=1e-12)
    assert check.passes
    assert check.excluded_share == pytest.approx(0.008, rel=1e-12)
    assert check.to_dict()["passes"] is True


def test_cutoff_rules_fail_with_the_inputs_named():
    # seven planted inputs of 0.9 kg each: each < 1 % but together > 5 %
    extra = {f"t{i}": 0.9 for i in range(7)}
    system = _planted(extra)
    check = cutoff_check(system, {"p": 1.0})
    total = 100.0 + 6.3
    assert check.total == pytest.approx(total, rel=1e-12)
    assert sorted(check.flagged["input"]) == sorted(["s1", "s2", *extra])
    assert not check.passes
    assert any("all excluded" in v for v in check.violations)
    # excluding a big input names it
    bad = cutoff_check(system, {"p": 1.0}, excluded=["y", "s1"])
    assert not bad.passes
    assert bad.violations[0].startswith("input y ")
    assert bad.violations[1].startswith("all excluded inputs: 37.91%")  # (40 + 0.3) / 106.3
    with pytest.raises(InputError, match="zz"):
        cutoff_check(system, {"p": 1.0}, excluded=["zz"])


def test_thresholds_classes_rating_analytic():
    df = compare_thresholds(777.0, {"grey clinker": 816.0, "excellence": 751.0})
    assert not df.loc["grey clinker", "exceeds"]
    assert bool(df.loc["excellence", "exceeds"])
    assert df.loc["excellence", "distance"] == pytest.approx(26.0)
    assert df.loc["grey clinker", "relative"] == pytest.approx(-39.0 / 816.0)
    cls = classify(65.0, {"A": 50.0, "B": 80.0, "C": 120.0})
    assert cls["class"] == "B"
    assert classify(50.0, {"A": 50.0, "B": 80.0})["class"] == "A"
    assert classify(500.0, {"A": 50.0, "B": 80.0})["class"] is None
    with pytest.raises(InputError):
        classify(1.0, {"A": 5.0, "B": 4.0})
    r = rating(80.0, 100.0)
    assert r["class"] == "B" and r["ratio"] == pytest.approx(0.8) and r["distance"] == -20.0
    with pytest.raises(InputError):
        rating(1.0, 0.0)


def test_threshold_probabilities_equal_empirical_mc_fraction(cement):
    from lcasolve.montecarlo import MonteCarlo

    system, demand = cement
    res = MonteCarlo(system, demand, categories=["IPCC AR6 GWP100"]).run(
        200, seed=3, progress=False
    )
    samples = res.scores[:, 0, 0]
    limits = {"grey clinker": 816.0, "excellence": 751.0, "median": float(np.median(samples))}
    df = compare_thresholds(float(res.deterministic[0, 0]), limits, samples)
    for name, limit in limits.items():
        empirical = np.count_nonzero(samples > limit) / samples.size
        assert df.loc[name, "p_exceed"] == empirical
        assert df.loc[name, "p_exceed"] == pytest.approx(res.p_exceed(limit))
    cls = classify(float(np.median(samples)), {"low": 751.0, "mid": 816.0}, samples)
    p = cls["probabilities"]
    assert p["low"] == pytest.approx(np.mean(samples <= 751.0))
    assert sum(p.values()) == pytest.approx(1.0)
    cost = external_cost(samples, unit="kg")
    assert cost["mean"] == pytest.approx(samples.mean() * 0.09, rel=1e-12)


def test_external_cost():
    assert external_cost(1000.0)["cost"] == pytest.approx(90.0)
    assert external_cost(2.0, unit="t CO2-eq", price=100.0)["cost"] == pytest.approx(200.0)
    with pytest.raises(InputError):
        external_cost(1.0, unit="lb")
    with pytest.raises(InputError):
        external_cost(1.0, price=-1.0)


def test_tags_from_table_and_rules(tmp_path):
    system = _planted()
    path = tmp_path / "stages.csv"
    path.write_text("id,pattern,stage\nx,,distribution\n,making s*,end of life\n")
    table = read_tag_table(path)
    stage = resolve_tags(system, "stage", table)
    assert dict(zip(system.activities["id"], stage, strict=True)) == {
        "p": "production",
        "x": "distribution",
        "y": "raw material",
        "s1": "end of life",
        "s2": "end of life",
    }
    fp = footprint(system, {"p": 1.0}, tags={"stage": table, "scope": None})
    assert fp.boundary == "cradle-to-grave"
    assert fp.by_stage()["score"].to_dict() == pytest.approx(
        {"distribution": 50.0, "end of life": 0.8, "production": 9.2, "raw material": 40.0}
    )
    bad = tmp_path / "bad.csv"
    bad.write_text("id,stage\nnope,A1\n")
    with pytest.raises(InputError, match="nope"):
        resolve_tags(system, "stage", read_tag_table(bad))
    with pytest.raises(InputError, match="sector"):
        resolve_tags(system, "sector")


def test_json_csv_and_html(tmp_path, cement):
    system, demand = cement
    fp = footprint(system, demand)
    out = tmp_path / "fp.json"
    text = fp.to_json(out)
    data = json.loads(out.read_text())
    assert data == json.loads(text)
    assert data["total"] == pytest.approx(fp.total)
    assert sum(r["score"] for r in data["by_stage"]) == pytest.approx(fp.total, rel=1e-9)
    assert data["unit"] == "kg CO2-eq"
    csv_path = fp.to_csv(tmp_path / "fp.csv")
    back = pd.read_csv(csv_path)
    assert back["score"].sum() == pytest.approx(fp.total, rel=1e-9)
    assert {"stage", "scope"} <= set(back.columns)
    html = fp._repr_html_()
    assert "By stage" in html and "kg CO2-eq" in html
