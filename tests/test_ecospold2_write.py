"""EcoSpold2 writer: the synthetic database written as EcoSpold2 reads back, same matrices."""

from __future__ import annotations

import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import numpy as np
import pytest

import lcasolve
from lcasolve.errors import InvalidProductionError
from lcasolve.io.ecospold2_write import write_ecospold2
from lcasolve.io.jsonld_write import _uid
from lcasolve.methods import with_methods
from lcasolve.synthetic import generate

#: the units the generator uses and what an EcoSpold2 reader makes of them (1 kWh = 3.6 MJ)
READ_AS = {"kg": ("kg", 1.0), "MJ": ("MJ", 1.0), "kWh": ("MJ", 3.6), "m3": ("m3", 1.0)}
READ_AS |= {"t*km": ("t*km", 1.0), "unit": ("Item(s)", 1.0)}


def cli(*argv):
    """Run the console script; returns (exit code, stdout, stderr)."""
    exe = shutil.which("lcasolve")
    assert exe, "the lcasolve console script is not installed"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    proc = subprocess.run(
        [exe, *map(str, argv)], capture_output=True, text=True, check=False, env=env
    )
    return proc.returncode, proc.stdout, proc.stderr


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    system = generate(300, seed=3)
    path = write_ecospold2(system, tmp_path_factory.mktemp("es2") / "eco300.zip")
    return system, path, lcasolve.load(path)


def _positions(system, back):
    index = {a: i for i, a in enumerate(back.activities["id"])}
    acts = [index[_uid("process", a)] for a in system.activities["id"]]
    findex = {f: i for i, f in enumerate(back.flows["id"])}
    flows = [findex[_uid("flow", f)] for f in system.flows["id"]]
    return acts, flows


def test_files_are_ecoinvent_layout(written):
    system, path, back = written
    assert lcasolve.detect_format(path) == "ecospold2"
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
    assert len(names) == 300
    assert all(n.endswith(".spold") and n.count("_") == 1 for n in names)
    # every input links through activityLinkId, nothing is left unlinked or ambiguous
    counts = back.metadata["link_counts"]
    assert counts["reference"] == 300
    assert counts["default provider"] == len(system.technosphere) - 300
    assert back.metadata["problems"] == []
    assert back.activities["name"].tolist() == system.activities["name"].tolist()


def test_round_trip_matrices(written):
    system, _, back = written
    acts, flows = _positions(system, back)
    units = system.activities["unit"].tolist()
    factor = np.array([READ_AS[u][1] for u in units])
    assert back.activities["unit"].tolist() == [READ_AS[u][0] for u in units]
    assert (factor != 1).any()  # the test covers a converted unit
    # rows of A are in the unit the reader converts to; B is unchanged
    expected = factor[:, None] * system.A.toarray()
    np.testing.assert_allclose(back.A.toarray()[np.ix_(acts, acts)], expected, rtol=1e-12, atol=0)
    np.testing.assert_allclose(
        back.B.toarray()[np.ix_(flows, acts)], system.B.toarray(), rtol=1e-12, atol=0
    )


def test_round_trip_uncertainty(written):
    system, _, back = written

    def kinds(s):
        u = np.concatenate([s.technosphere.uncertainty, s.biosphere.uncertainty])
        return np.bincount(u["uncertainty_type"], minlength=14)

    ours, theirs = kinds(system), kinds(back)
    for k in (2, 3, 4, 5):  # the distributions EcoSpold2 and the reader share
        assert theirs[k] == ours[k]
    assert theirs[[8, 9, 12, 13]].sum() == 0
    # the lognormal spreads of B, entry by entry
    acts, flows = _positions(system, back)
    sb, bb = system.biosphere, back.biosphere
    ours_s = {
        (flows[r], acts[c]): u["scale"]
        for r, c, u in zip(sb.row, sb.col, sb.uncertainty, strict=True)
        if u["uncertainty_type"] == 2
    }
    theirs_s = {
        (r, c): u["scale"]
        for r, c, u in zip(bb.row, bb.col, bb.uncertainty, strict=True)
        if u["uncertainty_type"] == 2
    }
    assert theirs_s.keys() == ours_s.keys()
    np.testing.assert_allclose([theirs_s[k] for k in ours_s], list(ours_s.values()), rtol=1e-12)


