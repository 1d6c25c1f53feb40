"""Issue 17 items 4, 5, 7, 8: malformed or hostile files are refused, naming file and field."""

from __future__ import annotations

import io
import json
import shutil
import struct
import subprocess
import sys
import zipfile
import zlib

import numpy as np
import pytest

import lcasolve
from lcasolve.errors import DataFileError, InvalidProductionError, InvalidUncertaintyError
from lcasolve.examples import example_path, load_example
from lcasolve.io.jsonld_write import _uid, write_jsonld

CEMENT = _uid("process", "cement")
CO2 = _uid("flow", "co2_fossil")
CEMENT_SCORE = 777.3486242207186  # the bundled tables' footprint, read from CSV (tests/test_demo)


def cli(*argv):
    exe = shutil.which("lcasolve") or sys.exit("the lcasolve console script is not installed")
    return subprocess.run([exe, *map(str, argv)], capture_output=True, text=True, check=False)


def one_line_error(proc, *words):
    assert proc.returncode == 1, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr
    lines = [ln for ln in proc.stderr.strip().splitlines() if ": note: " not in ln]
    assert len(lines) == 1, proc.stderr
    for w in words:
        assert w in proc.stderr, proc.stderr


@pytest.fixture(scope="module")
def cement_zip(tmp_path_factory):
    system, _ = load_example()
    return write_jsonld(system, tmp_path_factory.mktemp("jl") / "cement.zip")


def rewrite(src, dst, edit, extra=()):
    """Copy zip ``src`` to ``dst`` with ``edit(name, parsed JSON)`` applied to each member."""
    with zipfile.ZipFile(src) as a, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as b:
        for name in a.namelist():
            data = json.loads(a.read(name))
            data = edit(name, data)
            b.writestr(name, data if isinstance(data, str | bytes) else json.dumps(data))
        for name, text in extra:
            b.writestr(name, text)
    return dst


def edit_exchange(index, **changes):
    def edit(name, data):
        if name == f"processes/{CEMENT}.json":
            data["exchanges"][index].update(changes)
        return data

    return edit


def calc(path):
    return cli("calc", path, "--demand", f"{CEMENT}=1", "--json")


def test_cement_json_ld_reference_value(cement_zip):
    proc = calc(cement_zip)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["scores"]["IPCC AR6 GWP100"] == pytest.approx(CEMENT_SCORE)


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"amount": -1.0}, ["negative amount -1.0", "quantitative reference"]),
        ({"isInput": "false"}, ["'isInput'", "true or false", "'false'"]),
        ({"isQuantitativeReference": 1}, ["'isQuantitativeReference'", "true or false"]),
        ({"amount": True}, ["'amount'", "must be a number", "True"]),
        ({"amount": "0.85"}, ["'amount'", "must be a number"]),
        ({"flow": "cement"}, ["'flow'", "must be an object"]),
        ({"unit": [1]}, ["'unit'", "must be an object"]),
    ],
)
def test_json_ld_wrong_types_refused(cement_zip, tmp_path, change, words):
    index = 0 if "amount" in change and change["amount"] == -1.0 else 1
    if "isQuantitativeReference" in change:
        index = 0
    bad = rewrite(cement_zip, tmp_path / "bad.zip", edit_exchange(index, **change))
    one_line_error(calc(bad), "bad.zip", f"processes/{CEMENT}.json", *words)
    with pytest.raises((DataFileError, InvalidProductionError)):
        lcasolve.load(bad)


def test_json_ld_reference_is_input_string_in_input_exchange(cement_zip, tmp_path):
    # "isInput": "false" on an input used to be read as True: now refused wherever it is
    bad = rewrite(cement_zip, tmp_path / "bad.zip", edit_exchange(0, isInput="false"))
    one_line_error(calc(bad), "'isInput'")


def test_json_ld_exchanges_null_and_process_fields(cement_zip, tmp_path):
    def edit(name, data):
        if name == f"processes/{CEMENT}.json":
            data["exchanges"] = None
        return data

    # no exchanges at all: the process has no reference product -> a specific error
    proc = calc(rewrite(cement_zip, tmp_path / "null.zip", edit))
    one_line_error(proc)

    def edit2(name, data):
        if name == f"processes/{CEMENT}.json":
            data["exchanges"] = {"a": 1}
        return data

    one_line_error(calc(rewrite(cement_zip, tmp_path / "dict.zip", edit2)), "'exchanges'", "list")


