"""ecoinvent's release flavour of EcoSpold2: links, pedigree, and allocated datasets.

The two fixtures (data README §8) are one activity, "concrete block production" (DE); the
second file is the same dataset with synonyms. The allocated case (one activity id in two
files with different reference products, as ecoinvent ships its allocated datasets) is built
here from the fixture by changing the reference product's id.
"""

from __future__ import annotations

import math
import re
import shutil

import numpy as np
import pytest

import lcasolve
from lcasolve.errors import DataFileError

ACTIVITY = "c40e3c0a-292f-45a5-88cd-ed18265cb7d7"
PRODUCT = "d4ee8f39-342b-4443-bbb9-c49b6801b5d6"  # concrete block
INPUT_FLOW = "6fe4040b-39c7-4d58-b95b-6ee1de4aedb3"  # clay pit infrastructure
INPUT_PROVIDER = "759fac54-b912-4781-9833-0ddd6e8cda24"
OTHER_PRODUCT = "aaaaaaaa-0000-4000-8000-000000000001"
CONSUMER = "bbbbbbbb-0000-4000-8000-000000000002"
CONSUMER_PRODUCT = "bbbbbbbb-0000-4000-8000-000000000003"
NAME = "00000_11111111-2222-3333-4444-555555555555_66666666-7777-8888-9999-000000000000"


@pytest.fixture
def fixture(shared_data):
    return shared_data / "ecospold2-ecoinvent" / f"{NAME}.spold"


def test_fixture_loads_with_its_link_and_pedigree(fixture):
    system = lcasolve.load(fixture, pedigree=True)
    assert system.activities["id"].tolist() == [ACTIVITY]
    assert system.activities["product"].tolist() == ["concrete block"]
    assert system.activities["location"].tolist() == ["DE"]
    # the activityLinkId names a provider that is not in the data: cut off and listed
    (entry,) = [e for e in system.metadata["link_report"] if e["flow"] == INPUT_FLOW]
    assert entry["issue"] == "provider outside data"
    assert INPUT_PROVIDER in entry["detail"]
    assert entry["amount"] == 9999.0
    # the elementary exchange (Water, m3): lognormal variance 7, varianceWithPedigree... 6
    unc = system.biosphere.uncertainty
    assert system.flows["name"].tolist() == ["Water"]
    assert unc["uncertainty_type"].tolist() == [2]
    assert unc["scale"][0] == pytest.approx(math.sqrt(6.0))
    plain = lcasolve.load(fixture).biosphere.uncertainty
    assert plain["scale"][0] == pytest.approx(math.sqrt(7.0))


def test_same_dataset_twice_is_named(fixture, shared_data):
    synonyms = shared_data / "ecospold2-ecoinvent" / f"{NAME}_with_synonyms.spold"
    with pytest.raises(DataFileError, match=f"activity {ACTIVITY} with reference product"):
        lcasolve.load(fixture, synonyms)
    system = lcasolve.load(fixture, synonyms, strict=False)
    assert system.n_activities == 1
    assert "with_synonyms.spold" in system.metadata["problems"][0]


def test_allocated_datasets_give_two_columns(fixture, tmp_path):
    text = fixture.read_text(encoding="utf-8")
    shutil.copy(fixture, tmp_path / f"{ACTIVITY}_{PRODUCT}.spold")
    # the same activity, allocated to another reference product
    (tmp_path / f"{ACTIVITY}_{OTHER_PRODUCT}.spold").write_text(
        text.replace(PRODUCT, OTHER_PRODUCT), encoding="utf-8"
    )
    # a consumer whose input links to the activity's other product
    consumer = (
        text.replace(ACTIVITY, CONSUMER)
        .replace(PRODUCT, CONSUMER_PRODUCT)
        .replace(INPUT_PROVIDER, ACTIVITY)
        .replace(INPUT_FLOW, OTHER_PRODUCT)
    )
    # ... in the product's unit (the fixture's input is in "unit", the product in kg)
    start = consumer.index('<intermediateExchange id="3d2deeef')
    end = consumer.index("</intermediateExchange>", start)
    block = re.sub(r"<unitName([^>]*)>[^<]*<", r"<unitName\1>kg<", consumer[start:end])
    consumer = consumer[:start] + block + consumer[end:]
    (tmp_path / f"{CONSUMER}_{CONSUMER_PRODUCT}.spold").write_text(consumer, encoding="utf-8")
    system = lcasolve.load(tmp_path)
    ids = system.activities["id"].tolist()
    assert sorted(ids) == sorted([f"{ACTIVITY}_{PRODUCT}", f"{ACTIVITY}_{OTHER_PRODUCT}", CONSUMER])
    A = system.A.toarray()  # noqa: N806
    j = ids.index(CONSUMER)
    i = ids.index(f"{ACTIVITY}_{OTHER_PRODUCT}")
    assert A[i, j] == pytest.approx(-9999.0)
    # nothing else links into the consumer column
    assert np.count_nonzero(A[:, j]) == 2
    lca = lcasolve.LCA(system)
    # the consumer needs 9999 of the other product, whose column emits what the fixture's does
    b = system.B.toarray()
    s = lca.calculate({CONSUMER: 1.0}).supply
    np.testing.assert_allclose(np.asarray(s)[i], 9999.0)
    assert b.shape[0] == 1
