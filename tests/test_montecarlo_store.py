"""Run files read while a writer fills them, and resumed past corrupt chunks.

The reference values are those of an uninterrupted run with the same seed: the counter-based
streams make every iteration's draws, hence its scores, independent of which process computed
it and when.
"""

from __future__ import annotations

import os
import shutil

import h5py
import numpy as np
import pytest

from lcasolve.errors import CorruptChunkWarning, DataFileError
from lcasolve.montecarlo import MonteCarlo, _store
from tests.test_montecarlo import random_system

ITERATIONS, BATCH, SEED = 20, 4, 3  # five chunks of four iterations
RECORD = {"technosphere": [30, 31], "biosphere": [2]}


def new_run(out, **kwargs):
    mc = MonteCarlo(random_system(n=20, seed=1), {2: 1.0, 5: 1.0}, batch_size=BATCH)
    return mc.run(ITERATIONS, seed=SEED, out=out, record=RECORD, inventory=[0, 1], **kwargs)


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """An uninterrupted run: its file and its result."""
    out = tmp_path_factory.mktemp("run") / "run.h5"
    return out, new_run(out)


def unfinished(finished, tmp_path, present=2):
    """The partial file of a writer halfway through the last chunk.

    Its arrays hold the first ``present`` iterations of that chunk (the other rows still the
    NaN of creation) and the chunk is not marked done.
    """
    part = tmp_path / "run.h5.partial"
    shutil.copy(finished[0], part)
    with h5py.File(part, "r+") as h5:
        h5.attrs["complete"] = False
        h5["done"][-1] = False
        h5["checksum"][-1] = 0
        h5["scores"][ITERATIONS - BATCH + present :] = np.nan
    return part


def test_a_chunk_not_marked_done_is_left_out_and_counted(finished, tmp_path):
    _, first = finished
    part = unfinished(finished, tmp_path)
    data = _store.read(part)
    done = ITERATIONS - BATCH
    assert data["iterations_done"] == done
    assert data["done"].tolist() == [True, True, True, True, False]
    np.testing.assert_array_equal(data["scores"][:done], first.scores[:done])
    # the two iterations the writer had written are not taken: the chunk is not finished
    assert np.isfinite(first.scores[done:]).all()
    assert np.isnan(data["scores"][done:]).all()
    assert np.isnan(data["inventory"][done:]).all()
    assert all(np.isnan(v[done:]).all() for v in data["inputs"].values())
    np.testing.assert_array_equal(
        data["inputs"]["technosphere"][:done], first.inputs["technosphere"][:done]
    )
    assert not data["invalid"][done:].any()
    assert data["corrupt"] == []


class _WriterFinishesDuringRead:
    """A run file whose first read of a chunk array lets a writer finish the last chunk.

    The writer writes as :func:`lcasolve.montecarlo._store.commit` does, arrays then flags,
    straight into the file's bytes while the reader has it open.
    """

    ARRAYS = ("done", "n_fallback", "checksum", "scores", "invalid", "inventory")

    def __init__(self, h5, finish):
        self._h5, self._finish = h5, finish

    def __getattr__(self, name):
        return getattr(self._h5, name)

    def __contains__(self, name):
        return name in self._h5

    def __getitem__(self, name):
        obj = self._h5[name]
        return _Dataset(obj, self) if name in self.ARRAYS else obj

    def finish_once(self):
        if self._finish is not None:
            self._finish()
            self._finish = None


class _Dataset:
    def __init__(self, ds, owner):
        self._ds, self._owner = ds, owner

    def __getattr__(self, name):
        return getattr(self._ds, name)

    def __getitem__(self, key):
        value = self._ds[key]
        self._owner.finish_once()
        return value


