"""ILCD reader: a hand-checkable archive built here, and the TianGong database."""

from __future__ import annotations

import math
import zipfile
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

import lcasolve
from lcasolve.errors import (
    DataFileError,
    InvalidUncertaintyError,
    MissingReferenceError,
    NotProductiveError,
)
from lcasolve.io import detect_format, ilcd
from lcasolve.io.report import ImportReport

C = "http://lca.jrc.it/ILCD/Common"
MASS, KG = "93a60a56-0000-0000-0000-000000000001", "93a60a57-0000-0000-0000-000000000001"


def unit_group() -> str:
    return f"""<unitGroupDataSet xmlns="http://lca.jrc.it/ILCD/UnitGroup" xmlns:common="{C}">
<unitGroupInformation><dataSetInformation><common:UUID>{KG}</common:UUID></dataSetInformation>
<quantitativeReference><referenceToReferenceUnit>1</referenceToReferenceUnit>
</quantitativeReference></unitGroupInformation>
<units><unit dataSetInternalID="0"><name>g</name><meanValue>0.001</meanValue></unit>
<unit dataSetInternalID="1"><name>kg</name><meanValue>1</meanValue></unit></units>
</unitGroupDataSet>"""


def flow_property() -> str:
    return f"""<flowPropertyDataSet xmlns="http://lca.jrc.it/ILCD/FlowProperty" xmlns:common="{C}">
<flowPropertiesInformation><dataSetInformation><common:UUID>{MASS}</common:UUID>
<common:name xml:lang="en">Mass</common:name></dataSetInformation>
<quantitativeReference><referenceToReferenceUnitGroup refObjectId="{KG}"/>
</quantitativeReference></flowPropertiesInformation></flowPropertyDataSet>"""


def flow(uid: str, name: str, kind: str, category: str = "") -> str:
    cat = (
        f"<common:elementaryFlowCategorization><common:category level='0'>{category}"
        f"</common:category></common:elementaryFlowCategorization>"
        if category
        else ""
    )
    return f"""<flowDataSet xmlns="http://lca.jrc.it/ILCD/Flow" xmlns:common="{C}">
<flowInformation><dataSetInformation><common:UUID>{uid}</common:UUID>
<name><baseName xml:lang="en">{name}</baseName></name>
<classificationInformation>{cat}</classificationInformation></dataSetInformation>
<quantitativeReference><referenceToReferenceFlowProperty>0</referenceToReferenceFlowProperty>
</quantitativeReference></flowInformation>
<modellingAndValidation><LCIMethod><typeOfDataSet>{kind}</typeOfDataSet></LCIMethod>
</modellingAndValidation>
<flowProperties><flowProperty dataSetInternalID="0">
<referenceToFlowPropertyDataSet refObjectId="{MASS}"/><meanValue>1.0</meanValue>
</flowProperty></flowProperties></flowDataSet>"""


def exchange(iid: int, fid: str | None, direction: str, amount: float, extra: str = "") -> str:
    ref = f'<referenceToFlowDataSet refObjectId="{fid}"/>' if fid else ""
    return (
        f'<exchange dataSetInternalID="{iid}">{ref}<exchangeDirection>{direction}'
        f"</exchangeDirection><meanAmount>{amount}</meanAmount>"
        f"<resultingAmount>{amount}</resultingAmount>{extra}</exchange>"
    )


def process(uid: str, name: str, location: str, ref: int, exchanges: list[str]) -> str:
    return f"""<processDataSet xmlns="http://lca.jrc.it/ILCD/Process" xmlns:common="{C}">
<processInformation><dataSetInformation><common:UUID>{uid}</common:UUID>
<name><baseName xml:lang="en">{name}</baseName></name></dataSetInformation>
<quantitativeReference><referenceToReferenceFlow>{ref}</referenceToReferenceFlow>
</quantitativeReference><geography>
<locationOfOperationSupplyOrProduction location="{location}"/></geography>
</processInformation><modellingAndValidation><LCIMethodAndAllocation>
<typeOfDataSet>Unit process, single operation</typeOfDataSet></LCIMethodAndAllocation>
</modellingAndValidation><exchanges>{"".join(exchanges)}</exchanges></processDataSet>"""


