"""ILCD exchanges stated in another unit of the flow property (openLCA's extension attributes)."""

from __future__ import annotations

from pathlib import Path

import pytest

import lcasolve
from tests.test_ilcd import MASS, POWER, archive, exchange, process

OLCA = 'xmlns:olca="http://openlca.org/ilcd-extensions"'


def test_exchange_in_grams_is_converted(tmp_path: Path) -> None:
    grams = exchange(1, POWER, "Input", 3000.0).replace(
        "<exchange ", f'<exchange {OLCA} olca:propertyId="{MASS}" olca:unitId="g" ', 1
    )
    extra = {
        "processes/p-steel.xml": process(
            "p-steel", "steel making", "CN", 0, [exchange(0, "f-steel", "Output", 2.0), grams]
        ),
        "processes/p-power-js.xml": process(
            "p-power-js", "power", "JS-CN", 0, [exchange(0, POWER, "Output", 2.0)]
        ),
    }
    s = lcasolve.load(archive(tmp_path, extra=extra), ambiguous="split")
    assert s.metadata["counts"]["unit_conversions"] == 1
    ids = s.activities["id"].tolist()
    a = s.A.toarray()
    # 3000 g = 3 kg of power (unit group: kg reference, g = 0.001), split between the makers
    steel = ids.index("p-steel")
    assert a[ids.index("p-power-sd"), steel] == pytest.approx(-1.5)
    assert a[ids.index("p-power-js"), steel] == pytest.approx(-1.5)
