"""Provider choice on records: the split policy's tiers and production-volume shares."""

from __future__ import annotations

import pytest

from lcasolve.errors import InputError
from lcasolve.io.assembly import assemble
from lcasolve.io.linking import LinkOptions
from lcasolve.io.records import ExchangeRecord, FlowRecord, ProcessRecord
from lcasolve.io.report import ImportReport

FLOWS = {
    "steel": FlowRecord("steel", "steel", "product"),
    "power": FlowRecord("power", "power", "product"),
}


def maker(pid: str, location: str, volume: float | None = None) -> ProcessRecord:
    return ProcessRecord(
        pid,
        f"power {location}",
        location,
        exchanges=[ExchangeRecord("power", 1.0, False, is_reference=True, id="0")],
        production_volume=volume,
    )


def system(location: str, makers: list[ProcessRecord], policy: str = "split"):
    steel = ProcessRecord(
        "steel",
        "steel",
        location,
        exchanges=[
            ExchangeRecord("steel", 1.0, False, is_reference=True, id="0"),
            ExchangeRecord("power", 10.0, True, id="1"),
        ],
    )
    return assemble([steel, *makers], FLOWS, LinkOptions(ambiguous=policy))


def inputs(s) -> dict[str, float]:
    A = s.A.toarray()  # noqa: N806
    ids = s.activities["id"].tolist()
    j = ids.index("steel")
    return {ids[i]: -A[i, j] for i in range(len(ids)) if i != j and A[i, j] != 0}


def test_same_location_first() -> None:
    s = system("SD-CN", [maker("sd", "SD-CN"), maker("js", "JS-CN"), maker("glo", "GLO")])
    assert inputs(s) == {"sd": 10.0}


def test_country_tier_by_production_volume() -> None:
    s = system("CN", [maker("sd", "SD-CN", 1.0), maker("js", "JS-CN", 3.0), maker("glo", "GLO")])
    assert inputs(s) == pytest.approx({"sd": 2.5, "js": 7.5})
    (entry,) = ImportReport.from_system(s).select("ambiguous")
    assert entry["action"] == "split among 2" and "production volume" in entry["detail"]


def test_equal_shares_when_a_volume_is_missing_and_global_tier() -> None:
    s = system("CN", [maker("sd", "SD-CN", 1.0), maker("js", "JS-CN")])
    assert inputs(s) == pytest.approx({"sd": 5.0, "js": 5.0})
    s = system("DE", [maker("glo", "GLO"), maker("row", "RoW"), maker("us", "US")])
    assert inputs(s) == pytest.approx({"glo": 5.0, "row": 5.0})
    s = system("DE", [maker("fr", "FR"), maker("us", "US")])
    assert inputs(s) == pytest.approx({"fr": 5.0, "us": 5.0})


def test_policies_checked() -> None:
    with pytest.raises(InputError, match="ambiguous='nearest'"):
        LinkOptions(ambiguous="nearest")
    s = system("CN", [maker("sd", "SD-CN"), maker("js", "JS-CN")], policy="cutoff")
    assert inputs(s) == {}