def test_round_trip_scores(written):
    """IPCC AR6 GWP100 matched by flow name on the read-back system = the generator's own GWP."""
    system, _, back = written
    back = with_methods(back, ["IPCC AR6 GWP100"])
    acts, _ = _positions(system, back)
    ours = lcasolve.LCA(system).activity_scores().lam[:, 0]
    theirs = lcasolve.LCA(back).activity_scores().lam[acts, 0]
    # scores per unit of product: the kWh products' scores are per MJ after reading
    factor = np.array([READ_AS[u][1] for u in system.activities["unit"]])
    np.testing.assert_allclose(theirs * factor, ours, rtol=1e-9)


def test_failed_write_leaves_nothing(tmp_path, monkeypatch):
    system = generate(20, seed=1)
    out = tmp_path / "eco.zip"

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(zipfile.ZipFile, "writestr", broken)
    with pytest.raises(OSError, match="disk full"):
        write_ecospold2(system, out)
    assert list(tmp_path.iterdir()) == []


def test_generate_console_script_writes_ecospold2(tmp_path):
    out = tmp_path / "eco.zip"
    code, stdout, stderr = cli("generate", out, "--processes", "120", "--format", "ecospold2")
    assert code == 0, stderr
    assert "(ecospold2)" in stdout
    back = lcasolve.load(out)
    assert lcasolve.detect_format(out) == "ecospold2" and back.n_activities == 120
    ref = generate(120, seed=42)
    acts, flows = _positions(ref, back)
    np.testing.assert_allclose(
        back.B.toarray()[np.ix_(flows, acts)], ref.B.toarray(), rtol=1e-12, atol=0
    )
    # an existing file is kept without --overwrite: bad data, exit 1, one line
    code, _, stderr = cli("generate", out, "--processes", "120", "--format", "ecospold2")
    assert code == 1 and len(stderr.strip().splitlines()) == 1


def test_positive_input_and_its_distribution_keep_their_sign(tmp_path):
    """A positive off-diagonal entry (a credit) is an input of negative amount; its range too."""
    import dataclasses

    from lcasolve.model import build_system

    system = build_system(
        [("p1", "a1", 1.0), ("p2", "a2", 2.0), ("p2", "a1", -0.5), ("p1", "a2", 0.25)],
        [("CO2", "a1", 1.0), ("CO2", "a2", 3.0)],
    )
    tech = system.technosphere
    unc = tech.uncertainty.copy()
    (k,) = np.flatnonzero(tech.value == 0.25)
    unc[k]["uncertainty_type"], unc[k]["minimum"], unc[k]["maximum"] = 4, 0.2, 0.3
    system = dataclasses.replace(system, technosphere=dataclasses.replace(tech, uncertainty=unc))
    back = lcasolve.load(write_ecospold2(system, tmp_path / "credit.zip"))
    acts, _ = _positions(system, back)
    np.testing.assert_array_equal(back.A.toarray()[np.ix_(acts, acts)], system.A.toarray())
    bt = back.technosphere
    (m,) = np.flatnonzero(bt.value == 0.25)
    rec = bt.uncertainty[m]
    # the record is in the source sign (an input of -0.25 on [-0.3, -0.2]), flipped into A
    assert bt.flip[m] and rec["uncertainty_type"] == 4
    assert (-rec["maximum"], -rec["minimum"]) == (0.2, 0.3)