@pytest.mark.parametrize("flow_type", [None, "EMISSION", 3])
def test_json_ld_missing_or_unknown_flow_type_refused(cement_zip, tmp_path, flow_type):
    def edit(name, data):
        if name == f"flows/{CO2}.json":
            if flow_type is None:
                del data["flowType"]
            else:
                data["flowType"] = flow_type
        return data

    bad = rewrite(cement_zip, tmp_path / "bad.zip", edit)
    one_line_error(calc(bad), f"flows/{CO2}.json", "flowType", "ELEMENTARY_FLOW")


def test_json_ld_uncertainty_and_allocation_text_refused(cement_zip, tmp_path):
    # found by the hostile-mutation property test: a text geomMean reached float()
    u = {"distributionType": "LOG_NORMAL_DISTRIBUTION", "geomMean": "\x1b[31m", "geomSd": 1.2}
    bad = rewrite(cement_zip, tmp_path / "u.zip", edit_exchange(1, uncertainty=u))
    with pytest.raises(InvalidUncertaintyError, match="numeric 'geomMean'"):
        lcasolve.load(bad)
    proc = calc(bad)  # a deterministic command warns and leaves the distribution out
    assert proc.returncode == 0, proc.stderr
    assert "geomMean" in proc.stderr and "Traceback" not in proc.stderr

    def edit(name, data):
        if name == f"processes/{CEMENT}.json":
            data["allocationFactors"] = [
                {"allocationType": "PHYSICAL_ALLOCATION", "product": {"@id": "x"}, "value": True}
            ]
        return data

    bad = rewrite(cement_zip, tmp_path / "a.zip", edit)
    one_line_error(calc(bad), "(allocation factors)", "'value'", "must be a number")


@pytest.mark.parametrize("key", ["cas", "name"])
def test_json_ld_flow_text_field_of_another_type_refused(cement_zip, tmp_path, key):
    # found by the hostile-mutation property test: "cas": true reached str.strip
    def edit(name, data):
        if name == f"flows/{CO2}.json":
            data[key] = True
        return data

    bad = rewrite(cement_zip, tmp_path / "bad.zip", edit)
    with pytest.raises(DataFileError, match=f"'{key}' must be a string, not True"):
        lcasolve.load(bad)
    one_line_error(calc(bad), f"flows/{CO2}.json", f"'{key}' must be a string")


def test_json_ld_conflicting_duplicate_flow_id_refused(cement_zip, tmp_path):
    with zipfile.ZipFile(cement_zip) as z:
        co2 = json.loads(z.read(f"flows/{CO2}.json"))
    co2["flowType"] = "PRODUCT_FLOW"
    bad = rewrite(
        cement_zip, tmp_path / "bad.zip", lambda n, d: d, [("flows/dup.json", json.dumps(co2))]
    )
    one_line_error(calc(bad), CO2, "defined again", "flows/dup.json")


def test_json_ld_identical_duplicate_flow_is_fine(cement_zip, tmp_path):
    with zipfile.ZipFile(cement_zip) as z:
        co2 = z.read(f"flows/{CO2}.json").decode()
    ok = rewrite(cement_zip, tmp_path / "ok.zip", lambda n, d: d, [("flows/dup.json", co2)])
    proc = calc(ok)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["scores"]["IPCC AR6 GWP100"] == pytest.approx(CEMENT_SCORE)


def test_json_ld_conversion_factor_text_and_deep_nesting(cement_zip, tmp_path):
    def edit(name, data):
        if name.startswith("unit_groups/"):
            for u in data.get("units", []):
                u["conversionFactor"] = "abc"
        return data

    one_line_error(calc(rewrite(cement_zip, tmp_path / "cf.zip", edit)), "conversionFactor")
    deep = "[" * 100000 + "]" * 100000
    bad = rewrite(
        cement_zip, tmp_path / "deep.zip", lambda n, d: deep if n.startswith("processes/") else d
    )
    one_line_error(calc(bad), "deep.zip")


def test_corrupt_deflate_data_is_one_line(cement_zip, tmp_path):
    raw = bytearray(cement_zip.read_bytes())
    with zipfile.ZipFile(cement_zip) as z:
        info = z.getinfo(f"processes/{CEMENT}.json")
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    for i in range(start + 5, start + min(info.compress_size, 60)):
        raw[i] ^= 0x5A
    bad = tmp_path / "corrupt.zip"
    bad.write_bytes(bytes(raw))
    one_line_error(calc(bad), "corrupt.zip")


def test_zip_member_bomb_refused(cement_zip, tmp_path, monkeypatch):
    from lcasolve.io import _files

    # 70 MiB of spaces inflate from ~70 kB: more than MEMBER_SMALL at a ratio far above 200
    pad = b" " * (70 * 2**20)
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(cement_zip) as a, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as b:
        for name in a.namelist():
            data = a.read(name)
            if name == f"processes/{CEMENT}.json":
                data = data + pad
            b.writestr(name, data)
    assert bomb.stat().st_size < 2**20
    one_line_error(calc(bomb), "zip bomb", f"processes/{CEMENT}.json")
    assert _files.MEMBER_RATIO == 200