def method(uid: str, name: str, factors: list[tuple[str, str, float]]) -> str:
    rows = "".join(
        f'<factor><referenceToFlowDataSet refObjectId="{f}"/><exchangeDirection>{d}'
        f"</exchangeDirection><meanValue>{v}</meanValue></factor>"
        for f, d, v in factors
    )
    return f"""<LCIAMethodDataSet xmlns="http://lca.jrc.it/ILCD/LCIAMethod" xmlns:common="{C}">
<LCIAMethodInformation><dataSetInformation><common:UUID>{uid}</common:UUID>
<common:name xml:lang="en">{name}</common:name></dataSetInformation>
<quantitativeReference><referenceQuantity refObjectId="{MASS}"/></quantitativeReference>
</LCIAMethodInformation><characterisationFactors>{rows}</characterisationFactors>
</LCIAMethodDataSet>"""


STEEL, POWER, CO2, ORE = "f-steel", "f-power", "f-co2", "f-ore"
RSD = "<uncertaintyDistributionType>log-normal</uncertaintyDistributionType>"


def archive(tmp_path: Path, *, root: str = "ILCD/", extra: dict[str, str] | None = None) -> Path:
    """Steel (CN) takes 2 kWh-like units of power; power from two provinces; CO2 out and in."""
    files = {
        f"unitgroups/{KG}.xml": unit_group(),
        f"flowproperties/{MASS}.xml": flow_property(),
        f"flows/{STEEL}.xml": flow(STEEL, "steel", "Product flow"),
        f"flows/{POWER}.xml": flow(POWER, "power", "Product flow"),
        f"flows/{CO2}.xml": flow(CO2, "carbon dioxide", "Elementary flow", "Emissions"),
        f"flows/{ORE}.xml": flow(ORE, "iron ore", "Elementary flow", "Resources"),
        "processes/p-steel.xml": process(
            "p-steel",
            "steel making",
            "CN",
            0,
            [
                exchange(0, STEEL, "Output", 2.0),
                exchange(
                    1,
                    POWER,
                    "Input",
                    3.0,
                    RSD + "<relativeStandardDeviation95In>2.25</relativeStandardDeviation95In>",
                ),
                exchange(2, CO2, "Output", 4.0),
                exchange(3, ORE, "Input", 5.0),
                exchange(4, CO2, "Input", 1.0),  # uptake: Input factor -1 applies to it
            ],
        ),
        "processes/p-power-sd.xml": process(
            "p-power-sd",
            "power",
            "SD-CN",
            0,
            [exchange(0, POWER, "Output", 1.0), exchange(1, CO2, "Output", 0.5)],
        ),
        "processes/p-power-js.xml": process(
            "p-power-js",
            "power",
            "JS-CN",
            0,
            [exchange(0, POWER, "Output", 1.0), exchange(1, CO2, "Output", 0.9)],
        ),
        "lciamethods/m-gwp.xml": method(
            "m-gwp", "Climate change", [(CO2, "Output", 1.0), (CO2, "Input", -1.0)]
        ),
        "lciamethods/m-out.xml": method("m-out", "Emissions only", [(CO2, "Output", 1.0)]),
    }
    files.update(extra or {})
    path = tmp_path / "small_ilcd.zip"
    with zipfile.ZipFile(path, "w") as z:
        for name, text in files.items():
            z.writestr(root + name, text)
    return path


def test_small_archive_values_by_hand(tmp_path: Path) -> None:
    path = archive(tmp_path)
    assert detect_format(path) == "ilcd"
    s = lcasolve.load(path, ambiguous="split")
    assert s.n_activities == 3
    assert sorted(s.categories["name"]) == ["Climate change", "Emissions only"]
    # 1 unit of steel: 0.5 process runs, 1.5 power split equally between the provinces
    r = lcasolve.LCA(s).calculate({"p-steel": 1.0})
    supply = dict(zip(s.activities["id"], r.supply, strict=True))
    assert supply == pytest.approx({"p-steel": 0.5, "p-power-sd": 0.75, "p-power-js": 0.75})
    # CO2: 0.5 × (4 out − 1 in, the uptake by its Input factor −1) + 0.75 × (0.5 + 0.9)
    assert r.score("Climate change") == pytest.approx(0.5 * (4 - 1) + 0.75 * 1.4, rel=1e-12)
    # a method without an Input factor does not count the uptake (no netting of directions)
    assert r.score("Emissions only") == pytest.approx(0.5 * 4 + 0.75 * 1.4, rel=1e-12)
    rep = ImportReport.from_system(s)
    (split,) = rep.select("ambiguous")
    assert split["action"] == "split among 2" and "same country" in split["detail"]
    # log-normal GSD² = 2.25: σ = ln 1.5, median the amount
    tech = s.technosphere
    k = int(np.flatnonzero(tech.uncertainty["uncertainty_type"] == 2)[0])
    assert tech.uncertainty[k]["scale"] == pytest.approx(math.log(1.5))


