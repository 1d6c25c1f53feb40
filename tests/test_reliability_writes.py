"""Issue 17 items 5, 6 and 7: stores and run files are checksummed and bounded, run files are
updated in place, and writes into full, read-only or missing folders are one-line errors.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap

import h5py
import numpy as np
import pytest

from lcasolve.examples import example_path

CEMENT = example_path("cement")
CEMENT_SCORE = 777.3486242207186  # the bundled tables' footprint (tests/test_demo)


def lcasolve_cmd(*argv):
    exe = shutil.which("lcasolve") or sys.exit("the lcasolve console script is not installed")
    return [exe, *map(str, argv)]


def cli(*argv):
    return subprocess.run(lcasolve_cmd(*argv), capture_output=True, text=True, check=False)


def one_line_error(proc, *words, code=1):
    assert proc.returncode == code, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr and "Exception ignored" not in proc.stderr
    lines = [
        ln
        for ln in proc.stderr.strip().splitlines()
        if not (": warning: " in ln or ": note: " in ln)
    ]
    lines = [ln for ln in lines if not ln.startswith("compiling kernels")]
    assert len(lines) == 1, proc.stderr
    for w in words:
        assert w in lines[0], proc.stderr


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    path = tmp_path_factory.mktemp("store") / "cement.h5"
    proc = cli("convert", CEMENT, path)
    assert proc.returncode == 0, proc.stderr
    return path


def score(path):
    proc = cli("calc", path, "--demand", "cement=1", "--json")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)["scores"]["IPCC AR6 GWP100"]


# --- item 5: a small store declaring a huge dataset -------------------------------------------


def test_store_declaring_64_gib_is_refused_before_allocating(store, tmp_path):
    bomb = tmp_path / "bomb.h5"
    shutil.copy(store, bomb)
    with h5py.File(bomb, "r+") as h5:
        del h5["technosphere/row"]
        h5["technosphere"].create_dataset("row", shape=(2**33,), dtype="i8")  # never written
    assert bomb.stat().st_size < 64 * 2**10
    proc = cli("calc", bomb, "--demand", "cement=1")
    one_line_error(proc, "bomb.h5", "/technosphere/row", "68719476736 bytes", "stores 0 bytes")


# --- item 6: altered stores ---------------------------------------------------------------------


def test_store_round_trip_keeps_the_score(store):
    assert score(store) == pytest.approx(CEMENT_SCORE, rel=1e-12)


@pytest.mark.parametrize(
    "alter",
    [
        lambda h5: h5["technosphere/value"].__setitem__(0, 2.0),
        lambda h5: h5["biosphere/row"].__setitem__(0, 1),
        lambda h5: h5["metadata"].attrs.__setitem__(
            "json", h5["metadata"].attrs["json"].replace("cement", "cemenT")
        ),
        lambda h5: h5["tables/activities"].attrs.__setitem__("columns", '["id"]'),
    ],
    ids=["value", "row", "metadata", "header"],
)
def test_altered_store_is_refused(store, tmp_path, alter):
    bad = tmp_path / "altered.h5"
    shutil.copy(store, bad)
    with h5py.File(bad, "r+") as h5:
        alter(h5)
    proc = cli("calc", bad, "--demand", "cement=1")
    one_line_error(proc, "altered.h5", "altered or is corrupt")


def test_store_without_checksum_is_refused(store, tmp_path):
    bad = tmp_path / "stripped.h5"
    shutil.copy(store, bad)
    with h5py.File(bad, "r+") as h5:
        del h5.attrs["checksum"]
    one_line_error(cli("calc", bad, "--demand", "cement=1"), "stripped.h5", "'checksum'")


# --- item 6: altered run files -------------------------------------------------------------------


def mc_args(out, *extra, iterations=40):
    return (
        "mc", CEMENT, "--demand", "cement=1", "--iterations", iterations, "--seed", 3,
        "--out", out, "--batch-size", 4, "--no-progress", "--json", "--exact", *extra,
    )  # fmt: skip


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "run.h5"
    proc = cli(*mc_args(out))
    assert proc.returncode == 0, proc.stderr
    return out


def test_finished_run_resumes_to_itself(finished_run, tmp_path):
    out = tmp_path / "run.h5"
    shutil.copy(finished_run, out)
    proc = cli(*mc_args(out, "--resume"))
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["iterations"] == 40


@pytest.mark.parametrize(
    ("partial", "alter", "words"),
    [
        (True, lambda h5: h5["deterministic"].__setitem__((0, 0), 1.0), ["header", "altered"]),
        (True, lambda h5: h5.attrs.__setitem__("iterations", 400), ["header", "altered"]),
    ],
    ids=["deterministic", "attribute"],
)
def test_altered_run_file_is_refused_on_resume(finished_run, tmp_path, partial, alter, words):
    out = tmp_path / "run.h5"
    target = out.with_name("run.h5.partial") if partial else out
    shutil.copy(finished_run, target)
    with h5py.File(target, "r+") as h5:
        if partial:  # an unfinished run: the last chunk not done yet
            h5.attrs["complete"] = False
            h5["done"][-1] = False
        alter(h5)
    proc = cli(*mc_args(out, "--resume"))
    one_line_error(proc, str(target), *words)
    assert target.exists()  # nothing is deleted


@pytest.mark.parametrize(
    ("partial", "alter", "words"),
    [
        (False, lambda h5: h5["scores"].__setitem__((5, 0, 0), 1.0), "iterations 4-7 (chunk 1)"),
        (True, lambda h5: h5["scores"].__setitem__((0, 0, 0), 1.0), "iterations 0-3 (chunk 0)"),
        (True, lambda h5: h5["n_fallback"].__setitem__(2, 7), "iterations 8-11 (chunk 2)"),
    ],
    ids=["finished-score", "partial-score", "partial-fallback"],
)
def test_altered_chunks_are_computed_again_on_resume(finished_run, tmp_path, partial, alter, words):
    out = tmp_path / "run.h5"
    target = out.with_name("run.h5.partial") if partial else out
    shutil.copy(finished_run, target)
    with h5py.File(target, "r+") as h5:
        if partial:
            h5.attrs["complete"] = False
            h5["done"][-1] = False
        alter(h5)
    proc = cli(*mc_args(out, "--resume"))
    assert proc.returncode == 0, proc.stderr
    (line,) = [ln for ln in proc.stderr.splitlines() if ": warning: " in ln]
    assert line.startswith(f"lcasolve mc: warning: {target}: {words} were altered")
    assert "computed again" in line
    first, last = (int(x) for x in words.split()[1].split("-"))
    assert json.loads(proc.stdout)["redone"] == [[first, last]]
    with h5py.File(out) as a, h5py.File(finished_run) as b:
        assert np.array_equal(a["scores"][...], b["scores"][...])
        assert np.array_equal(a["checksum"][...], b["checksum"][...])
        assert a.attrs["complete"]
    assert not out.with_name("run.h5.partial").exists()


def test_partial_file_resumes_when_unaltered(finished_run, tmp_path):
    out = tmp_path / "run.h5"
    part = out.with_name("run.h5.partial")
    shutil.copy(finished_run, part)
    with h5py.File(part, "r+") as h5:
        h5.attrs["complete"] = False
        h5["done"][5:] = False
        h5["scores"][20:] = np.nan
    proc = cli(*mc_args(out, "--resume"))
    assert proc.returncode == 0, proc.stderr
    with h5py.File(out) as a, h5py.File(finished_run) as b:
        assert np.array_equal(a["scores"][...], b["scores"][...])
        assert np.array_equal(a["checksum"][...], b["checksum"][...])
        assert a.attrs["complete"]
    assert not part.exists()


# --- item 6: the run file is updated in place ---------------------------------------------------

COUNTING = textwrap.dedent(
    """
    import os, sys
    from lcasolve.cli.main import main
    from lcasolve.montecarlo import _runner, _store
    _runner.COMMIT_SECONDS = 0.0  # a commit after every chunk
    inodes = []
    real = _store.commit
    def commit(path, chunk, results):
        real(path, chunk, results)
        inodes.append(os.stat(path).st_ino)
    _store.commit = commit
    rc = main(sys.argv[1:])
    io = dict(line.split(": ") for line in open("/proc/self/io").read().splitlines())
    print("COUNTS", io["wchar"], len(inodes), len(set(inodes)), file=sys.stderr)
    sys.exit(rc)
    """
)


@pytest.mark.skipif(not os.path.exists("/proc/self/io"), reason="Linux I/O counters")
def test_run_file_commits_in_place(tmp_path):
    out = tmp_path / "big.h5"
    script = tmp_path / "count.py"
    script.write_text(COUNTING)
    argv = (
        "mc", CEMENT, "--demand", "cement=1", "--iterations", 40000, "--batch-size", 500,
        "--out", out, "--no-progress", "--json",
    )  # fmt: skip
    proc = subprocess.run(
        [sys.executable, str(script), *map(str, argv)], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    line = next(ln for ln in proc.stderr.splitlines() if ln.startswith("COUNTS"))
    written, commits, inodes = map(int, line.split()[1:])
    size = out.stat().st_size
    assert commits >= 80 and inodes == 1  # every commit wrote into the same file
    # created once, each chunk written once, copied once to the final name: ~3x the file;
    # a copy per commit wrote commits x size (80 x here, 2.85 GB for a 64 MB run file)
    assert written < 5 * size, (written, size)
    with h5py.File(out) as h5:
        assert h5.attrs["complete"] and h5["done"][...].all()
        assert np.isfinite(h5["scores"][...]).all()


# --- item 7: full, read-only and missing folders ------------------------------------------------


def writers(folder):
    """(command, output path) of every command that writes, into ``folder``."""
    return {
        "convert": (("convert", CEMENT, folder / "c.h5"), folder / "c.h5"),
        "mc": (
            ("mc", CEMENT, "--demand", "cement=1", "--iterations", 20000, "--out",
             folder / "m.h5", "--no-progress"),
            folder / "m.h5",
        ),
        "report": (
            ("report", CEMENT, "--demand", "cement=1", "--iterations", 0, "--html",
             folder / "r.html"),
            folder / "r.html",
        ),
        "generate-hdf5": (
            ("generate", folder / "g.h5", "--processes", 2000, "--format", "hdf5"), folder / "g.h5"
        ),
        "generate-datapackage": (
            ("generate", folder / "g.zip", "--processes", 2000), folder / "g.zip"
        ),
        "generate-jsonld": (
            ("generate", folder / "j.zip", "--processes", 2000, "--format", "jsonld"),
            folder / "j.zip",
        ),
    }  # fmt: skip


COMMANDS = list(writers(__import__("pathlib").Path("x")))


@pytest.fixture
def tiny_tmpfs(tmp_path):
    """A 16 kB tmpfs (root only), unmounted afterwards."""
    folder = tmp_path / "tiny"
    folder.mkdir()
    if not hasattr(os, "geteuid") or os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root")
    proc = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=16k", "tmpfs", str(folder)], capture_output=True
    )
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs: {proc.stderr!r}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=False)


@pytest.mark.parametrize("command", COMMANDS)
def test_full_disk_is_one_line(tiny_tmpfs, command):
    argv, target = writers(tiny_tmpfs)[command]
    proc = cli(*argv)
    one_line_error(proc, str(target), "No space left on device")
    assert os.listdir(tiny_tmpfs) == []  # no temporary file left behind


ENOSPC_FSYNC = textwrap.dedent(
    """
    import errno, os, sys
    def fsync(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    os.fsync = fsync  # a file system that reports the full disk when the data is synced
    from lcasolve.cli.main import main
    sys.exit(main(sys.argv[1:]))
    """
)


@pytest.mark.parametrize("command", COMMANDS)
def test_enospc_when_syncing_is_one_line(tmp_path, command):
    script = tmp_path / "enospc.py"
    script.write_text(ENOSPC_FSYNC)
    folder = tmp_path / "out"
    folder.mkdir()
    argv, target = writers(folder)[command]
    proc = subprocess.run(
        [sys.executable, str(script), *map(str, argv)], capture_output=True, text=True
    )
    one_line_error(proc, str(target), "No space left on device")
    assert not target.exists()
    assert [p.name for p in folder.iterdir() if p.name.endswith(".tmp")] == []


@pytest.fixture
def read_only_folder(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    if os.geteuid() == 0:  # root writes through permissions: a read-only mount instead
        proc = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(folder)],
            capture_output=True,
        )
        if proc.returncode != 0:
            pytest.skip("root, and a read-only tmpfs cannot be mounted")
        try:
            yield folder
        finally:
            subprocess.run(["umount", str(folder)], check=False)
    else:
        folder.chmod(0o555)
        try:
            yield folder
        finally:
            folder.chmod(0o755)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
@pytest.mark.parametrize("command", COMMANDS)
def test_read_only_folder_is_one_line(read_only_folder, command):
    argv, target = writers(read_only_folder)[command]
    proc = cli(*argv)
    one_line_error(proc, str(target))
    assert "Read-only file system" in proc.stderr or "Permission denied" in proc.stderr


@pytest.mark.parametrize("command", COMMANDS)
def test_missing_folder_is_a_usage_error(tmp_path, command):
    argv, target = writers(tmp_path / "missing")[command]
    proc = cli(*argv)
    one_line_error(proc, str(target.parent), "does not exist", code=2)


def test_run_file_checksum_does_not_depend_on_numpy_scalar_repr(tmp_path):
    # numpy 2 shows np.int64(3) where numpy 1 showed 3 (legacy="1.25" brings that back): a run
    # file written under one must still be read and resumed under the other
    from lcasolve.montecarlo import MonteCarlo, _store
    from tests.test_montecarlo import random_system

    out = tmp_path / "run.h5"
    first = MonteCarlo(random_system(n=20, seed=1), {2: 1.0}).run(8, seed=3, out=out)
    with np.printoptions(legacy="1.25"):
        np.testing.assert_array_equal(_store.read(out)["scores"], first.scores)
