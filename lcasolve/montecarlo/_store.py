"""HDF5 run files: arrays written in place per completed chunk, checksummed, resumable.

While a run goes on, results live in ``<out>.partial``. The file is created whole (every array
allocated at its final size and filled with NaN, built in memory and written atomically), so a
commit only overwrites bytes the file already has: HDF5's structure (object headers, the
superblock) never changes after creation, and the file stays readable at every moment. A
commit writes the chunks' arrays, flushes and syncs them, and only then marks the chunks done
with their checksums (BLAKE2b of the chunk's arrays), so a run killed during a commit loses at
most the chunks of that commit; nothing is copied per commit (a 64 MB run file used to be
rewritten 45 times). Per-activity contributions, whose size is not known in advance, live in
arrays with spare capacity; when it runs out the file is rebuilt once with twice the capacity.

The header (seed, sizes, options, names, deterministic scores) has its own checksum; resuming
or reading a file verifies both. An altered or corrupt header is refused. A reader takes only
the chunks marked done, their flags read before their arrays, so a file being written gives the
chunks finished so far, each whole. A resume computes again just the chunks whose checksum does
not match (:func:`forget`), a finished run going back to its partial file for that
(:func:`reopen`). When every chunk is done, the partial file is copied once to ``out`` with
``complete`` set, and removed.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from lcasolve.errors import DataFileError, InputError, OutputExistsError, ResumeMismatchError
from lcasolve.io._atomic import atomic_path

if TYPE_CHECKING:
    from lcasolve.montecarlo._engine import ChunkResult
    from lcasolve.montecarlo._plan import RunHeader

FORMAT = "lcasolve-montecarlo-2"
#: header attributes compared on resume and covered by the header checksum
_KEYS = ("seed", "iterations", "batch_size", "method", "database_hash", "others")
#: starting capacity of the contribution arrays (entries)
_CONTRIB_CAPACITY = 2**16


def partial_path(out: Path) -> Path:
    """Where an unfinished run is kept."""
    return out.with_name(out.name + ".partial")


def prepare(out: Path, *, resume: bool, overwrite: bool) -> Path | None:
    """Check the output paths; return the file to resume from, if any.

    Raises
    ------
    OutputExistsError
        ``out`` (or its partial file) exists and neither ``resume`` nor ``overwrite`` is set.
    """
    part = partial_path(out)
    if resume and overwrite:
        raise InputError("resume and overwrite exclude each other")
    if overwrite:  # a finished ``out`` stays until the new run replaces it in finish()
        part.unlink(missing_ok=True)
        return None
    if resume:
        return _resume_source(out)
    for p in (out, part):
        if p.exists():
            raise OutputExistsError(
                f"output file {p} exists; pass resume=True (--resume) to continue that run or "
                f"overwrite=True (--overwrite) to replace it"
            )
    return None


def _early() -> Any:
    """Dataset creation properties: space allocated (and NaN-filled) when the file is made."""
    import h5py

    dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
    dcpl.set_alloc_time(h5py.h5d.ALLOC_TIME_EARLY)
    return dcpl


def _fixed(h5: Any, name: str, shape: tuple[int, ...], dtype: str, fill: Any) -> Any:
    """A contiguous dataset allocated at creation: later writes change no HDF5 structure."""
    return h5.create_dataset(
        name, shape=shape, dtype=dtype, fillvalue=fill, dcpl=_early(), track_times=False
    )


def _write_file(path: Path, build: Any) -> None:
    """Build an HDF5 file in memory with ``build(h5file)``, then write it atomically.

    Built in memory because HDF5 failing a write (a full disk) can crash the interpreter while
    it cleans up; a plain file write that fails is an
    :class:`~lcasolve.errors.OutputWriteError` naming ``path``.
    """
    import h5py

    buf = io.BytesIO()
    with h5py.File(buf, "w") as h5:
        build(h5)
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        fh.write(buf.getbuffer())


def _open(path: Path, mode: str = "r") -> Any:
    """Open a run file for reading, or for writing without HDF5's file lock.

    The run lock guards the writers, and a reader watching the partial file must not make a
    commit fail.
    """
    import h5py

    if mode == "r":
        return h5py.File(path, "r")
    fapl = h5py.h5p.create(h5py.h5p.FILE_ACCESS)
    fapl.set_file_locking(False, True)
    # no sieve buffer: a commit writes the bytes of its chunks, not 64 KiB windows around them
    fapl.set_sieve_buf_size(0)
    return h5py.File(h5py.h5f.open(os.fsencode(path), h5py.h5f.ACC_RDWR, fapl=fapl))


def _sync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _header_digest(h5: Any) -> str:
    """Checksum of the header: attributes, names, deterministic scores, recorded inputs."""
    h = hashlib.blake2b(digest_size=32)
    for key in (*_KEYS, "versions", "parameters", "inventory_flows"):
        value = h5.attrs[key]  # as a Python value: numpy's scalar repr changed in numpy 2
        h.update(f"{key}={value.item() if isinstance(value, np.generic) else value!r};".encode())
    for name in ("demand_names", "category_names", "category_units"):
        h.update(json.dumps([_text(x) for x in h5[name][...]]).encode())
    h.update(np.ascontiguousarray(h5["deterministic"][...], dtype="f8").tobytes())
    for name in sorted(h5["inputs"]):
        if name.endswith("_index"):
            h.update(name.encode() + np.asarray(h5["inputs"][name][...], "i8").tobytes())
    if "contributions" in h5:
        grp = h5["contributions"]
        h.update(f"{grp.attrs['activities']}|{tuple(int(x) for x in grp.attrs['shape'])}".encode())
    return h.hexdigest()


def _text(x: Any) -> str:
    return x.decode() if isinstance(x, bytes) else str(x)


def _chunk_digest(
    scores: np.ndarray,
    inputs: dict[str, np.ndarray],
    inventory: np.ndarray | None,
    coords: np.ndarray | None,
    data: np.ndarray | None,
    n_fallback: int,
    invalid: np.ndarray,
) -> np.ndarray:
    """Checksum of one chunk's arrays (as stored: float64 / int64 / uint8), as 32 bytes."""
    h = hashlib.blake2b(digest_size=32)
    h.update(np.ascontiguousarray(invalid, dtype="u1").tobytes())
    h.update(np.ascontiguousarray(scores, dtype="f8").tobytes())
    for name in sorted(inputs):
        h.update(name.encode() + np.ascontiguousarray(inputs[name], dtype="f8").tobytes())
    if inventory is not None:
        h.update(np.ascontiguousarray(inventory, dtype="f8").tobytes())
    if coords is not None and data is not None:
        h.update(np.ascontiguousarray(coords, dtype="i8").tobytes())
        h.update(np.ascontiguousarray(data, dtype="f8").tobytes())
    h.update(int(n_fallback).to_bytes(8, "little", signed=True))
    return np.frombuffer(h.digest(), dtype=np.uint8)