def test_root_or_not_and_folders(tmp_path: Path) -> None:
    a = lcasolve.load(archive(tmp_path, root=""), ambiguous="cutoff")
    folder = tmp_path / "unzipped"
    with zipfile.ZipFile(archive(tmp_path)) as z:
        z.extractall(folder)
    b = lcasolve.load(folder, ambiguous="cutoff")
    assert a.n_activities == b.n_activities == 3
    assert np.allclose(a.A.toarray(), b.A.toarray())


def test_problems_listed_or_strict(tmp_path: Path) -> None:
    extra = {
        "processes/p-bad.xml": process(
            "p-bad",
            "bad",
            "CN",
            0,
            [
                exchange(0, "f-bad-out", "Output", 1.0),
                exchange(1, "f-ghost", "Input", 1.0),
                exchange(2, None, "Input", 1.0),
                exchange(
                    3,
                    CO2,
                    "Output",
                    1.0,
                    "<uncertaintyDistributionType>normal</uncertaintyDistributionType>",
                ),
            ],
        ),
        "flows/f-bad-out.xml": flow("f-bad-out", "bad out", "Product flow"),
    }
    path = archive(tmp_path, extra=extra)
    with pytest.raises(MissingReferenceError, match=r"p-bad\.xml.*f-ghost.*not in the archive"):
        ilcd.read([path])
    s = ilcd.read([path], strict=False, ambiguous="prefer")
    problems = ImportReport.from_system(s).problems
    assert len(problems) == 3
    assert any("f-ghost" in p for p in problems)
    assert any("no flow reference" in p for p in problems)
    assert any("normal uncertainty without a spread" in p for p in problems)
    counts = s.metadata["counts"]
    assert counts["exchanges_of_absent_flows"] == 1
    assert counts["exchanges_without_flow_reference"] == 1
    assert counts["uncertainty_without_spread"] == 1


def test_entities_refused(tmp_path: Path) -> None:
    evil = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>' + flow(
        "f-evil", "&e;", "Product flow"
    )
    path = archive(tmp_path, extra={"flows/f-evil.xml": evil})
    with pytest.raises(DataFileError, match="entity declarations"):
        ilcd.read([path])


def test_spreadless_uncertainty_strict(tmp_path: Path) -> None:
    bad = exchange(1, CO2, "Output", 1.0, RSD)
    extra = {
        "processes/p-u.xml": process("p-u", "u", "CN", 0, [exchange(0, ORE, "Output", 1.0), bad])
    }
    with pytest.raises(InvalidUncertaintyError, match=r"p-u\.xml.*without a spread"):
        ilcd.read([archive(tmp_path, extra=extra)])


# ---------------------------------------------------------------------------- TianGong
def _tiangong_facts(zip_path: Path) -> dict[str, object]:
    """Counts of the archive by a plain scan of its XML (independent of the reader)."""
    import re

    with zipfile.ZipFile(zip_path) as z:
        names = z.namelist()
        flows = {n.rsplit("/", 1)[-1][:-4] for n in names if "/flows/" in n and n.endswith(".xml")}
        processes = [n for n in names if "/processes/" in n and n.endswith(".xml")]
        refs: set[str] = set()
        n_exchanges = no_ref = typed = 0
        for n in processes:
            text = z.read(n).decode("utf-8")
            for ex in re.findall(r"<exchange .*?</exchange>", text, re.S):
                n_exchanges += 1
                m = re.search(r'<referenceToFlowDataSet[^>]*refObjectId="([^"]+)"', ex)
                if m:  # attribute values are normalized: newlines and tabs read as spaces
                    refs.add(re.sub(r"[\n\t\r]", " ", m.group(1)))
                else:
                    no_ref += 1
                typed += "<uncertaintyDistributionType>" in ex
    return {
        "processes": len(processes),
        "flows": len(flows),
        "exchanges": n_exchanges,
        "absent": refs - flows,
        "no_ref": no_ref,
        "typed": typed,
    }