def test_missing_cas_numbers_are_left_out(tmp_path):
    """NaN/None CAS cells (a flows table without a CAS for every flow) are not written."""
    import pandas as pd

    from lcasolve.model import build_system

    flows = pd.DataFrame(
        {
            "id": ["CO2", "CH4", "N2O"],
            "name": ["Carbon dioxide", "Methane", "Dinitrogen monoxide"],
            "compartment": ["air", "air", "air"],
            "unit": ["kg", "kg", "kg"],
            "cas": ["124-38-9", np.nan, None],
        }
    )
    system = build_system(
        [("p1", "a1", 1.0)],
        [("CO2", "a1", 1.0), ("CH4", "a1", 0.5), ("N2O", "a1", 0.25)],
        flows=flows,
    )
    path = write_ecospold2(system, tmp_path / "cas.zip")
    with zipfile.ZipFile(path) as z:
        (text,) = [z.read(n).decode() for n in z.namelist()]
    assert text.count("casNumber=") == 1 and 'casNumber="124-38-9"' in text
    back = lcasolve.load(path)
    assert sorted(back.B.toarray().ravel().tolist()) == [0.25, 0.5, 1.0]


def _with_landfill():
    """a1 makes p1 and generates 0.3 kg of waste w, which landfill (a2) treats (ecoinvent's signs:
    the treatment's production −1, the waste generated +0.3 in A); the landfill emits CH4."""
    import pandas as pd

    from lcasolve.model import build_system

    activities = pd.DataFrame(
        {
            "id": ["a1", "a2"],
            "name": ["making", "landfill"],
            "product_id": ["p1", "w"],
            "product": ["thing", "waste"],
            "unit": ["kg", "kg"],
            "location": ["GLO", "GLO"],
            "waste": [False, True],
        }
    )
    return build_system(
        [("p1", "a1", 1.0), ("w", "a2", -1.0), ("w", "a1", 0.3)],
        [("CO2", "a1", 2.0), ("CH4", "a2", 0.1)],
        {"GWP": {"CO2": 1.0, "CH4": 30.0}},
        activities=activities,
    )


def test_waste_treatment_round_trip(tmp_path):
    """ecoinvent's treatment layout (negative reference classified 'Waste', waste generated as a
    negative input) reads back as a treatment with the same scores: 2 + 0.3 · 0.1 · 30 = 2.9."""
    system = _with_landfill()
    path = write_ecospold2(system, tmp_path / "waste.zip")
    with zipfile.ZipFile(path) as z:
        texts = [z.read(n).decode() for n in z.namelist()]
    assert (
        sum('<classificationValue xml:lang="en">Waste</classificationValue>' in t for t in texts)
        == 1
    )
    back = lcasolve.load(path)
    assert back.metadata["counts"]["waste treatments (negative reference product)"] == 1
    assert back.metadata["counts"]["waste inputs read as outputs"] == 1
    lca = lcasolve.LCA(back)
    making = back.activities.loc[back.activities["name"] == "making", "id"].iloc[0]
    supply = lca.calculate({making: 1.0}).supply
    np.testing.assert_allclose(sorted(supply), [0.3, 1.0], rtol=1e-12)
    inventory = dict(zip(back.flows["name"], back.B @ supply, strict=True))
    assert inventory == pytest.approx({"CO2": 2.0, "CH4": 0.03}, rel=1e-12)


def test_positive_input_of_a_treated_waste_is_refused(tmp_path):
    """A waste treatment's waste taken in with a positive amount contradicts the convention."""
    path = write_ecospold2(_with_landfill(), tmp_path / "waste.zip")
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(path) as z, zipfile.ZipFile(bad, "w") as out:
        for n in z.namelist():
            out.writestr(n, z.read(n).decode().replace('amount="-0.3"', 'amount="0.3"'))
    with pytest.raises(InvalidProductionError, match="ecoinvent writes a waste sent to treatment"):
        lcasolve.load(bad)
    lenient = lcasolve.load(bad, strict=False)
    assert any("negative input" in p for p in lenient.metadata["problems"])


def test_negative_reference_not_classified_waste_is_refused(tmp_path):
    path = write_ecospold2(_with_landfill(), tmp_path / "waste.zip")
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(path) as z, zipfile.ZipFile(bad, "w") as out:
        for n in z.namelist():
            out.writestr(n, z.read(n).decode().replace(">Waste<", ">allocatable product<"))
    with pytest.raises(InvalidProductionError, match="classified 'allocatable product'"):
        lcasolve.load(bad)
