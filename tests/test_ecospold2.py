"""EcoSpold2 import: USLCI counts, solves, and agrees with the JSON-LD export of the same data."""

from __future__ import annotations

import zipfile
from collections import Counter

import numpy as np
import pytest

import lcasolve
from lcasolve.errors import DataFileError, InvalidUncertaintyError
from lcasolve.io import ecospold2
from lcasolve.methods import with_methods

pytestmark = pytest.mark.data
POLICY = {"strict": False, "allocation": "none", "ambiguous": "prefer"}


@pytest.fixture(scope="module")
def both(shared_data):
    d = shared_data / "uslci"
    j = with_methods(
        lcasolve.load(d / "uslci_olca1_5_0_json_ld.zip", **POLICY), ["IPCC AR6 GWP100"]
    )
    e = with_methods(
        lcasolve.load(d / "uslci_fy18_q1_01_olca1_5_ecospold2.zip", **POLICY), ["IPCC AR6 GWP100"]
    )
    return j, e


def test_counts_equal_the_readme(both):
    _, e = both
    c = e.metadata["counts"]
    assert c["activities"] == 767
    assert (c["outputGroup 0"], c["outputGroup 2"], c["outputGroup 3"], c["inputGroup 5"]) == (
        746,
        256,
        80,
        6457,
    )
    assert c["elementary exchanges"] == 24950
    assert (c["uncertainty lognormal"], c["uncertainty triangular"], c["uncertainty uniform"]) == (
        5130,
        379,
        24,
    )
    report = Counter(r["issue"] for r in e.metadata["link_report"])
    assert report["no reference product"] == 21  # listed, left out
    assert e.n_activities == 746


def test_solves(both):
    _, e = both
    scores = lcasolve.LCA(e).activity_scores()
    assert scores.residual <= 1e-10
    r = lcasolve.LCA(e).calculate({e.activities["id"].iloc[10]: 1.0})
    assert r.residual <= 1e-10


def _columns(system):
    """Per activity id: {row id: value} of its A and B columns (the data of the process)."""
    out = {}
    ids = system.activities["id"].tolist()
    prod = system.activities["product_id"].tolist()
    fl = system.flows["id"].tolist()
    for label, M, rows in (("A", system.A.tocsc(), prod), ("B", system.B.tocsc(), fl)):
        for j, a in enumerate(ids):
            col = out.setdefault(a, {})
            for p in range(M.indptr[j], M.indptr[j + 1]):
                col[(label, rows[M.indices[p]])] = (
                    col.get((label, rows[M.indices[p]]), 0.0) + (M.data[p])
                )
    return out


def test_same_gwp100_as_the_json_ld_export(both):
    """The two exports (one quarter apart) give the same cradle-to-gate GWP100 for most products.

    Every product that differs by more than 1e-6 is explained, and the explanation is checked:
    its supply chain (in the JSON-LD system) contains an activity that the EcoSpold2 export
    leaves out (no reference product), or an activity whose own exchanges differ between the
    two releases (a changed amount, an added or removed exchange).
    """
    j, e = both
    lj = dict(zip(j.activities["id"], lcasolve.LCA(j).activity_scores().lam[:, 0], strict=True))
    le = dict(zip(e.activities["id"], lcasolve.LCA(e).activity_scores().lam[:, 0], strict=True))
    common = sorted(set(lj) & set(le))
    assert len(common) == 739  # activity ids are the same UUIDs in both exports
    rel = {k: abs(lj[k] - le[k]) / abs(lj[k]) if lj[k] else abs(le[k]) for k in common}
    agree = [k for k in common if rel[k] <= 1e-6 and lj[k] != 0]
    assert len(agree) >= 600  # 672 measured; the issue asks for at least 20

    left_out = {
        r["process"] for r in e.metadata["link_report"] if r["issue"] == "no reference product"
    }
    cj, ce = _columns(j), _columns(e)

    def changed(a):
        x, y = cj.get(a, {}), ce.get(a, {})
        keys = set(x) | set(y)
        return any(not np.isclose(x.get(k, 0.0), y.get(k, 0.0), rtol=1e-9, atol=0.0) for k in keys)

    pos = {a: i for i, a in enumerate(j.activities["id"])}
    gone = [pos[a] for a in left_out if a in pos]
    diff_acts = [pos[a] for a in j.activities["id"] if a not in ce or changed(a)]
    lca = lcasolve.LCA(j)
    reasons = Counter()
    for k in common:
        if rel[k] <= 1e-6:
            continue
        s = lca.calculate({k: 1.0}).supply
        if np.any(s[gone] != 0):
            reasons["uses an activity the EcoSpold2 export leaves out"] += 1
        elif np.any(s[diff_acts] != 0):
            reasons["uses an activity whose exchanges changed between the releases"] += 1
        else:
            reasons["unexplained"] += 1
    assert reasons["unexplained"] == 0, reasons
    assert sum(reasons.values()) == sum(rel[k] > 1e-6 for k in common)
    assert reasons["uses an activity the EcoSpold2 export leaves out"] > 0


def test_bad_input(tmp_path, shared_data):
    src = shared_data / "uslci" / "uslci_fy18_q1_01_olca1_5_ecospold2.zip"
    with zipfile.ZipFile(src) as z:
        name = z.namelist()[5]
        text = z.read(name).decode()
    # truncated zip
    trunc = tmp_path / "trunc.zip"
    trunc.write_bytes(src.read_bytes()[:5000])
    with pytest.raises(DataFileError, match="trunc.zip"):
        ecospold2.read([trunc])
    # invalid XML names the file
    bad = tmp_path / "bad.spold"
    bad.write_text(text[: len(text) // 2])
    with pytest.raises(DataFileError, match="bad.spold.*invalid XML"):
        ecospold2.read([bad])
    # an unknown unit names the activity and exchange
    unit = tmp_path / "unit.spold"
    unit.write_text(
        text.replace(
            '<unitName xml:lang="en">kg</unitName>', '<unitName xml:lang="en">furlong</unitName>', 1
        )
    )
    with pytest.raises(DataFileError, match="exchange .*unknown unit 'furlong'"):
        ecospold2.read([unit])
    # a negative variance: strict names it, strict=False lists it and keeps the exchange
    neg = tmp_path / "neg.spold"
    i = text.find("<elementaryExchange")
    j = text.find("</elementaryExchange>", i)
    body = text[i:j] + '<uncertainty><normal meanValue="1" variance="-2"/></uncertainty>'
    neg.write_text(text[:i] + body + text[j:])
    with pytest.raises(InvalidUncertaintyError, match="neg.spold.*variance -2"):
        ecospold2.read([neg])
    s = ecospold2.read([neg], strict=False)
    assert any("variance -2" in p for p in s.metadata["problems"])