@pytest.fixture(scope="module")
def tiangong(shared_data: Path) -> Path:
    return shared_data / "tiangong" / "tiangong_ilcd.zip"


@pytest.fixture(scope="module")
def tiangong_cutoff(tiangong: Path) -> lcasolve.System:
    return lcasolve.load(tiangong, strict=False, ambiguous="cutoff", allocation="none")


def test_tiangong_counts_and_problems(tiangong: Path, tiangong_cutoff: lcasolve.System) -> None:
    import re

    facts = _tiangong_facts(tiangong)
    # the data README: 4,133 processes, 3,021 flows, 72,719 exchanges
    assert (facts["processes"], facts["flows"], facts["exchanges"]) == (4133, 3021, 72719)
    counts = tiangong_cutoff.metadata["counts"]
    assert counts["processes_in_archive"] == 4133
    assert counts["flows"] == 3021
    assert counts["exchanges"] == 72719
    assert counts["methods"] == 18
    report = ImportReport.from_system(tiangong_cutoff)
    named = {
        m.group(1)
        for p in report.problems
        if (m := re.search(r"\(([^()]*)\) is not in the archive", p))
    }
    assert named == facts["absent"] and len(named) == 194
    assert sum("has no flow reference" in p for p in report.problems) == facts["no_ref"] == 3
    # every exchange naming a distribution: read with its spread, or listed as a problem
    listed = sum(
        "uncertainty without a spread" in p or "needs minimum < maximum" in p
        for p in report.problems
    )
    u = [
        e.uncertainty["uncertainty_type"]
        for e in (tiangong_cutoff.technosphere, tiangong_cutoff.biosphere)
    ]
    read_with_spread = int(sum((np.asarray(t) > 1).sum() for t in u))
    assert listed + read_with_spread <= facts["typed"] == 596
    assert listed >= 367


def test_tiangong_strict_stops_naming_the_file(tiangong: Path) -> None:
    with pytest.raises(MissingReferenceError, match=r"tiangong_ilcd\.zip:ILCD/processes/.*\.xml"):
        lcasolve.load(tiangong)


def test_tiangong_ceeio_block_is_not_productive(tiangong_cutoff: lcasolve.System) -> None:
    acts = tiangong_cutoff.activities
    ceeio = acts.loc[acts["name"].str.contains("CEEIO"), "id"].tolist()
    with pytest.raises(NotProductiveError, match=r"block of 145 activities.*CEEIO.*units") as e:
        lcasolve.LCA(tiangong_cutoff).calculate({ceeio[0]: 1.0})
    assert len(e.value.activities) == 145 and set(e.value.activities) <= set(ceeio)