def test_a_chunk_finished_during_the_read_is_taken_whole_or_not_at_all(finished, tmp_path):
    out, first = finished
    part = unfinished(finished, tmp_path, present=0)
    with h5py.File(out) as h5:
        rows = h5["scores"][ITERATIONS - BATCH :].tobytes()
        digest = h5["checksum"][-1].tobytes()
    with h5py.File(part) as h5:
        row = h5["scores"].id.get_offset() + (ITERATIONS - BATCH) * h5["scores"][0].nbytes
        at_sum = h5["checksum"].id.get_offset() + (ITERATIONS // BATCH - 1) * 32
        at_done = h5["done"].id.get_offset() + ITERATIONS // BATCH - 1

    def writer():
        fd = os.open(part, os.O_WRONLY)
        try:
            os.pwrite(fd, rows, row)
            os.fsync(fd)
            os.pwrite(fd, digest, at_sum)
            os.pwrite(fd, b"\x01", at_done)
        finally:
            os.close(fd)

    with h5py.File(part) as h5:
        data = _store._read(part, _WriterFinishesDuringRead(h5, writer), True)
    # the flags were read before the writer finished: the last chunk is not in this read,
    # and what is in it is consistent (no checksum error from a half-seen chunk)
    done = ITERATIONS - BATCH
    assert data["iterations_done"] == done
    np.testing.assert_array_equal(data["scores"][:done], first.scores[:done])
    assert np.isnan(data["scores"][done:]).all()
    # the next read sees the chunk done and whole
    again = _store.read(part)
    assert again["iterations_done"] == ITERATIONS
    np.testing.assert_array_equal(again["scores"], first.scores)


def test_a_resumed_unfinished_run_equals_the_uninterrupted_one(finished, tmp_path):
    _, first = finished
    unfinished(finished, tmp_path)
    res = new_run(tmp_path / "run.h5", resume=True)
    np.testing.assert_array_equal(res.scores, first.scores)
    np.testing.assert_array_equal(res.inventory, first.inventory)
    for name, values in first.inputs.items():
        np.testing.assert_array_equal(res.inputs[name], values)


def corrupt_bytes(path, dataset, row):
    """Flip the bytes of one row of ``dataset`` in the file, as a bad disk sector would."""
    with h5py.File(path) as h5:
        ds = h5[dataset]
        size = ds[0].nbytes
        at = ds.id.get_offset() + row * size
    with open(path, "r+b") as fh:
        fh.seek(at)
        old = fh.read(size)
        fh.seek(at)
        fh.write(bytes(b ^ 0x5A for b in old))


@pytest.fixture
def counted(monkeypatch):
    """The iteration ranges the run computes."""
    from lcasolve.montecarlo import _runner

    seen = []
    real = _runner.run_chunk

    def run_chunk(plan, start, stop, *args, **kwargs):
        seen.append((start, stop))
        return real(plan, start, stop, *args, **kwargs)

    monkeypatch.setattr(_runner, "run_chunk", run_chunk)
    return seen


def assert_same_run(res, first, path):
    np.testing.assert_array_equal(res.scores, first.scores)
    np.testing.assert_array_equal(res.inventory, first.inventory)
    for name, values in first.inputs.items():
        np.testing.assert_array_equal(res.inputs[name], values)
    assert res.n_fallback == first.n_fallback
    again = _store.read(path)  # strict: every chunk verified
    np.testing.assert_array_equal(again["scores"], first.scores)
    assert again["complete"] and again["iterations_done"] == ITERATIONS
    assert not path.with_name(path.name + ".partial").exists()


def test_a_corrupt_chunk_of_a_finished_run_alone_is_computed_again(finished, tmp_path, counted):
    src, first = finished
    out = tmp_path / "run.h5"
    shutil.copy(src, out)
    corrupt_bytes(out, "scores", 9)  # chunk 2: iterations 8-11
    with pytest.raises(DataFileError, match=r"iterations 8-11 \(chunk 2\)"):
        _store.read(out)
    with pytest.warns(CorruptChunkWarning, match=r"run\.h5: iterations 8-11 \(chunk 2\)"):
        res = new_run(out, resume=True)
    assert counted == [(8, 12)]
    assert res.redone == [(8, 11)]
    assert_same_run(res, first, out)
    with h5py.File(out) as a, h5py.File(src) as b:
        np.testing.assert_array_equal(a["checksum"][...], b["checksum"][...])


def test_corrupt_chunks_of_an_unfinished_run_are_computed_with_the_rest(
    finished, tmp_path, counted
):
    _, first = finished
    part = unfinished(finished, tmp_path)
    corrupt_bytes(part, "inventory", 0)  # chunk 0
    corrupt_bytes(part, "n_fallback", 3)  # chunk 3
    with pytest.warns(CorruptChunkWarning) as caught:
        res = new_run(tmp_path / "run.h5", resume=True)
    (warning,) = caught
    assert "iterations 0-3 (chunk 0), iterations 12-15 (chunk 3)" in str(warning.message)
    assert sorted(counted) == [(0, 4), (12, 16), (16, 20)]
    assert res.redone == [(0, 3), (12, 15)]
    assert_same_run(res, first, tmp_path / "run.h5")


def test_an_interrupted_redo_goes_on_from_its_partial_file(finished, tmp_path, counted):
    src, first = finished
    out = tmp_path / "run.h5"
    shutil.copy(src, out)
    corrupt_bytes(out, "scores", 1)
    corrupt_bytes(out, "scores", 17)
    part = tmp_path / "run.h5.partial"
    shutil.copy(out, part)  # a resume that redid chunk 0 and was killed before chunk 4
    with h5py.File(part, "r+") as h5, h5py.File(src) as ok:
        h5.attrs["complete"] = False
        h5["scores"][:BATCH] = ok["scores"][:BATCH]
        h5["done"][-1] = False
    pattern = r"run\.h5: iterations 0-3 \(chunk 0\), iterations 16-19 \(chunk 4\)"
    with pytest.warns(CorruptChunkWarning, match=pattern):
        res = new_run(out, resume=True)
    assert res.redone == [(0, 3), (16, 19)]
    assert counted == [(16, 20)]
    assert_same_run(res, first, out)


def test_contribution_spans_out_of_range_are_a_corrupt_chunk(tmp_path):
    system = random_system(n=20, seed=1)

    def run(out, **kwargs):
        mc = MonteCarlo(system, {2: 1.0}, batch_size=BATCH)
        return mc.run(ITERATIONS, seed=SEED, out=out, contributions=True, **kwargs)

    first = run(tmp_path / "first.h5")
    out = tmp_path / "run.h5"
    shutil.copy(tmp_path / "first.h5", out)
    with h5py.File(out, "r+") as h5:
        h5["contributions/span"][1] = (5, 10**9)  # past the end of the arrays
    with pytest.warns(CorruptChunkWarning, match=r"iterations 4-7 \(chunk 1\)"):
        res = run(out, resume=True)
    assert (res.contributions != first.contributions).nnz == 0
    assert res.contributions.nnz == first.contributions.nnz > 0
    np.testing.assert_array_equal(res.scores, first.scores)


def test_an_array_of_the_wrong_shape_is_refused_naming_it(finished, tmp_path):
    out = tmp_path / "run.h5"
    shutil.copy(finished[0], out)
    with h5py.File(out, "r+") as h5:
        del h5["invalid"]
        h5.create_dataset("invalid", data=np.zeros(ITERATIONS - 1, np.uint8))
    with pytest.raises(DataFileError, match=r"'invalid' has shape \(19,\), the run's is \(20,\)"):
        new_run(out, resume=True)


def test_a_resume_without_a_batch_size_takes_the_run_files(finished, tmp_path):
    """A run file keeps its chunks: a resume that names no batch size goes on with the file's
    (a run started with an older default too); one that names another batch size is refused."""
    from lcasolve.errors import ResumeMismatchError
    from lcasolve.montecarlo import default_batch_size

    _, first = finished
    unfinished(finished, tmp_path)
    system = random_system(n=20, seed=1)
    assert default_batch_size(system.technosphere.value.size) != BATCH  # the file's is not it
    mc = MonteCarlo(system, {2: 1.0, 5: 1.0})
    res = mc.run(ITERATIONS, seed=SEED, out=tmp_path / "run.h5", record=RECORD,
                 inventory=[0, 1], resume=True)  # fmt: skip
    np.testing.assert_array_equal(res.scores, first.scores)
    assert mc.batch_size == default_batch_size(system.technosphere.value.size)  # unchanged
    unfinished(finished, tmp_path)
    with pytest.raises(ResumeMismatchError, match="made with batch_size=4, this run has 5"):
        MonteCarlo(system, {2: 1.0, 5: 1.0}, batch_size=BATCH + 1).run(
            ITERATIONS, seed=SEED, out=tmp_path / "run.h5", record=RECORD, inventory=[0, 1],
            resume=True,
        )  # fmt: skip


def test_the_default_batch_size_halves_for_large_technospheres():
    from lcasolve.montecarlo import LARGE_TECHNOSPHERE, default_batch_size

    assert default_batch_size(LARGE_TECHNOSPHERE) == 16
    assert default_batch_size(LARGE_TECHNOSPHERE + 1) == 8
    assert MonteCarlo(random_system(n=20, seed=1), {2: 1.0}).batch_size == 16
