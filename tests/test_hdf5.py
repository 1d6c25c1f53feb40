"""Native HDF5 store: exact round trips, format checks, load time."""

import time

import h5py
import numpy as np
import pandas as pd
import pytest

import lcasolve
from lcasolve.errors import DataFileError
from lcasolve.examples import load_example
from lcasolve.io import hdf5
from lcasolve.model import build_system
from lcasolve.parameters import Formula, ParameterSet
from lcasolve.synthetic import generate

MATRICES = ("technosphere", "biosphere", "characterization")
TABLES = ("activities", "flows", "categories")


def assert_same(a, b):
    for m in MATRICES:
        ea, eb = getattr(a, m), getattr(b, m)
        assert ea.shape == eb.shape
        for key in ("row", "col", "value", "flip", "uncertainty"):
            x, y = getattr(ea, key), getattr(eb, key)
            assert x.dtype == y.dtype, (m, key)
            assert x.tobytes() == y.tobytes(), (m, key)  # bit-exact, NaN included
        pa, pb = ea.pattern, eb.pattern
        np.testing.assert_array_equal(pa.indptr, pb.indptr)
        np.testing.assert_array_equal(pa.indices, pb.indices)
        np.testing.assert_array_equal(pa.slot, pb.slot)
    for t in TABLES:
        pd.testing.assert_frame_equal(getattr(a, t), getattr(b, t))


def test_round_trip_synthetic(tmp_path):
    system = generate(300, seed=7)
    out = lcasolve.save(system, tmp_path / "s.h5")
    back = lcasolve.load(out)
    assert_same(system, back)
    assert dict(back.metadata) == dict(system.metadata)
    # the loaded system computes the same scores, bit for bit
    pid = system.activities["product_id"].iloc[5]
    s1 = lcasolve.LCA(system).calculate({pid: 1.0}).scores
    s2 = lcasolve.LCA(back).calculate({pid: 1.0}).scores
    assert dict(s1) == dict(s2)
    with h5py.File(out) as f:  # no parameters: format 2, readable by older lcasolve
        assert f.attrs["lcasolve_format"] == 2
        assert "parameters" not in f
    assert back.parameters is None


def test_round_trip_tags_waste_and_link_report(tmp_path):
    system, _ = load_example()
    report = [
        {
            "process": "p",
            "exchange": 3,
            "flow": "f",
            "issue": "unlinked",
            "action": "cutoff",
            "provider": None,
        }
    ]
    from dataclasses import replace

    system = replace(
        system, metadata={**system.metadata, "link_report": report, "opaque": object()}
    )
    back = hdf5.read(hdf5.write(system, tmp_path / "c.h5"))
    assert_same(system, back)
    assert back.metadata["link_report"] == report
    assert "opaque" not in back.metadata
    assert back.activities["stage"].tolist() == system.activities["stage"].tolist()


def test_round_trip_mixed_ids_and_none(tmp_path):
    activities = pd.DataFrame(
        {
            "id": pd.Series(["a1", 2], dtype=object),
            "name": ["one", "two"],
            "product_id": pd.Series(["a1", 2], dtype=object),
            "product": ["p one", "p two"],
            "unit": ["kg", "kg"],
            "location": pd.Series(["GLO", None], dtype=object),
            "share": [0.5, np.nan],
        }
    )
    system = build_system(
        [("a1", "a1", 1.0), (2, 2, 2.0), ("a1", 2, -0.25)],
        [("CO2", "a1", 3.0), ("CO2", 2, 1.5)],
        {"GWP": {"CO2": 1.0}},
        activities=activities,
    )
    back = hdf5.read(hdf5.write(system, tmp_path / "m.h5"))
    assert_same(system, back)
    assert back.activities["id"].tolist() == system.activities["id"].tolist()


def _co2(system):
    supply = lcasolve.LCA(system).calculate({"use": 1.0}).supply
    return float((system.B @ supply)[system.flow_index["CO2"]])


