"""Datapackage writer: bw2calc 3.1 computes the same scores; our reader reads it back exactly."""

import numpy as np
import pandas as pd
import pytest

import lcasolve
from lcasolve.errors import DataFileError
from lcasolve.io import datapackage
from lcasolve.synthetic import generate


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    system = generate(300, seed=3)
    path = datapackage.write(system, tmp_path_factory.mktemp("dp") / "eco300.zip")
    return system, path


def test_bw2calc_computes_our_scores(written):
    bw2calc = pytest.importorskip("bw2calc")
    bwp = pytest.importorskip("bw_processing")
    from fsspec.implementations.zip import ZipFileSystem

    system, path = written
    back = lcasolve.load(path)
    dp = bwp.load_datapackage(ZipFileSystem(str(path)))
    ours = lcasolve.LCA(back)
    for j in (0, 17, 123, 299):
        pid = back.activities["product_id"].iloc[j]
        lca = bw2calc.LCA({int(pid): 1.0}, data_objs=[dp])
        lca.lci()
        lca.lcia()
        assert ours.calculate({pid: 1.0}).score() == pytest.approx(lca.score, rel=1e-10)
        # bw2calc's supply, reordered to our activity order, equals ours
        supply = ours.calculate({pid: 1.0}).supply
        order = [lca.dicts.activity[int(a)] for a in back.activities["id"]]
        # normwise: two backward-stable solvers of a badly scaled matrix agree to ~cond * eps
        # relative to the largest supply, not digit by digit in entries 1e5 times smaller
        np.testing.assert_allclose(
            lca.supply_array[order], supply, rtol=1e-9, atol=1e-12 * np.abs(supply).max()
        )


def test_round_trip_exact(written):
    system, path = written
    back = datapackage.read([path])
    for m in ("technosphere", "biosphere", "characterization"):
        a, b = getattr(system, m), getattr(back, m)
        np.testing.assert_array_equal(a.matrix.toarray(), b.matrix.toarray())
        # technosphere inputs are stored positive with flip=True
        if m == "technosphere":
            off = b.row != b.col
            assert b.flip[off].all() and not b.flip[~off].any()
        ka = np.lexsort((a.row, a.col))
        kb = np.lexsort((b.row, b.col))
        np.testing.assert_array_equal(
            a.uncertainty["uncertainty_type"][ka], b.uncertainty["uncertainty_type"][kb]
        )
        # bw_processing's distributions dtype stores the parameters as float32
        for field in ("loc", "scale", "shape", "minimum", "maximum"):
            np.testing.assert_allclose(
                b.uncertainty[field][kb],
                a.uncertainty[field][ka],
                rtol=2**-24,  # float32 rounding, at most half an ulp
                atol=0,
                err_msg=f"{m} {field}",
            )
    assert back.categories["name"].tolist() == system.categories["name"].tolist()
    pd.testing.assert_series_equal(
        back.activities["id"].astype("int64"), system.activities["id"].astype("int64")
    )


def test_truncated_package(written, tmp_path):
    _, path = written
    bad = tmp_path / "cut.zip"
    bad.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(DataFileError, match="cut.zip"):
        datapackage.read([bad])


@pytest.mark.parametrize(
    "array",
    [
        np.arange(12.0).reshape(3, 4),
        np.asfortranarray(np.arange(12.0).reshape(3, 4)),
        np.zeros(0, dtype=[("row", "<i4"), ("col", "<i4")]),
        np.array([(1, 2), (3, 4)], dtype=[("row", ">i8"), ("col", "<u2")]),
    ],
)
def test_npy_bytes_read_in_place_equal_numpy_load(array, tmp_path):
    import io

    buf = io.BytesIO()
    np.save(buf, array)
    got = datapackage.npy_array(buf.getvalue(), "x.npy")
    assert got.dtype == array.dtype and got.shape == array.shape
    assert np.array_equal(got, array)


def test_npy_header_declaring_more_than_the_bytes_is_refused():
    import io

    buf = io.BytesIO()
    np.save(buf, np.arange(10.0))
    with pytest.raises(DataFileError, match=r"x\.npy.*declares shape \(10,\)"):
        datapackage.npy_array(buf.getvalue()[:-8], "x.npy")
