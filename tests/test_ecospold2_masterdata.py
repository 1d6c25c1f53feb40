"""ecoinvent EcoSpold2: exchange properties, MasterData, and the demand ids of its datasets.

Built on the fixture of the data README §8 ("concrete block production", DE); the values
asserted are the fixture's own numbers, read from its XML text in the README's description.
"""

from __future__ import annotations

import re
import shutil

import pytest

import lcasolve
from lcasolve.errors import DataFileError, UnknownDemandError
from lcasolve.search import resolve_demand

pytestmark = pytest.mark.data

ACTIVITY = "c40e3c0a-292f-45a5-88cd-ed18265cb7d7"
PRODUCT = "d4ee8f39-342b-4443-bbb9-c49b6801b5d6"  # concrete block
WATER = "075e433b-4be4-448e-9510-9a5029c1ce94"
OTHER_PRODUCT = "aaaaaaaa-0000-4000-8000-000000000001"
NAME = "00000_11111111-2222-3333-4444-555555555555_66666666-7777-8888-9999-000000000000"
NS = 'xmlns="http://www.EcoInvent.org/EcoSpold02"'


@pytest.fixture
def fixture(shared_data):
    return shared_data / "ecospold2-ecoinvent" / f"{NAME}.spold"


def test_properties_are_read(fixture):
    system = lcasolve.load(fixture)
    props = system.metadata["properties"]
    assert system.metadata["counts"]["properties"] == len(props) == 5
    got = {(p["flow"], p["property"]): (p["amount"], p["unit"]) for p in props}
    assert got == {
        (PRODUCT, "carbon content, non-fossil"): (0.0, "dimensionless"),
        (PRODUCT, "water content"): (1.0, "dimensionless"),
        (PRODUCT, "dry mass"): (2.0, "kg"),
        (PRODUCT, "price"): (11.0, "EUR2005"),
        (WATER, "water in wet mass"): (1000.0, "kg"),
    }
    assert {p["process"] for p in props} == {ACTIVITY}
    price = next(p for p in props if p["property"] == "price")
    assert price["defining"] is False and price["property_id"].startswith("38f94dd1")
    assert system.metadata["master_data"] == []


def test_bad_property_names_the_exchange(fixture, tmp_path):
    bad = tmp_path / "bad.spold"
    bad.write_text(fixture.read_text(encoding="utf-8").replace('amount="11"', 'amount="lots"'))
    with pytest.raises(DataFileError, match=r"bad.spold .*exchange 512abf0d.*'price'.*'lots'"):
        lcasolve.load(bad)


def _strip_names(text: str) -> str:
    """The fixture without inline names, units and compartments (MasterData must give them)."""
    text = re.sub(r"<activityName[^>]*>[^<]*</activityName>", "", text)
    text = re.sub(r"<shortname[^>]*>[^<]*</shortname>", "", text)
    text = re.sub(
        r"(<(?:intermediate|elementary)Exchange [^>]*>\s*)<name[^>]*>[^<]*</name>", r"\1", text
    )
    text = re.sub(r"<unitName[^>]*>(kg|m3|unit)</unitName>", "", text)
    return re.sub(
        r"<compartment subcompartmentId.*?</compartment>\s*</compartment>", "", text, flags=re.S
    )


MASTER = {
    "IntermediateExchanges.xml": f"""<validIntermediateExchanges {NS}>
<intermediateExchange id="{PRODUCT}"><name xml:lang="en">concrete block</name>
<unitName xml:lang="en">kg</unitName></intermediateExchange>
<intermediateExchange id="6fe4040b-39c7-4d58-b95b-6ee1de4aedb3">
<name xml:lang="en">clay pit infrastructure</name><unitName xml:lang="en">unit</unitName>
</intermediateExchange></validIntermediateExchanges>""",
    "ElementaryExchanges.xml": f"""<validElementaryExchanges {NS}>
<elementaryExchange id="{WATER}" casNumber="007732-18-5"><name xml:lang="en">Water</name>
<unitName xml:lang="en">m3</unitName><compartment subcompartmentId="x">
<compartment xml:lang="en">air</compartment>
<subcompartment xml:lang="en">unspecified</subcompartment>
</compartment></elementaryExchange></validElementaryExchanges>""",
    "ActivityNames.xml": f"""<validActivityNames {NS}>
<activityName id="06ffc039-f73b-440c-a5a0-8dc7393a5e71">
<name xml:lang="en">concrete block production</name>
</activityName></validActivityNames>""",
    "Geographies.xml": f"""<validGeographies {NS}>
<geography id="0e0e1020-7d7e-11de-9ae2-0019e336be3a"><name xml:lang="en">Germany</name>
<shortname xml:lang="en">DE</shortname></geography></validGeographies>""",
}