def _plain_climate_change(zip_path: Path) -> tuple[list[str], sp.csc_matrix, dict[str, np.ndarray]]:
    """A, and per sub-indicator the direct scores h, by a minimal parse of the archive.

    The reading rules, written again without the reader: exchanges of absent flows or without
    a flow reference are skipped, a process whose reference exchange is among them is left out;
    a zero reference amount leaves the process out;
    one column per process (allocation="none": co-products dropped); a product input or a waste
    output links to the one process whose reference flow it is (a process is no candidate for
    its own input when others make it; several candidates: cut off); a self input at least as
    large as the production is cut off; a characterization factor applies to an elementary
    exchange in its exchangeDirection.
    """
    import re

    def field(block: str, name: str) -> str:
        m = re.search(rf"<{name}>\s*([^<]*?)\s*</{name}>", block)
        return m.group(1) if m else ""

    with zipfile.ZipFile(zip_path) as z:
        names = z.namelist()
        kind = {}
        for n in names:
            if "/flows/" in n and n.endswith(".xml"):
                text = z.read(n).decode("utf-8")
                kind[n.rsplit("/", 1)[-1][:-4]] = field(text, "typeOfDataSet")
        factors: dict[str, dict[tuple[str, str], float]] = {}
        for n in names:
            if "/lciamethods/" in n and n.endswith(".xml"):
                text = z.read(n).decode("utf-8")
                name = re.search(r'<common:name xml:lang="en">([^<]*)<', text).group(1)
                table = factors[name.strip()] = {}
                for f in re.findall(r"<factor>(.*?)</factor>", text, re.S):
                    fid = re.search(r'refObjectId="([^"]+)"', f).group(1)
                    table.setdefault(
                        (fid, field(f, "exchangeDirection")), float(field(f, "meanValue"))
                    )
        processes = []
        for n in sorted(n for n in names if "/processes/" in n and n.endswith(".xml")):
            text = z.read(n).decode("utf-8")
            uid = field(text, "common:UUID")
            ref = field(text, "referenceToReferenceFlow")
            exchanges = []
            broken = not ref
            for ex in re.findall(r"<exchange (.*?)</exchange>", text, re.S):
                iid = re.match(r'dataSetInternalID="([^"]*)"', ex).group(1)
                m = re.search(r'<referenceToFlowDataSet[^>]*refObjectId="([^"]+)"', ex)
                fid = re.sub(r"[\n\t\r]", " ", m.group(1)) if m else ""
                if fid not in kind:
                    broken = broken or iid == ref
                    continue
                amount = float(field(ex, "resultingAmount") or field(ex, "meanAmount") or 0)
                exchanges.append((iid == ref, fid, field(ex, "exchangeDirection"), amount))
            made = [a for r, _, _, a in exchanges if r]
            if not broken and len(made) == 1 and made[0] != 0:  # a zero reference: left out
                processes.append((uid, exchanges))
    ids = [uid for uid, _ in processes]
    col = {uid: j for j, uid in enumerate(ids)}
    makers: dict[str, list[int]] = {}
    for j, (_, exchanges) in enumerate(processes):
        fid = next(f for r, f, _, _ in exchanges if r)
        makers.setdefault(fid, []).append(j)
    rows, cols, vals = [], [], []
    h = {name: np.zeros(len(ids)) for name in factors}
    for j, (_, exchanges) in enumerate(processes):
        production = next(a for r, _, _, a in exchanges if r)
        rows.append(j), cols.append(j), vals.append(abs(production))
        for is_ref, fid, direction, amount in exchanges:
            if is_ref:
                continue
            k = kind[fid]
            if k == "Elementary flow":
                for name, table in factors.items():
                    h[name][j] += table.get((fid, direction), 0.0) * amount
                continue
            if (k == "Waste flow") != (direction == "Output"):
                continue  # a co-product (product output, waste taken in): dropped
            found = makers.get(fid, [])
            if len(found) > 1 and j in found:
                found = [i for i in found if i != j]
            if len(found) != 1 or (found[0] == j and amount >= abs(production)):
                continue
            rows.append(found[0]), cols.append(j), vals.append(-amount)
    A = sp.csc_matrix((vals, (rows, cols)), shape=(len(ids), len(ids)))  # noqa: N806
    assert col
    return ids, A, h


def test_tiangong_climate_change_equals_a_plain_computation(
    tiangong: Path, tiangong_cutoff: lcasolve.System
) -> None:
    from scipy.sparse.csgraph import breadth_first_order
    from scipy.sparse.linalg import splu

    ids, A, h = _plain_climate_change(tiangong)  # noqa: N806
    system = tiangong_cutoff
    assert sorted(ids) == sorted(system.activities["id"])
    # products whose supply chain avoids the CEEIO block
    ceeio = {
        i
        for i, n in zip(system.activities["id"], system.activities["name"], strict=True)
        if "CEEIO" in n
    }
    graph = sp.csr_matrix(A.T != 0)
    clean = [
        j
        for j in range(0, len(ids), 7)
        if not ceeio & {ids[k] for k in breadth_first_order(graph, j, return_predecessors=False)}
    ]
    assert len(clean) > 400
    lu = splu(A)
    lca = lcasolve.LCA(system)
    result = lca.calculate_many({ids[j]: {ids[j]: 1.0} for j in clean})
    assert result.residual <= 1e-10
    scores = result.scores.T  # category rows, demand columns
    for j in clean:
        e = np.zeros(len(ids))
        e[j] = 1.0
        s = lu.solve(e)
        for name in (
            "Climate change",
            "Climate change-Fossil",
            "Climate change-Biogenic",
            "Climate change-Land use and land use change",
        ):
            expected = float(h[name] @ s)
            assert scores.loc[name, ids[j]] == pytest.approx(expected, rel=1e-9, abs=1e-12)
    # EF 3.1: every Climate change factor is the sum of its three sub-indicators' factors
    total = scores.loc["Climate change"]
    parts = scores.loc[
        [
            "Climate change-Fossil",
            "Climate change-Biogenic",
            "Climate change-Land use and land use change",
        ]
    ].sum()
    np.testing.assert_allclose(total, parts, rtol=1e-9, atol=1e-12)
