"""Green finance and procurement: rank among peers, PCF-linked rate, life-cycle cost (analytic)."""

from __future__ import annotations

import numpy as np
import pytest

from lcasolve.errors import InputError
from lcasolve.examples import load_example
from lcasolve.lca import LCA
from lcasolve.pcf.finance import life_cycle_cost, pcf_linked_rate, rank
from lcasolve.pcf.report import FinanceSection, MonteCarloSection, build_report


def test_rank_is_the_share_of_peers_below():
    peers = [100.0, 200.0, 300.0, 400.0]
    r = rank(250.0, peers)
    assert r.percentile == 0.5 and r.median == 250.0 and r.peers == 4
    assert rank(200.0, peers).percentile == (1 + 0.5) / 4  # ties count half
    samples = np.array([150.0] * 30 + [350.0] * 70)
    r = rank(250.0, peers, samples)
    assert r.p_better_than_median == 0.3
    assert (r.lo, r.hi) == (0.25, 0.75)
    with pytest.raises(InputError):
        rank(1.0, [1.0])


def test_pcf_linked_rate_classes_and_expected_rate():
    classes = {"A": (700.0, -0.25), "B": (800.0, 0.0), "C": (float("inf"), 0.5)}
    p = pcf_linked_rate(750.0, base_rate=4.0, classes=classes)
    assert p.performance_class == "B" and p.rate == 4.0
    s = np.array([650.0] * 2 + [750.0] * 5 + [900.0] * 3)
    p = pcf_linked_rate(750.0, base_rate=4.0, classes=classes, samples=s)
    assert p.probabilities == {"A": 0.2, "B": 0.5, "C": 0.3, "(above all)": 0.0}
    assert p.expected_rate == pytest.approx(4.0 + 0.2 * -0.25 + 0.3 * 0.5, rel=1e-12)
    with pytest.raises(InputError, match="increase"):
        pcf_linked_rate(1.0, base_rate=1.0, classes={"A": (2.0, 0.0), "B": (1.0, 0.0)})


def test_life_cycle_cost_discounts_and_prices_co2():
    c = life_cycle_cost(
        2000.0, purchase=100.0, annual_cost=10.0, years=2, discount_rate=0.1, carbon_price=50.0
    )
    assert c.running == pytest.approx(10 / 1.1 + 10 / 1.21, rel=1e-12)
    assert c.co2_cost == pytest.approx(2.0 * 50.0, rel=1e-12)  # 2 t at 50 per t
    assert c.total == pytest.approx(100 + c.running + 100.0, rel=1e-12)
    s = np.array([1000.0, 3000.0])
    c = life_cycle_cost(2000.0, purchase=0.0, carbon_price=100.0, budget=150.0, samples=s)
    assert c.mean == 200.0 and c.p_above == 0.5


def test_report_has_the_finance_section_when_asked():
    system, demand = load_example("cement")
    lca = LCA(system)
    peers = np.linspace(600.0, 1000.0, 41)
    report = build_report(
        lca,
        demand,
        iterations=60,
        seed=4,
        peers=peers,
        pricing={"base_rate": 3.5, "classes": {"A": (750.0, -0.2), "B": (float("inf"), 0.3)}},
        procurement={"purchase": 110.0, "annual_cost": 0.0, "years": 0},
    )
    fin = report.section(FinanceSection)
    mc = report.section(MonteCarloSection)
    assert fin is not None and mc is not None
    total = report.footprint.total
    assert fin.ranking is not None
    assert fin.ranking.percentile == pytest.approx(np.mean(peers < total), abs=1 / 41)
    assert fin.ranking.p_better_than_median == float(np.mean(mc.samples < 800.0))
    assert fin.pricing is not None
    assert fin.pricing.probabilities["A"] == float(np.mean(mc.samples <= 750.0))
    assert fin.cost is not None
    assert fin.cost.total == pytest.approx(110.0 + total * 0.09, rel=1e-12)
    d = report.to_dict()["finance"]
    assert set(d) == {"ranking", "pricing", "life_cycle_cost"}
    html = report.to_html()
    assert "Green finance and procurement" in html and "PCF-linked pricing" in html
    assert "rank among 41 peers" in report.to_text()
    assert report.section(FinanceSection) is not None
    assert build_report(lca, demand).section(FinanceSection) is None


def test_cli_finance_options(tmp_path):
    import json
    import subprocess

    from lcasolve.examples import example_path

    peers = tmp_path / "peers.txt"
    peers.write_text("\n".join(str(x) for x in range(600, 1001, 20)) + "\n")
    argv = ["lcasolve", "report", str(example_path("cement")), "--demand", "cement=1"]
    argv += ["--iterations", "30", "--peers", str(peers), "--purchase", "110", "--json"]
    argv += ["--loan-rate", "3.5", "--loan-class", "A=750:-0.2", "--loan-class", "B=inf:0.3"]
    proc = subprocess.run(argv, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    fin = json.loads(proc.stdout)["finance"]
    total = json.loads(proc.stdout)["total"]
    values = np.arange(600, 1001, 20, dtype=float)
    assert fin["ranking"]["percentile"] == pytest.approx(np.mean(values < total))
    assert fin["pricing"]["performance_class"] == ("A" if total <= 750 else "B")
    assert fin["life_cycle_cost"]["total"] == pytest.approx(110 + total * 0.09, rel=1e-12)
    bad = subprocess.run([*argv[:-6], "--loan-class", "A=x"], capture_output=True, text=True)
    assert bad.returncode == 1 and "--loan-rate" in bad.stderr
