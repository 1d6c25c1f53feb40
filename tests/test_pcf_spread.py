"""Honest uncertainty: the report warns when the Monte Carlo samples disagree with the footprint.

An analytic case (a uniform range given in the wrong unit), USLCI hardboard (a uniform
distribution whose mean is 4.5 million times its amount) and USLCI cement (nothing uncertain
reaches the product).
"""

from __future__ import annotations

import numpy as np
import pytest

import lcasolve
from lcasolve.lca import LCA
from lcasolve.methods import with_methods
from lcasolve.pcf.report import MonteCarloSection, build_report
from lcasolve.pcf.spread import check_spread

HARDBOARD = "ca1d1dfa-fd3c-35f1-bea7-a037251deb04"
CEMENT = "62993671-574c-3fc5-b66a-6be3bb21ad3d"


@pytest.fixture()
def slipped(tmp_path):
    """p emits 1 kg CO2 and takes 0.001 kg of m (10 kg CO2/kg), m ~ uniform [0, 2] kg."""
    (tmp_path / "activities.csv").write_text(
        "id,name,product,unit\np,making p,P,kg\nm,making m,M,kg\n"
    )
    (tmp_path / "flows.csv").write_text(
        'id,name,compartment,unit\nco2,"Carbon dioxide, fossil",air,kg\n'
    )
    (tmp_path / "exchanges.csv").write_text(
        "activity,kind,provider,flow,amount,unit,distribution,gsd,sd,min,mode,max\n"
        "p,technosphere,m,,0.001,kg,uniform,,,0,,2\n"
        "p,biosphere,,co2,1,kg,,,,,,\n"
        "m,biosphere,,co2,10,kg,,,,,,\n"
    )
    system = with_methods(lcasolve.load(tmp_path), ["IPCC AR6 GWP100"])
    return LCA(system)


def test_a_uniform_in_the_wrong_unit_is_named(slipped):
    report = build_report(slipped, {"p": 1.0}, iterations=400, seed=5)
    assert report.footprint.total == pytest.approx(1.01, rel=1e-12)
    mc = report.section(MonteCarloSection)
    assert mc is not None and mc.check is not None
    # analytic: h = 1 + 10 a, E[a] = 1 -> E[h] = 11; the samples' mean within 4 standard errors
    se = 10 * (2.0 / np.sqrt(12)) / np.sqrt(400)
    assert abs(mc.mean - 11.0) < 4 * se
    assert mc.check.outside and mc.check.mean_off
    d = mc.check.mean_drivers[0]
    assert d.distribution == "uniform" and d.row_name == "M" and d.col_name == "making p"
    assert d.mean_shift == pytest.approx(10 * (1.0 - 0.001), rel=1e-12)
    assert d.variance_share == pytest.approx(1.0, rel=1e-12)  # the only uncertain entry
    assert any("uniform distribution of M into making p" in w for w in mc.check.warnings)
    assert "warning: the deterministic footprint 1.01 lies outside" in report.to_text()
    # inventory entries it depends on: the uniform input and two fixed CO2 emissions;
    # |dh/dx x|: input 10 x 0.001, emissions 1 x 1 and (0.001 x 10) -> 0.01 / 1.02 uncertain
    assert mc.check.coverage == pytest.approx(
        {"uniform": 1, "none": 2, "uncertain share": 0.01 / 1.02}
    )


def test_agreeing_samples_give_no_warning(slipped):
    fp = build_report(slipped, {"p": 1.0}).footprint
    rng = np.random.default_rng(0)
    check = check_spread(slipped, fp, fp.total * (1 + 0.05 * rng.standard_normal(500)))
    assert check.warnings == []
    flat = check_spread(slipped, fp, np.full(10, fp.total))
    assert flat.no_spread and "no uncertain entry reaches the product" in flat.warnings[0]


@pytest.fixture(scope="module")
def uslci(shared_data):
    path = shared_data / "uslci" / "uslci_olca1_5_0_json_ld.zip"
    return LCA(with_methods(lcasolve.load(path, strict=False), ["IPCC AR6 GWP100"]))


def test_uslci_hardboard_warning_names_the_uniform_that_drives_the_mean(uslci):
    report = build_report(uslci, {HARDBOARD: 1.0}, iterations=200, seed=1)
    mc = report.section(MonteCarloSection)
    assert mc is not None and mc.check is not None
    det = report.footprint.total
    assert not (mc.lo <= det <= mc.hi)  # the deterministic value is outside its own interval
    assert mc.mean / det > 5
    d = mc.check.mean_drivers[0]
    assert d.distribution == "uniform"
    assert d.row_name.strip() == "Ethylene glycol, at plant"
    assert d.col_name == "Wood Combusted, at boiler, at hardboard mill"
    # the entry read back from the system: amount vs its uniform's bounds
    e = uslci.system.technosphere
    rec = e.uncertainty[d.entry]
    assert int(rec["uncertainty_type"]) == 4
    mid = (float(rec["minimum"]) + float(rec["maximum"])) / 2
    assert mid / abs(e.value[d.entry]) > 1e6
    # its shift explains the departure of the mean (first order, within the MC error)
    assert d.mean_shift == pytest.approx(mc.mean - det, rel=0.15)
    warnings = mc.check.warnings
    assert any("uniform distribution of Ethylene glycol" in w for w in warnings)
    html = report.to_html()
    assert "⚠ the deterministic footprint" in html
    assert "see the Monte Carlo warnings" in html


def test_uslci_cement_says_nothing_uncertain_reaches_it(uslci):
    report = build_report(uslci, {CEMENT: 1.0}, iterations=30, seed=1)
    mc = report.section(MonteCarloSection)
    assert mc is not None and mc.check is not None and mc.check.no_spread
    assert mc.lo == mc.hi == pytest.approx(report.footprint.total, rel=1e-12)
    html = report.to_html()
    assert "no uncertain entry reaches the product" in html
    assert "alt='Monte Carlo distribution'" not in html  # no empty histogram