def test_parameters_and_formulas_round_trip(tmp_path):
    from dataclasses import replace

    from tests.test_jsonld import _write_zip
    from tests.test_jsonld_parameters import _files

    system = lcasolve.load(_write_zip(tmp_path / "p.zip", _files()))
    # one formula in SimaPro's decimal-comma syntax: stored canonically, read back the same
    params = system.parameters
    comma = Formula.parse("dist*frac*1,5*2", decimal=",", where="use/Q")
    entries = (replace(params.entries[0], formula=comma), *params.entries[1:])
    system = replace(system, parameters=ParameterSet(params.parameters, entries))
    out = hdf5.write(system, tmp_path / "p.h5")
    with h5py.File(out) as f:
        assert f.attrs["lcasolve_format"] == 3
    back = hdf5.read(out)
    assert_same(system, back)
    a, b = system.parameters, back.parameters
    assert len(b) == 4 and len(b.entries) == 2
    for p, q in zip(a.parameters, b.parameters, strict=True):
        assert (q.name, q.scope, q.description) == (p.name, p.scope, p.description)
        assert q.value == p.value or (np.isnan(q.value) and np.isnan(p.value))
        assert (q.formula is None) == (p.formula is None)
        if p.formula is not None:
            assert q.formula.text == p.formula.text and q.formula.tree == p.formula.tree
        assert (q.uncertainty is None) == (p.uncertainty is None)
    frac = b.get("frac", "use")
    assert int(frac.uncertainty["uncertainty_type"]) == 4
    assert (float(frac.uncertainty["minimum"]), float(frac.uncertainty["maximum"])) == (0.1, 0.3)
    assert b.entries[0].formula.text == "dist*frac*1,5*2"
    for e, f in zip(a.entries, b.entries, strict=True):
        assert (f.matrix, f.entry, f.row, f.col, f.factor, f.scope) == (
            e.matrix, e.entry, e.row, e.col, e.factor, e.scope,
        )  # fmt: skip
    # the same what-if before and after the store: Q = 20 * 0.2 * 3 kg (2 kg CO2 each) + k/2
    for s in (system, back):
        assert _co2(s) == pytest.approx(12.5, rel=1e-12)
        assert _co2(s.with_parameters({"use/dist": 20.0, "k": 2.0})) == pytest.approx(
            25.0, rel=1e-12
        )


def test_parameters_tampered_store_is_refused(tmp_path):
    from tests.test_jsonld import _write_zip
    from tests.test_jsonld_parameters import _files

    system = lcasolve.load(_write_zip(tmp_path / "p.zip", _files()))
    out = hdf5.write(system, tmp_path / "p.h5")
    with h5py.File(out, "a") as f:
        f["parameters/value"][0] = 99.0
    with pytest.raises(DataFileError, match="p.h5.*altered or is corrupt"):
        hdf5.read(out)


def test_arrays_metadata_kept(tmp_path, shared_data):
    system = lcasolve.load(shared_data / "bw2calc-fixtures" / "array_sequential.zip")
    back = hdf5.read(hdf5.write(system, tmp_path / "a.h5"))
    for m, item in system.metadata["arrays"].items():
        np.testing.assert_array_equal(back.metadata["arrays"][m]["entries"], item["entries"])
        np.testing.assert_array_equal(back.metadata["arrays"][m]["values"], item["values"])


def test_atomic_write_leaves_no_temporary(tmp_path):
    system = generate(50)
    hdf5.write(system, tmp_path / "x.h5")
    hdf5.write(system, tmp_path / "x.h5")
    assert [p.name for p in tmp_path.iterdir()] == ["x.h5"]


def test_foreign_corrupt_and_newer_files(tmp_path):
    foreign = tmp_path / "foreign.h5"
    with h5py.File(foreign, "w") as f:
        f["x"] = np.arange(3)
    with pytest.raises(DataFileError, match="foreign.h5.*not an lcasolve store"):
        hdf5.read(foreign)
    junk = tmp_path / "junk.h5"
    junk.write_bytes(b"not hdf5 at all")
    with pytest.raises(DataFileError, match="junk.h5"):
        lcasolve.load(junk)
    good = hdf5.write(generate(50), tmp_path / "good.h5")
    truncated = tmp_path / "truncated.h5"
    truncated.write_bytes(good.read_bytes()[:4000])
    with pytest.raises(DataFileError, match="truncated.h5"):
        hdf5.read(truncated)
    broken = tmp_path / "broken.h5"
    broken.write_bytes(good.read_bytes())
    with h5py.File(broken, "a") as f:
        del f["biosphere/value"]
    with pytest.raises(DataFileError, match="broken.h5.*/biosphere"):
        hdf5.read(broken)
    newer = tmp_path / "newer.h5"
    newer.write_bytes(good.read_bytes())
    with h5py.File(newer, "a") as f:
        f.attrs["lcasolve_format"] = hdf5.FORMAT_VERSION + 1
    with pytest.raises(DataFileError, match="newer"):
        hdf5.read(newer)
    with pytest.raises(DataFileError, match="no such file"):
        hdf5.read(tmp_path / "absent.h5")


@pytest.mark.slow
def test_eco20k_loads_within_a_second(tmp_path):
    system = generate(20000)
    path = hdf5.write(system, tmp_path / "eco20k.h5")
    best = np.inf
    for _ in range(3):
        start = time.perf_counter()
        back = hdf5.read(path)
        best = min(best, time.perf_counter() - start)
    assert best <= 1.0
    assert_same(system, back)
