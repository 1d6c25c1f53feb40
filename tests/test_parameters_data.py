"""Parameters and formulas of the real openLCA data: USLCI and uslci-transport."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

import lcasolve
from lcasolve.parameters import Formula
from lcasolve.parameters._build import stored_mismatch

pytestmark = pytest.mark.data

TRUCK = "a685da05-1a42-3fe1-a68b-6db458be5e07"  # long-haul truck provider, not in the data
COMMODITY = "0001b273-4a23-3c9f-b790-840b628d1bf5"


def _raw_processes(path):
    with zipfile.ZipFile(path) as z:
        for name in z.namelist():
            if name.startswith("processes/") and name.endswith(".json"):
                yield json.loads(z.read(name))


def _check_every_formula(system, path):
    """Evaluate each amountFormula of the file (read here, independently of the reader)."""
    params = system.parameters
    values = params.evaluate()
    worst, count = 0.0, 0
    for proc in _raw_processes(path):
        for ex in proc.get("exchanges", []):
            text = ex.get("amountFormula")
            if not text:
                continue
            got = params.evaluate_formula(Formula.parse(text), proc["@id"], values)
            stored = float(ex["amount"])
            if stored == 0.0:
                assert got == 0.0, (proc["@id"], text)
            else:
                worst = max(worst, abs(got - stored) / abs(stored))
            count += 1
    return worst, count


def test_uslci_formulas_reproduce_the_stored_amounts(shared_data):
    path = shared_data / "uslci" / "uslci_olca1_5_0_json_ld.zip"
    system = lcasolve.load(path, strict=False)
    params = system.parameters
    assert len(params) == 537  # README: 537 parameters in 24 processes
    assert len({p.scope for p in params.parameters}) == 24
    assert len(params.entries) == 259  # every amountFormula exchange is a formula entry
    # 14 exchanges in 2 processes name parameters with a trailing space ("h2o_Lead "), as the
    # parameters are named: formulas match names without surrounding spaces, as openLCA does
    worst, count = _check_every_formula(system, path)
    assert count == 259 and worst <= 1e-9
    assert max(stored_mismatch(system).values()) <= 1e-9
    # dependent parameters openLCA stored a value for are reproduced too
    values = params.evaluate()
    dependent = [p for p in params.parameters if p.formula is not None and np.isfinite(p.value)]
    assert len(dependent) == 202
    for p in dependent:
        assert values[p.key] == pytest.approx(p.value, rel=1e-9, abs=0), p.name


def _truck_zip(tmp_path, co2_per_kgkm):
    """A stand-in for the long-haul truck the transport processes link to (not in the data)."""
    co2 = "b6f010fb-a764-3063-af2d-bcb8309a97b7"  # the rail zip's "Carbon dioxide" flow
    process = {
        "@type": "Process",
        "@id": TRUCK,
        "name": "truck stand-in",
        "processType": "UNIT_PROCESS",
        "exchanges": [
            {
                "@type": "Exchange",
                "internalId": 1,
                "amount": 1.0,
                "isInput": False,
                "isQuantitativeReference": True,
                "flow": {"@id": "13ed0c67-549c-3a01-afee-7083b12dd949"},
                "flowProperty": {"@id": "838aaa20-0117-11db-92e3-0800200c9a66"},
                "unit": {"@id": "a40229e6-7275-42e3-a304-23d590044770"},
            },
            {
                "@type": "Exchange",
                "internalId": 2,
                "amount": co2_per_kgkm,
                "isInput": False,
                "flow": {"@id": co2},
                "flowProperty": {"@id": "93a60a56-a3c8-11da-a746-0800200b9a66"},
                "unit": {"@id": "20aadc24-a391-41cf-b340-3e4529f44bde"},
            },
        ],
    }
    out = tmp_path / "truck.zip"
    with zipfile.ZipFile(out, "w") as z:
        z.writestr(f"processes/{TRUCK}.json", json.dumps(process))
    return out, co2


def test_transport_formulas_and_a_changed_distance(shared_data, tmp_path):
    d = shared_data
    transport = d / "uslci-transport" / "uslci-transport_v1.1_json_ld.zip"
    rail = d / "uslci-transport" / "uslci-rail_v1.0_json_ld.zip"
    reference = d / "uslci" / "uslci_olca1_5_0_json_ld.zip"
    system = lcasolve.load(transport, rail, reference_data=reference)
    assert len(system.parameters) == 591
    worst, count = _check_every_formula(system, transport)
    assert count == 197 and worst <= 1e-9  # also the 162 inputs cut off (provider outside)
    assert max(stored_mismatch(system).values()) <= 1e-9

    truck, co2 = _truck_zip(tmp_path, 1e-4)
    system = lcasolve.load(transport, rail, truck, reference_data=reference)
    lca = lcasolve.LCA(system)
    row = system.flow_index[co2]
    before = float((system.B @ lca.calculate({COMMODITY: 1.0}).supply)[row])
    frac = system.parameters.get("longHaul_mass_frac", COMMODITY).value
    dist = system.parameters.get("longHaul_dist", COMMODITY).value
    assert dist == 794.58
    changed = system.with_parameters({f"{COMMODITY}/longHaul_dist": 1000.0})
    after = float((changed.B @ lcasolve.LCA(changed).calculate({COMMODITY: 1.0}).supply)[row])
    # longHaul_kgkm = longHaul_dist * longHaul_mass_frac kg*km of truck, 1e-4 kg CO2 each
    assert after - before == pytest.approx((1000.0 - dist) * frac * 1e-4, rel=1e-9)
    # another process's parameter of the same name is unchanged
    other = [p for p in changed.parameters.parameters if p.name == "longHaul_dist"]
    assert sum(p.value == 1000.0 for p in other) == 1 and len(other) > 1