def create(out: Path, run_header: RunHeader) -> Path:
    """Write the empty partial file of a run; return its path."""
    header: dict[str, Any] = dict(run_header)  # read by key name below
    part = partial_path(out)
    n, d, c = header["iterations"], len(header["demand_names"]), len(header["category_names"])
    chunk = header["batch_size"]
    n_chunks = -(-n // chunk)

    def build(h5: Any) -> None:
        import h5py

        h5.attrs["format"] = FORMAT
        h5.attrs["complete"] = False
        for key in _KEYS:
            h5.attrs[key] = header[key]
        h5.attrs["versions"] = json.dumps(header["versions"])
        h5.attrs["parameters"] = json.dumps(header["parameters"], default=str)
        text = h5py.string_dtype()
        for key in ("demand_names", "category_names", "category_units"):
            names: list[Any] = list(header[key])
            h5.create_dataset(key, data=np.array(names, dtype=object), dtype=text)
        h5.create_dataset("deterministic", data=header["deterministic"])
        _fixed(h5, "scores", (n, d, c), "f8", np.nan)
        _fixed(h5, "done", (n_chunks,), "?", False)
        _fixed(h5, "n_fallback", (n_chunks,), "i8", 0)
        _fixed(h5, "checksum", (n_chunks, 32), "u1", 0)
        _fixed(h5, "invalid", (n,), "u1", 0)
        flows = header["inventory_flows"]
        h5.attrs["inventory_flows"] = json.dumps(flows, default=str)
        if flows:
            _fixed(h5, "inventory", (n, d, len(flows)), "f8", np.nan)
        acts = header["contribution_activities"]
        if acts is not None:
            grp = h5.create_group("contributions")
            grp.attrs["activities"] = json.dumps(acts, default=str)
            grp.attrs["shape"] = (n, d, c, len(acts))
            _contribution_arrays(grp, n_chunks, min(_CONTRIB_CAPACITY, n * d * c * len(acts)))
        grp = h5.create_group("inputs")
        for name, index in header["record"].items():
            grp.create_dataset(name + "_index", data=np.asarray(index, dtype=np.int64))
            _fixed(grp, name, (n, len(index)), "f8", np.nan)
        h5.attrs["header_checksum"] = _header_digest(h5)

    _write_file(part, build)
    return part


def _contribution_arrays(grp: Any, n_chunks: int, capacity: int) -> None:
    """``coords``/``data`` with room for ``capacity`` entries; ``span``: each chunk's range."""
    _fixed(grp, "coords", (4, capacity), "i8", 0)
    _fixed(grp, "data", (capacity,), "f8", 0.0)
    _fixed(grp, "span", (n_chunks, 2), "i8", 0)


def _grow_contributions(path: Path, needed: int) -> None:
    """Rebuild the run file with contribution arrays of at least ``needed`` entries (doubling)."""
    with _open(path) as h5:
        capacity = max(1, h5["contributions/data"].shape[0])
    while capacity < needed:
        capacity *= 2
    _rebuild(path, path, capacity)


def _rebuild(source: Path, target: Path, capacity: int | None, **attrs: Any) -> None:
    """Write ``source`` to ``target`` with room for ``capacity`` contribution entries.

    ``capacity`` None keeps just the used entries; ``attrs`` replace root attributes.
    """
    with _open(source) as old:
        grp = old["contributions"]
        span = grp["span"][...]
        used = int(span[:, 1].max(initial=0))
        coords, data = grp["coords"][:, :used], grp["data"][:used]

        def build(h5: Any) -> None:
            for key, value in old.attrs.items():
                h5.attrs[key] = attrs.get(key, value)
            for name in old:
                if name != "contributions":
                    old.copy(old[name], h5, name=name)
            new = h5.create_group("contributions")
            for key, value in grp.attrs.items():
                new.attrs[key] = value
            _contribution_arrays(new, span.shape[0], used if capacity is None else capacity)
            new["coords"][:, :used] = coords
            new["data"][:used] = data
            new["span"][...] = span

        _write_file(target, build)


def _resume_source(out: Path) -> Path | None:
    """The file a resume of ``out`` goes on with: ``out`` when finished, else its partial file."""
    if out.exists():
        return out
    part = partial_path(out)
    return part if part.exists() else None


def stored_batch_size(out: Path) -> int | None:
    """The batch size of the file a resume of ``out`` goes on with (None: no readable file).

    The file is the one :func:`prepare` returns; what is wrong with an unreadable one is
    named by :func:`check_header`.
    """
    path = _resume_source(out)
    if path is None:
        return None
    try:
        with _open(path) as h5:
            return int(h5.attrs["batch_size"])
    except (OSError, KeyError, TypeError, ValueError):
        return None


def check_header(path: Path, run_header: RunHeader) -> None:
    """Refuse to resume a file made with other data or parameters, or an altered one."""
    header: dict[str, Any] = dict(run_header)  # read by key name below
    try:
        with _open(path) as h5:
            fmt = h5.attrs.get("format")
            if fmt == "lcasolve-montecarlo-1":
                raise DataFileError(
                    f"{path} was written by an older lcasolve without checksums; run it again "
                    f"with --overwrite"
                )
            if fmt != FORMAT:
                raise DataFileError(f"{path} is not an lcasolve Monte Carlo run file")
            _verify_header(path, h5)
            for key in _KEYS:
                if h5.attrs[key] != header[key]:
                    stored = h5.attrs[key]
                    stored = stored.item() if isinstance(stored, np.generic) else stored
                    raise ResumeMismatchError(
                        f"cannot resume {path}: it was made with {key}={stored!r}, this "
                        f"run has {header[key]!r}"
                    )
            if json.loads(h5.attrs["parameters"]) != json.loads(
                json.dumps(header["parameters"], default=str)
            ):
                raise ResumeMismatchError(
                    f"cannot resume {path}: demands, categories or options differ"
                )
    except (OSError, KeyError) as exc:
        raise DataFileError(f"run file {path} cannot be read: {exc}") from None


def _verify_header(path: Path, h5: Any) -> None:
    if h5.attrs.get("header_checksum") != _header_digest(h5):
        raise DataFileError(
            f"{path}: the run's header was altered or is corrupt (its checksum does not match)"
        )


def reopen(out: Path) -> Path:
    """Copy a finished run to its partial file (atomically, ``complete`` unset); return it.

    For chunks to be computed again (:func:`forget`); ``out`` stays until :func:`finish`
    replaces it.
    """
    part = partial_path(out)
    with atomic_path(part) as tmp:
        shutil.copyfile(out, tmp)
        with _open(tmp, "r+") as h5:
            h5.attrs["complete"] = False
    return part


def forget(path: Path, chunks: list[int]) -> None:
    """Mark ``chunks`` not done (flag, checksum, span, fallbacks cleared) so they run again.

    Their arrays are overwritten by the next :func:`commit`; their contribution entries, if
    any, are left unreferenced (the span cleared, so a commit can reuse the space).
    """
    if not chunks:
        return
    with _open(path, "r+") as h5:
        for k in sorted(chunks):
            h5["done"][k] = False
            h5["checksum"][k] = 0
            h5["n_fallback"][k] = 0
            if "contributions" in h5:
                h5["contributions/span"][k] = (0, 0)
        h5.flush()
    _sync(path)


def commit(path: Path, chunk: int, results: list[ChunkResult]) -> None:
    """Write finished chunks into ``path`` in place: the arrays first, then their done flags.

    The arrays are flushed and synced before any chunk is marked done, so a crash between the
    two leaves chunks that are simply computed again.
    """
    if not results:
        return
    add = 0
    for res in results:
        contrib = res.get("contributions")
        add += 0 if contrib is None else int(contrib["data"].shape[0])
    if add:
        with _open(path) as h5:
            used = int(h5["contributions/span"][:, 1].max(initial=0))
            capacity = h5["contributions/data"].shape[0]
        if used + add > capacity:
            _grow_contributions(path, used + add)
    marks = []
    with _open(path, "r+") as h5:
        used = int(h5["contributions/span"][:, 1].max(initial=0)) if "contributions" in h5 else 0
        keep = "contributions" in h5
        for run in _consecutive(results):
            s, e = run[0]["start"], run[-1]["stop"]
            h5["scores"][s:e] = _stack(r["scores"] for r in run)  # one write per array
            for name in run[0]["inputs"]:
                h5["inputs"][name][s:e] = _stack(r["inputs"][name] for r in run)
            if "inventory" in h5:
                h5["inventory"][s:e] = _stack(r["inventory"] for r in run)
            h5["invalid"][s:e] = _stack(r["invalid"] for r in run)
            pieces = [r.get("contributions") for r in run]
            if keep and any(c is not None for c in pieces):
                width = sum(c["data"].shape[0] for c in pieces if c is not None)
                if width:
                    h5["contributions/coords"][:, used : used + width] = np.concatenate(
                        [c["coords"] for c in pieces if c is not None], axis=1
                    )
                    h5["contributions/data"][used : used + width] = np.concatenate(
                        [c["data"] for c in pieces if c is not None]
                    )
            for res, contrib in zip(run, pieces, strict=True):
                coords = data = None
                span = (used, used)
                if keep and contrib is not None:
                    coords, data = contrib["coords"], contrib["data"]
                    span = (used, used + data.shape[0])
                    used = span[1]
                digest = _chunk_digest(
                    res["scores"],
                    res["inputs"],
                    res["inventory"] if "inventory" in h5 else None,
                    coords,
                    data,
                    res["n_fallback"],
                    res["invalid"],
                )
                marks.append((res["start"] // chunk, span, digest, res["n_fallback"]))
        h5.flush()
        _sync(path)
        for group in _runs_of_marks(marks):  # slices: small writes each flush a whole array
            k0, k1 = group[0][0], group[-1][0] + 1
            if "contributions" in h5:
                h5["contributions/span"][k0:k1] = np.array([m[1] for m in group], dtype=np.int64)
            h5["checksum"][k0:k1] = np.stack([m[2] for m in group])
            h5["n_fallback"][k0:k1] = np.array([m[3] for m in group], dtype=np.int64)
            h5["done"][k0:k1] = True
        h5.flush()
    _sync(path)


def _consecutive(results: list[ChunkResult]) -> list[list[ChunkResult]]:
    """The results in runs of adjacent chunks (each run is written as one slice)."""
    runs: list[list[ChunkResult]] = []
    for res in sorted(results, key=lambda r: r["start"]):
        if runs and runs[-1][-1]["stop"] == res["start"]:
            runs[-1].append(res)
        else:
            runs.append([res])
    return runs


def _runs_of_marks(marks: list[Any]) -> list[list[Any]]:
    """Marks ``(chunk, ...)`` in runs of consecutive chunk numbers."""
    runs: list[list[Any]] = []
    for mark in sorted(marks, key=lambda m: m[0]):
        if runs and runs[-1][-1][0] + 1 == mark[0]:
            runs[-1].append(mark)
        else:
            runs.append([mark])
    return runs


def _stack(parts: Any) -> np.ndarray:
    items = list(parts)
    return items[0] if len(items) == 1 else np.concatenate(items)


def read(path: Path, *, strict: bool = True) -> dict[str, Any]:
    """Arrays and attributes of a run file, every done chunk verified against its checksum.

    Only the chunks marked done count: their flags are read before their arrays (a writer
    marks a chunk done only once its arrays are synced, see :func:`commit`), so a file that a
    writer is filling, or that a killed writer left, gives the chunks finished at that moment
    and nothing of a chunk half written. The rows of the other chunks are NaN (``invalid``
    0); ``iterations_done`` counts the rows present.

    Parameters
    ----------
    path : pathlib.Path
        A run file, finished or partial.
    strict : bool
        Raise for an altered or corrupt chunk; otherwise leave it out like a chunk not done
        and list it in ``corrupt``.

    Returns
    -------
    dict
        The root attributes and ``scores``, ``done`` (the chunks present), ``corrupt``
        (``[(chunk, first iteration, last iteration)]`` left out, empty when ``strict``),
        ``iterations_done``, ``n_fallback``, ``invalid``, ``inputs``, ``inventory``,
        ``contributions`` and the names.

    Raises
    ------
    DataFileError
        If the header is altered or corrupt, or (``strict``) a chunk is (naming its
        iterations).
    """
    try:
        with _open(path) as h5:
            return _read(path, h5, strict)
    except (OSError, KeyError) as exc:
        raise DataFileError(f"run file {path} cannot be read: {exc}") from None


def _read(path: Path, h5: Any, strict: bool) -> dict[str, Any]:
    _verify_header(path, h5)
    # the flags, and what a commit writes with them, before the arrays: a chunk marked done
    # here had its arrays synced before its flag, so they are complete when read below
    done = np.asarray(h5["done"][...], dtype=bool)
    fallback = h5["n_fallback"][...]
    sums = h5["checksum"][...]
    grp = h5.get("contributions")
    spans = None if grp is None else grp["span"][...]
    out: dict[str, Any] = {key: h5.attrs[key] for key in h5.attrs}
    n, chunk = int(out["iterations"]), int(out["batch_size"])
    _check_shapes(path, h5, n, -(-n // chunk))
    out["scores"] = h5["scores"][...]
    # flags of samples without meaning (lcasolve.montecarlo._validity)
    out["invalid"] = h5["invalid"][...]
    out["deterministic"] = h5["deterministic"][...]
    for key in ("demand_names", "category_names", "category_units"):
        out[key] = [_text(x) for x in h5[key][...]]
    out["inputs"] = {
        name: h5["inputs"][name][...] for name in h5["inputs"] if not name.endswith("_index")
    }
    out["inventory_flows"] = json.loads(h5.attrs["inventory_flows"])
    has_inventory = "inventory" in h5
    out["inventory"] = (
        h5["inventory"][...]
        if has_inventory
        else np.zeros((*out["scores"].shape[:2], 0), dtype=np.float64)
    )
    coords = data = None
    if grp is not None and spans is not None:
        capacity = int(grp["data"].shape[0])
        sane = (spans[:, 0] >= 0) & (spans[:, 0] <= spans[:, 1]) & (spans[:, 1] <= capacity)
        used = int(spans[done & sane, 1].max(initial=0))
        coords, data = grp["coords"][:, :used], grp["data"][:used]
    corrupt: list[tuple[int, int, int]] = []
    for k in np.flatnonzero(done).tolist():
        s, e = k * chunk, min((k + 1) * chunk, n)
        c = d = None
        ok = True
        if spans is not None and coords is not None and data is not None:
            a, b = spans[k]
            ok = bool(sane[k])
            c, d = coords[:, a:b], data[a:b]
        digest = _chunk_digest(
            out["scores"][s:e],
            {name: v[s:e] for name, v in out["inputs"].items()},
            out["inventory"][s:e] if has_inventory else None,
            c,
            d,
            int(fallback[k]),
            out["invalid"][s:e],
        )
        if ok and np.array_equal(digest, sums[k]):
            continue
        if strict:
            raise DataFileError(
                f"{path}: iterations {s}-{e - 1} (chunk {k}) were altered or are corrupt (their "
                f"checksum does not match); resume the run (--resume) to compute them again"
            )
        corrupt.append((k, s, e - 1))
        done[k] = False
    rows = np.repeat(done, chunk)[:n]
    _blank(out, ~rows)
    out["done"] = done
    out["corrupt"] = corrupt
    out["iterations_done"] = int(rows.sum())
    out["n_fallback"] = int(fallback[done].sum())
    out["contributions"] = None
    out["contribution_activities"] = None
    if grp is not None and spans is not None and coords is not None and data is not None:
        import sparse

        out["contribution_activities"] = json.loads(grp.attrs["activities"])
        shape = tuple(int(x) for x in grp.attrs["shape"])
        keep = [np.arange(a, b) for (a, b), ok in zip(spans, done, strict=True) if ok]
        sel = np.concatenate(keep) if keep else np.zeros(0, dtype=np.int64)
        out["contributions"] = sparse.COO(coords[:, sel], data[sel], shape=shape)
    return out


def _check_shapes(path: Path, h5: Any, n: int, n_chunks: int) -> None:
    """Refuse arrays whose shape is not the run's (a file altered beyond its chunks)."""
    d, c = h5["demand_names"].shape[0], h5["category_names"].shape[0]
    expected = {
        "scores": (n, d, c),
        "invalid": (n,),
        "done": (n_chunks,),
        "n_fallback": (n_chunks,),
        "checksum": (n_chunks, 32),
    }
    if "inventory" in h5:
        expected["inventory"] = (n, d, len(json.loads(h5.attrs["inventory_flows"])))
    if "contributions" in h5:
        expected["contributions/span"] = (n_chunks, 2)
    for name in h5["inputs"]:
        if not name.endswith("_index"):
            expected[f"inputs/{name}"] = (n, h5["inputs"][name + "_index"].shape[0])
    for name, shape in expected.items():
        if h5[name].shape != shape:
            raise DataFileError(
                f"{path}: the array {name!r} has shape {h5[name].shape}, the run's is {shape}: "
                f"the file was altered or is corrupt; run again with --overwrite"
            )


def _blank(out: dict[str, Any], rows: np.ndarray) -> None:
    """Clear the ``rows`` (iterations of chunks not done): NaN values, no flags.

    Whatever they hold (the NaN of creation, a chunk a writer is halfway through, an altered
    chunk) is not a result.
    """
    if not rows.any():
        return
    out["scores"][rows] = np.nan
    out["inventory"][rows] = np.nan
    out["invalid"][rows] = 0
    for values in out["inputs"].values():
        values[rows] = np.nan


def finish(path: Path, out: Path) -> None:
    """Copy the completed partial file to ``out`` with ``complete`` set, then remove it.

    The one copy of the run keeps the partial file intact until ``out`` is in place (synced,
    umask mode), so a crash here loses nothing; the partial file is removed last.
    """
    with _open(path) as h5:
        contributions = "contributions" in h5
    if contributions:  # rebuilt without the spare capacity
        _rebuild(path, out, None, complete=True)
    else:
        with atomic_path(out) as tmp:
            shutil.copyfile(path, tmp)
            with _open(tmp, "r+") as h5:
                h5.attrs["complete"] = True
    path.unlink()
