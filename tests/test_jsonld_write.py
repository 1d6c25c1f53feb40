"""JSON-LD writer: the synthetic database written as openLCA JSON-LD (v2) reads back exactly."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

import lcasolve
from lcasolve.cli.main import main
from lcasolve.io.jsonld_write import _uid, write_jsonld
from lcasolve.methods import with_methods
from lcasolve.synthetic import generate


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    system = generate(300, seed=3)
    path = write_jsonld(system, tmp_path_factory.mktemp("jl") / "eco300.zip")
    return system, path, lcasolve.load(path)


def _positions(system, back):
    index = {a: i for i, a in enumerate(back.activities["id"])}
    acts = [index[_uid("process", a)] for a in system.activities["id"]]
    findex = {f: i for i, f in enumerate(back.flows["id"])}
    flows = [findex[_uid("flow", f)] for f in system.flows["id"]]
    return acts, flows


def test_schema_v2_layout(written):
    _, path, _ = written
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        assert json.loads(z.read("olca-schema.json")) == {"version": 2}
        proc = json.loads(z.read(next(n for n in names if n.startswith("processes/"))))
        kind = {
            d["@id"]: d["flowType"]
            for d in (json.loads(z.read(n)) for n in names if n.startswith("flows/"))
        }
    assert {n.split("/")[0] for n in names} >= {
        "processes",
        "flows",
        "unit_groups",
        "flow_properties",
    }
    refs = [e for e in proc["exchanges"] if e.get("isQuantitativeReference")]
    assert len(refs) == 1 and refs[0]["isInput"] is False
    inputs = [
        e for e in proc["exchanges"] if e["isInput"] and kind[e["flow"]["@id"]] == "PRODUCT_FLOW"
    ]
    assert inputs and all("defaultProvider" in e for e in inputs)


def test_round_trip_matrices_and_uncertainty(written):
    system, _, back = written
    acts, flows = _positions(system, back)
    assert back.metadata["link_counts"]["default provider"] == len(system.technosphere) - 300
    np.testing.assert_array_equal(back.A.toarray()[np.ix_(acts, acts)], system.A.toarray())
    np.testing.assert_array_equal(back.B.toarray()[np.ix_(flows, acts)], system.B.toarray())

    # openLCA holds lognormal, normal, uniform and triangular; the other types are not written
    def kinds(s):
        u = np.concatenate([s.technosphere.uncertainty, s.biosphere.uncertainty])
        return np.bincount(u["uncertainty_type"], minlength=14)

    ours, theirs = kinds(system), kinds(back)
    for k in (2, 3, 4, 5):
        assert theirs[k] == ours[k]
    assert theirs[[8, 9, 12, 13]].sum() == 0


def test_round_trip_scores(written):
    """IPCC AR6 GWP100 matched by flow name on the read-back system = the generator's own GWP."""
    system, _, back = written
    back = with_methods(back, ["IPCC AR6 GWP100"])
    acts, _ = _positions(system, back)
    ours = lcasolve.LCA(system).activity_scores().lam[:, 0]
    theirs = lcasolve.LCA(back).activity_scores().lam[acts, 0]
    np.testing.assert_allclose(theirs, ours, rtol=1e-9)  # same matrices, other solve order


def test_generate_cli_writes_json_ld(tmp_path):
    out = tmp_path / "eco.zip"
    assert main(["generate", str(out), "--processes", "120", "--format", "jsonld"]) == 0
    assert lcasolve.detect_format(out) == "jsonld"
    assert lcasolve.load(out).n_activities == 120


def test_missing_cas_numbers_and_compartments_are_left_out(tmp_path):
    """NaN/None cells (pandas 3 keeps them through astype(str)) give no 'cas' and no NaN."""
    import numpy as np
    import pandas as pd

    from lcasolve.model import build_system

    flows = pd.DataFrame(
        {
            "id": ["CO2", "CH4", "N2O"],
            "name": ["Carbon dioxide", "Methane", "Dinitrogen monoxide"],
            "compartment": ["air", np.nan, "air"],
            "unit": ["kg", "kg", None],
            "cas": ["124-38-9", np.nan, None],
        }
    )
    system = build_system(
        [("p1", "a1", 1.0)],
        [("CO2", "a1", 1.0), ("CH4", "a1", 0.5), ("N2O", "a1", 0.25)],
        flows=flows,
    )
    path = write_jsonld(system, tmp_path / "cas.zip")
    with zipfile.ZipFile(path) as z:
        docs = [
            json.loads(z.read(n), parse_constant=lambda c: pytest.fail(f"bare {c}"))
            for n in z.namelist()
            if n.startswith("flows/")
        ]
    by_name = {d["name"]: d for d in docs}
    assert by_name["Carbon dioxide"]["cas"] == "124-38-9"
    assert "cas" not in by_name["Methane"] and "cas" not in by_name["Dinitrogen monoxide"]
    assert sorted(lcasolve.load(path).B.toarray().ravel().tolist()) == [0.25, 0.5, 1.0]
