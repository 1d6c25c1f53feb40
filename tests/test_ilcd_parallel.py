"""The ILCD reader in two processes (lcasolve.io._halves) gives the system of a serial read."""

from __future__ import annotations

import re
import threading
import time
import zipfile
from pathlib import Path

import pandas as pd
import pytest

import lcasolve
from lcasolve.errors import MissingReferenceError
from lcasolve.io import _halves, ilcd

MATRICES = ("technosphere", "biosphere", "characterization")
TABLES = ("activities", "flows", "categories")


def assert_identical(a: lcasolve.System, b: lcasolve.System) -> None:
    for m in MATRICES:
        ea, eb = getattr(a, m), getattr(b, m)
        assert ea.shape == eb.shape, m
        for key in ("row", "col", "value", "flip", "uncertainty"):
            x, y = getattr(ea, key), getattr(eb, key)
            assert x.dtype == y.dtype, (m, key)
            assert x.tobytes() == y.tobytes(), (m, key)  # bit-exact, NaN included
    for t in TABLES:
        pd.testing.assert_frame_equal(getattr(a, t), getattr(b, t))
    # the link report, the problems in their order and the counts; repr compares NaN amounts
    # (the LinkReport's own repr gives only its counts: its entries are compared as a list)
    assert repr(list(a.metadata["link_report"])) == repr(list(b.metadata["link_report"]))
    assert repr(a.metadata) == repr(b.metadata)


@pytest.fixture(scope="module")
def tiangong(shared_data: Path) -> Path:
    return shared_data / "tiangong" / "tiangong_ilcd.zip"


@pytest.fixture(scope="module")
def subset(tiangong: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """300 of TianGong's processes, the flows they name (problems among them), 3 methods."""
    out = tmp_path_factory.mktemp("ilcd") / "subset.zip"
    with zipfile.ZipFile(tiangong) as z, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as w:
        names = sorted(z.namelist())
        processes = [n for n in names if "/processes/" in n]
        keep = set(processes[:: len(processes) // 300][:300])
        keep.update([n for n in names if "/lciamethods/" in n][:3])
        named = {m for n in keep for m in re.findall(rb'refObjectId="([^"]+)"', z.read(n))}
        for info in z.infolist():
            stem = info.filename.rsplit("/", 1)[-1].removesuffix(".xml").encode()
            if "/flows/" in info.filename and stem not in named:
                continue
            in_sets = "/processes/" in info.filename or "/lciamethods/" in info.filename
            if in_sets and info.filename not in keep:
                continue
            w.writestr(info, z.read(info))
    return out


@pytest.fixture(scope="module")
def serial(subset: Path) -> lcasolve.System:
    return lcasolve.load(subset, strict=False, workers=1)


@pytest.fixture
def halves_used(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The number of halves each read came back in."""
    used: list[int] = []

    def in_two(*args, **kwargs):
        out = _halves.in_two(*args, **kwargs)
        used.append(len(out))
        return out

    monkeypatch.setattr(ilcd, "in_two", in_two)
    return used


needs_fork = pytest.mark.skipif(
    "fork" not in __import__("multiprocessing").get_all_start_methods(), reason="no fork"
)


@needs_fork
def test_two_workers_read_the_serial_system(
    subset: Path, serial: lcasolve.System, halves_used: list[int]
) -> None:
    parallel = lcasolve.load(subset, strict=False, workers=2)
    assert halves_used == [2]
    counts = serial.metadata["counts"]
    assert counts["processes_in_archive"] == 300
    assert counts["methods"] == 3
    assert counts["exchanges_of_absent_flows"] > 0  # problems from both halves are merged
    assert_identical(serial, parallel)


@needs_fork
def test_a_failing_child_is_read_again_here(
    subset: Path, serial: lcasolve.System, halves_used: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    read_sets = ilcd._read_sets

    def broken_in_child(members, in_child, **kwargs):
        if in_child:
            raise RuntimeError("child dies")
        return read_sets(members, in_child, **kwargs)

    monkeypatch.setattr(ilcd, "_read_sets", broken_in_child)
    assert_identical(serial, lcasolve.load(subset, strict=False, workers=2))
    assert halves_used == [2]


@needs_fork
def test_strict_stops_at_the_serial_first_problem(subset: Path) -> None:
    with pytest.raises(MissingReferenceError) as serial:
        lcasolve.load(subset, workers=1)
    with pytest.raises(MissingReferenceError) as parallel:
        lcasolve.load(subset, workers=2)
    assert str(parallel.value) == str(serial.value)


def test_split_point_balances_the_weights() -> None:
    assert _halves.split_point([1, 1, 1, 1]) == 2
    assert _halves.split_point([10, 1, 1, 1]) == 1
    assert _halves.split_point([1, 1, 1, 10]) == 3
    assert _halves.split_point([5, 5]) == 1


def test_one_worker_or_item_reads_here() -> None:
    def work(items, in_child):
        assert not in_child
        return list(items)

    assert _halves.in_two(work, [1, 2, 3], [1, 1, 1], workers=1) == [[1, 2, 3]]
    assert _halves.in_two(work, [1], [1], workers=2) == [[1]]


@needs_fork
def test_a_stuck_child_is_given_up_and_its_half_read_here(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A child that never answers (a lock held at the fork) costs a wait, never a hang."""
    monkeypatch.setattr(_halves, "_MIN_PATIENCE_S", 0.5)

    def work(items, in_child):
        if in_child:
            time.sleep(3600)
        return list(items)

    started = time.perf_counter()
    assert _halves.in_two(work, [1, 2, 3, 4], [1, 1, 1, 1], workers=2) == [[1, 2], [3, 4]]
    assert time.perf_counter() - started < 30


@needs_fork
def test_an_interrupt_while_waiting_for_the_child_is_raised_and_the_child_killed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Ctrl-C while the parent waits for its child: the KeyboardInterrupt, no stray child."""
    import multiprocessing.connection

    def work(items, in_child):
        if in_child:
            time.sleep(3600)
        return list(items)

    def interrupted(self, timeout=0.0):
        raise KeyboardInterrupt

    monkeypatch.setattr(multiprocessing.connection._ConnectionBase, "poll", interrupted)
    with pytest.raises(KeyboardInterrupt):
        _halves.in_two(work, [1, 2, 3, 4], [1, 1, 1, 1], workers=2)
    assert __import__("multiprocessing").active_children() == []


@needs_fork
def test_no_fork_while_other_python_threads_run() -> None:
    """A service's or a Jupyter kernel's threads make the default read serial."""
    release = threading.Event()
    thread = threading.Thread(target=release.wait)
    thread.start()
    try:
        assert _halves.available_workers() == 1
    finally:
        release.set()
        thread.join()


@pytest.mark.slow
@needs_fork
def test_tiangong_two_workers_read_the_serial_system(tiangong: Path) -> None:
    assert_identical(
        lcasolve.load(tiangong, strict=False, workers=1),
        lcasolve.load(tiangong, strict=False, workers=2),
    )
