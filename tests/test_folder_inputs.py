"""A folder given as input is read at its own level, not its whole subtree (issue 16, item 8).

Formats that are folder trees by design (JSON-LD type folders, ILCD's ``ILCD/processes``,
ecoinvent's ``datasets/``) keep working; any other subfolder is left out and named.
"""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest

import lcasolve
from lcasolve.errors import UnknownFormatError
from lcasolve.io import ImportReport, detect_format
from tests.test_cli_ux import cli
from tests.test_ilcd import archive
from tests.test_jsonld_parameters import _files

GWP = "IPCC AR6 GWP100"


@pytest.fixture
def spold(shared_data):
    (first, *_) = sorted((shared_data / "ecospold2-ecoinvent").glob("*.spold"))
    return first


def _stray(folder: Path, spold: Path) -> None:
    """A test folder below the input holding an EcoSpold2 file that is not part of it."""
    (folder / "stray").mkdir(parents=True)
    shutil.copy(spold, folder / "stray" / "left_over.spold")


def test_jsonld_folder_with_a_stray_spold_reads_the_jsonld(tmp_path, spold):
    folder = tmp_path / "model"
    for name, data in _files().items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(json.dumps(data))
    _stray(folder, spold)
    # walking the subtree would find the .spold and take the folder for EcoSpold2
    assert detect_format(folder) == "jsonld"
    code, out, err = cli("calc", folder, "--demand", "use=1", "--method", GWP, "--json")
    assert code == 0, err
    # h = k/2 + 2 * 3 * dist * frac = 0.5 + 12 (the parameter model of test_jsonld_parameters)
    assert json.loads(out)["scores"][GWP] == pytest.approx(12.5, rel=1e-12)
    (note,) = err.strip().splitlines()
    assert note.startswith("lcasolve calc: note: ")
    n_files = len(_files())
    assert f"read {folder} as jsonld: {n_files} files" in note
    assert "processes/ " in note and "subfolders not read: stray/ (1 file)" in note
    report = ImportReport.from_system(lcasolve.load(folder))
    (taken,) = report.inputs
    assert taken["files"] == n_files and taken["left_out"] == {"stray": 1}
    assert taken["format"] == "jsonld"


def test_datapackage_folder_with_a_stray_spold(tmp_path, shared_data, spold):
    zipped = shared_data / "bw2calc-fixtures" / "basic_fixture.zip"
    folder = tmp_path / "basic"
    with zipfile.ZipFile(zipped) as z:
        z.extractall(folder)
        n_files = len(z.namelist())
    code, _, err = cli("calc", folder, "--demand", "1=1")
    assert code == 0 and err == ""  # a folder read whole says nothing
    _stray(folder, spold)
    code, out, err = cli("calc", folder, "--demand", "1=1", "--json")
    assert code == 0, err
    code_zip, out_zip, _ = cli("calc", zipped, "--demand", "1=1", "--json")
    assert code_zip == 0
    assert json.loads(out)["scores"] == json.loads(out_zip)["scores"]
    assert f"as datapackage: {n_files} files (its own {n_files})" in err
    assert "subfolders not read: stray/ (1 file)" in err
    code, out, err = cli("convert", folder, tmp_path / "b.h5", "--json")
    assert code == 0, err
    (taken,) = json.loads(out)["input_files"]
    assert taken["folders"] == {".": n_files} and taken["left_out"] == {"stray": 1}


def test_folder_tree_formats_keep_their_layout(tmp_path, spold):
    ilcd = tmp_path / "ilcd"
    with zipfile.ZipFile(archive(tmp_path)) as z:
        z.extractall(ilcd)
        members = [n for n in z.namelist() if not n.endswith("/")]
    assert all(n.startswith("ILCD/") for n in members)  # ILCD/processes/..., ILCD/flows/...
    _stray(ilcd, spold)
    assert detect_format(ilcd) == "ilcd"
    system = lcasolve.load(ilcd, ambiguous="cutoff")
    assert system.n_activities == 3
    assert system.metadata["input_files"][0]["folders"] == {"ILCD": len(members)}
    # ecoinvent's release layout: datasets/*.spold
    eco = tmp_path / "ecoinvent"
    (eco / "datasets").mkdir(parents=True)
    shutil.copy(spold, eco / "datasets" / spold.name)
    assert detect_format(eco) == "ecospold2"
    assert lcasolve.load(eco).n_activities == lcasolve.load(spold).n_activities


def test_a_folder_whose_data_is_only_in_a_stray_subfolder_is_no_format(tmp_path, spold):
    folder = tmp_path / "empty"
    folder.mkdir()
    (folder / "notes.txt").write_text("nothing here")
    _stray(folder, spold)
    with pytest.raises(UnknownFormatError, match="not a format lcasolve reads"):
        detect_format(folder)
    code, out, err = cli("calc", folder, "--demand", "x=1")
    assert code == 1 and out == "" and "not a format" in err
    assert len(err.strip().splitlines()) == 1