def spold_copy(tmp_path, old, new):
    src = next(
        p
        for p in (example_path("cement").parents[2] / ".." / "shared" / "data")
        .resolve()
        .glob("ecospold2-ecoinvent/*0000.spold")
    )
    text = src.read_text()
    assert old in text
    dst = tmp_path / src.name
    dst.write_text(text.replace(old, new, 1))
    return dst


@pytest.mark.usefixtures("shared_data")
def test_ecospold2_negative_reference_and_group_text_refused(tmp_path):
    ref = 'amount="1" intermediateExchangeId="d4ee8f39'
    bad = spold_copy(tmp_path, ref, ref.replace('"1"', '"-1"'))
    with pytest.raises(InvalidProductionError, match="negative amount -1"):
        lcasolve.load(bad)
    proc = cli("convert", bad, tmp_path / "x.h5")
    one_line_error(proc, bad.name, "negative amount")
    bad = spold_copy(tmp_path, "<outputGroup>0</outputGroup>", "<outputGroup>abc</outputGroup>")
    proc = cli("convert", bad, tmp_path / "y.h5")
    one_line_error(proc, bad.name, "<outputGroup> is 'abc'")


def npy_bytes(header: dict) -> bytes:
    text = repr(header).encode()
    text += b" " * (63 - (10 + len(text)) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(text)) + text


def datapackage_folder(tmp_path, resources, files):
    folder = tmp_path / "pkg"
    folder.mkdir()
    (folder / "datapackage.json").write_text(
        json.dumps({"name": "x", "profile": "data-package", "resources": resources})
    )
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return folder


def indices_npy() -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.zeros(1, dtype=[("row", "<i4"), ("col", "<i4")]))
    return buf.getvalue()


def resource(path, kind="data", matrix="technosphere_matrix", group="t"):
    return {
        "name": f"{group}.{kind}", "path": path, "profile": "data-resource",
        "format": "npy", "mediatype": "application/octet-stream",
        "matrix": matrix, "kind": kind, "group": group, "category": "vector",
    }  # fmt: skip


def test_npy_header_asking_for_terabytes_refused(tmp_path):
    huge = npy_bytes({"descr": "<f8", "fortran_order": False, "shape": (2**40,)})
    assert len(huge) == 128
    folder = datapackage_folder(
        tmp_path,
        [resource("t.indices.npy", "indices"), resource("t.data.npy")],
        {"t.data.npy": huge, "t.indices.npy": indices_npy()},
    )
    proc = cli("calc", folder, "--demand", "1=1")
    one_line_error(proc, "t.data.npy", "declares shape", "8796093022208 bytes")


@pytest.mark.parametrize("path", ["../secret.npy", "/etc/passwd"])
def test_datapackage_resource_outside_the_package_refused(tmp_path, path):
    buf = io.BytesIO()
    np.save(buf, np.ones(1))
    (tmp_path / "secret.npy").write_bytes(buf.getvalue())
    folder = datapackage_folder(
        tmp_path,
        [resource("t.indices.npy", "indices"), resource(path)],
        {"t.indices.npy": indices_npy()},
    )
    proc = cli("calc", folder, "--demand", "1=1")
    one_line_error(proc, "outside the datapackage", path)


@pytest.mark.parametrize(
    ("encoding", "ok"), [("utf-8-sig", True), ("utf-16", True), ("latin-1", False)]
)
def test_table_encodings(tmp_path, encoding, ok):
    folder = tmp_path / "cement"
    shutil.copytree(example_path("cement"), folder)
    acts = folder / "activities.csv"
    text = acts.read_text().replace("Portland cement production", "Portland cément production")
    acts.write_bytes(text.encode(encoding))
    proc = cli("calc", folder, "--demand", "cement=1", "--json")
    if ok:
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout)["scores"]["IPCC AR6 GWP100"] == pytest.approx(CEMENT_SCORE)
    else:
        one_line_error(proc, "activities.csv", "not UTF-8")


def test_zlib_error_class_is_wrapped():
    from lcasolve.io._files import read_member

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("a.json", np.random.default_rng(0).integers(0, 9, 5000).astype("u1").tobytes())
    raw = bytearray(buf.getvalue())
    raw[100:140] = b"\xff" * 40
    with zipfile.ZipFile(io.BytesIO(bytes(raw))) as z, pytest.raises(DataFileError, match="a.json"):
        try:
            read_member(z, z.getinfo("a.json"), "x.zip:a.json")
        except zlib.error:  # pragma: no cover - must not escape
            pytest.fail("zlib.error escaped")