def test_master_data_fills_what_datasets_leave_out(fixture, tmp_path):
    release = tmp_path / "release"
    (release / "datasets").mkdir(parents=True)
    (release / "MasterData").mkdir()
    stripped = _strip_names(fixture.read_text(encoding="utf-8"))
    assert "concrete block" not in stripped and ">m3<" not in stripped
    (release / "datasets" / f"{ACTIVITY}_{PRODUCT}.spold").write_text(stripped)
    # without MasterData the unit of the product is unknown: refused, naming the exchange
    with pytest.raises(DataFileError, match="exchange .*unknown unit ''"):
        lcasolve.load(release / "datasets")
    for name, text in MASTER.items():
        (release / "MasterData" / name).write_text(text)
    system = lcasolve.load(release)
    full = lcasolve.load(fixture)
    cols = ["id", "name", "product", "unit", "location"]
    assert system.activities[cols].to_dict("records") == full.activities[cols].to_dict("records")
    fcols = ["id", "name", "compartment", "unit"]
    assert system.flows[fcols].to_dict("records") == full.flows[fcols].to_dict("records")
    assert system.flows["compartment"].tolist() == ["air/unspecified"]
    assert len(system.metadata["master_data"]) == 4
    assert (system.B != full.B).nnz == 0
    # the same as a zip
    shutil.make_archive(str(tmp_path / "release"), "zip", release)
    z = lcasolve.load(tmp_path / "release.zip")
    assert z.activities[cols].to_dict("records") == full.activities[cols].to_dict("records")
    # a broken MasterData file is named
    (release / "MasterData" / "Geographies.xml").write_text("<validGeographies")
    with pytest.raises(DataFileError, match="Geographies.xml: invalid XML"):
        lcasolve.load(release)


def test_demand_ids_activity_and_product(fixture, tmp_path):
    one = lcasolve.load(fixture)
    # a unique activity: its id, and activity id + product id, name the same column
    assert resolve_demand(one, {f"{ACTIVITY}_{PRODUCT}": 2.0}) == {ACTIVITY: 2.0}
    assert resolve_demand(one, {ACTIVITY: 1.0}) == {ACTIVITY: 1.0}
    # allocated: one activity id in two files with different reference products
    text = fixture.read_text(encoding="utf-8")
    shutil.copy(fixture, tmp_path / f"{ACTIVITY}_{PRODUCT}.spold")
    (tmp_path / f"{ACTIVITY}_{OTHER_PRODUCT}.spold").write_text(
        text.replace(PRODUCT, OTHER_PRODUCT), encoding="utf-8"
    )
    two = lcasolve.load(tmp_path)
    a, b = f"{ACTIVITY}_{PRODUCT}", f"{ACTIVITY}_{OTHER_PRODUCT}"
    assert sorted(two.activities["id"]) == sorted([a, b])
    assert resolve_demand(two, {a: 1.0, b: 3.0}) == {a: 1.0, b: 3.0}
    # the activity id alone is ambiguous now: the message lists both datasets
    with pytest.raises(UnknownDemandError, match=f"process of 2 activities.*{ACTIVITY}_"):
        resolve_demand(two, {ACTIVITY: 1.0})
    # both columns solve to the fixture's own Water emission per kg
    r = lcasolve.LCA(two).calculate({b: 1.0})
    assert r.inventory.tolist() == pytest.approx([123456.0])