def cement_workbook(path, inject=None):
    """The bundled cement tables as one workbook; ``inject(part name, xml) -> xml`` edits it."""
    import csv

    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    book.remove(book.active)
    for table in sorted(example_path("cement").glob("*.csv")):
        sheet = book.create_sheet(table.stem)
        with table.open(newline="") as fh:
            for row in csv.reader(fh):
                sheet.append(row)
    plain = path.with_name("plain.xlsx")
    book.save(plain)
    with zipfile.ZipFile(plain) as a, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as b:
        for name in a.namelist():
            data = a.read(name)
            b.writestr(name, inject(name, data) if inject else data)
    return path


DOCTYPE = b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'


def test_xlsx_reads_and_a_doctype_is_refused(tmp_path):
    ok = cement_workbook(tmp_path / "cement.xlsx")
    proc = cli("calc", ok, "--demand", "cement=1", "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["scores"]["IPCC AR6 GWP100"] == pytest.approx(CEMENT_SCORE)

    def inject(name, data):
        if name == "xl/worksheets/sheet1.xml":  # an entity used in the first cell
            return DOCTYPE + data.replace(b"<t>", b"<t>&e;", 1)
        return data

    bad = cement_workbook(tmp_path / "doctype.xlsx", inject)
    one_line_error(
        cli("calc", bad, "--demand", "cement=1"), "doctype.xlsx", "xl/worksheets/sheet1.xml",
        "DOCTYPE",
    )  # fmt: skip
    with pytest.raises(DataFileError, match="DOCTYPE"):
        lcasolve.load(bad)


def test_xlsx_sheet_xml_error_is_one_line(tmp_path):
    # an undefined entity: expat fails while openpyxl iterates the rows (it used to escape)
    def inject(name, data):
        return data.replace(b"<t>", b"<t>&nope;", 1) if name.endswith("sheet1.xml") else data

    bad = cement_workbook(tmp_path / "broken.xlsx", inject)
    one_line_error(cli("calc", bad, "--demand", "cement=1"), "broken.xlsx", "sheet activities")


@pytest.mark.parametrize(
    ("sectors", "words"),
    [
        ({"1111A0": {"index": 0}}, ["sectors.json", "list of objects", "dict"]),
        ([1, 2], ["sectors.json, entry 0", "must be an object"]),
        ([{"index": "0", "id": "1111A0/x"}], ["'index' must be an integer"]),
        ([{"index": 0}], ["entry 0", "'id'"]),
    ],
)
def test_useeio_sectors_of_the_wrong_shape_refused(shared_data, tmp_path, sectors, words):
    from lcasolve.io import useeio

    folder = tmp_path / "USEEIO"
    shutil.copytree(shared_data / "useeio" / "USEEIO", folder)
    (folder / "sectors.json.gz").unlink()
    (folder / "sectors.json").write_text(json.dumps(sectors))
    with pytest.raises(DataFileError) as info:
        useeio.read(folder)
    for w in words:
        assert w in str(info.value)


def data_group(tmp_path, data, category="vector", flip=None):
    files = {"t.indices.npy": indices_npy(), "t.data.npy": npy_of(data)}
    resources = [resource("t.indices.npy", "indices"), resource("t.data.npy")]
    if flip is not None:
        files["t.flip.npy"] = npy_of(flip)
        resources.append(resource("t.flip.npy", "flip"))
    for r in resources:
        r["category"] = category
    return datapackage_folder(tmp_path, resources, files)


def npy_of(array):
    buf = io.BytesIO()
    np.save(buf, array)
    return buf.getvalue()


@pytest.mark.parametrize(
    ("data", "category", "flip", "words"),
    [
        (np.array(["abc"]), "vector", None, ["data array holds <U3 values, not numbers"]),
        (np.ones((1, 1, 1)), "vector", None, ["data array must be 1-D or 2-D", "(1, 1, 1)"]),
        (np.ones((1, 2, 2)), "array", None, ["data array must be 1-D or 2-D", "(1, 2, 2)"]),
        (np.array([["a", "b"]]), "array", None, ["data array holds <U1"]),
        (np.ones(1), "vector", np.array(["x"]), ["flip array holds <U1"]),
    ],
    ids=["text", "3-D", "3-D array", "text array", "text flip"],
)
def test_datapackage_text_or_3d_data_refused(tmp_path, data, category, flip, words):
    folder = data_group(tmp_path, data, category, flip)
    one_line_error(cli("calc", folder, "--demand", "1=1"), "resource group 't'", *words)
