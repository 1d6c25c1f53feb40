"""HDF5 run files: chunked arrays written per completed chunk, atomic, resumable.

While a run goes on, results live in ``<out>.partial``; every commit copies it to a temporary
file in the same folder, writes the new chunks there and moves it over with :func:`os.replace`,
so the partial file is a complete, readable HDF5 file at every moment (a killed run loses at most
the chunks since the last commit). When every chunk is done the partial file becomes ``out``.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from lcasolve.errors import DataFileError, InputError, OutputExistsError, ResumeMismatchError
from lcasolve.io._atomic import commit_file

if TYPE_CHECKING:
    from lcasolve.montecarlo._engine import ChunkResult
    from lcasolve.montecarlo._plan import RunHeader

FORMAT = "lcasolve-montecarlo-1"


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
        if out.exists():
            return out
        return part if part.exists() else None
    for p in (out, part):
        if p.exists():
            raise OutputExistsError(
                f"output file {p} exists; pass resume=True (--resume) to continue that run or "
                f"overwrite=True (--overwrite) to replace it"
            )
    return None


def _atomic_copy_edit(path: Path, source: Path | None, edit: Any) -> None:
    """Copy ``source`` (or start empty) to a temporary file, apply ``edit(h5file)``, replace."""
    import h5py

    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        if source is not None:
            shutil.copyfile(source, tmp)
        with h5py.File(tmp, "r+" if source is not None else "w") as h5:
            edit(h5)
        commit_file(Path(tmp), path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def create(out: Path, header: RunHeader) -> Path:
    """Write the empty partial file of a run; return its path."""
    part = partial_path(out)
    n, d, c = header["iterations"], len(header["demand_names"]), len(header["category_names"])
    chunk = header["batch_size"]
    n_chunks = -(-n // chunk)

    def edit(h5: Any) -> None:
        import h5py

        h5.attrs["format"] = FORMAT
        h5.attrs["complete"] = False
        for key in ("seed", "iterations", "batch_size", "method", "database_hash", "others"):
            h5.attrs[key] = header[key]
        h5.attrs["versions"] = json.dumps(header["versions"])
        h5.attrs["parameters"] = json.dumps(header["parameters"], default=str)
        text = h5py.string_dtype()
        h5.create_dataset(
            "demand_names", data=np.array(header["demand_names"], dtype=object), dtype=text
        )
        h5.create_dataset(
            "category_names", data=np.array(header["category_names"], dtype=object), dtype=text
        )
        h5.create_dataset(
            "category_units", data=np.array(header["category_units"], dtype=object), dtype=text
        )
        h5.create_dataset("deterministic", data=header["deterministic"])
        h5.create_dataset(
            "scores",
            shape=(n, d, c),
            dtype="f8",
            chunks=(min(chunk, n), d, c),
            fillvalue=np.nan,
        )
        h5.create_dataset("done", shape=(n_chunks,), dtype="?", fillvalue=False)
        h5.create_dataset("n_fallback", shape=(n_chunks,), dtype="i8", fillvalue=0)
        h5.create_dataset("invalid", shape=(n,), dtype="u1", chunks=(min(chunk, n),), fillvalue=0)
        flows = header["inventory_flows"]
        h5.attrs["inventory_flows"] = json.dumps(flows, default=str)
        if flows:
            h5.create_dataset(
                "inventory",
                shape=(n, d, len(flows)),
                dtype="f8",
                chunks=(min(chunk, n), d, len(flows)),
                fillvalue=np.nan,
            )
        acts = header["contribution_activities"]
        if acts is not None:
            grp = h5.create_group("contributions")
            grp.attrs["activities"] = json.dumps(acts, default=str)
            grp.attrs["shape"] = (n, d, c, len(acts))
            grp.create_dataset("coords", shape=(4, 0), maxshape=(4, None), dtype="i8", chunks=True)
            grp.create_dataset("data", shape=(0,), maxshape=(None,), dtype="f8", chunks=True)
        grp = h5.create_group("inputs")
        for name, index in header["record"].items():
            grp.create_dataset(name + "_index", data=np.asarray(index, dtype=np.int64))
            grp.create_dataset(
                name,
                shape=(n, len(index)),
                dtype="f8",
                chunks=(min(chunk, n), max(1, len(index))),
                fillvalue=np.nan,
            )

    _atomic_copy_edit(part, None, edit)
    return part


def check_header(path: Path, header: RunHeader) -> None:
    """Refuse to resume a file made with other data or parameters."""
    import h5py

    try:
        with h5py.File(path, "r") as h5:
            if h5.attrs.get("format") != FORMAT:
                raise DataFileError(f"{path} is not an lcasolve Monte Carlo run file")
            for key in ("seed", "iterations", "batch_size", "method", "database_hash", "others"):
                if h5.attrs[key] != header[key]:
                    raise ResumeMismatchError(
                        f"cannot resume {path}: it was made with {key}={h5.attrs[key]!r}, this "
                        f"run has {header[key]!r}"
                    )
            if json.loads(h5.attrs["parameters"]) != json.loads(
                json.dumps(header["parameters"], default=str)
            ):
                raise ResumeMismatchError(
                    f"cannot resume {path}: demands, categories or options differ"
                )
    except OSError as exc:
        raise DataFileError(f"run file {path} cannot be read: {exc}") from None


def done_chunks(path: Path) -> np.ndarray:
    """Boolean mask of the chunks already written."""
    import h5py

    with h5py.File(path, "r") as h5:
        return h5["done"][...]


def commit(path: Path, chunk: int, results: list[ChunkResult], complete: bool) -> None:
    """Write finished chunks (and the ``complete`` flag) atomically into ``path``."""

    def edit(h5: Any) -> None:
        for res in results:
            s, e = res["start"], res["stop"]
            h5["scores"][s:e] = res["scores"]
            for name, vals in res["inputs"].items():
                h5["inputs"][name][s:e] = vals
            if "inventory" in h5:
                h5["inventory"][s:e] = res["inventory"]
            contrib = res.get("contributions")
            if contrib is not None:
                coords, data = h5["contributions/coords"], h5["contributions/data"]
                old, add = data.shape[0], contrib["data"].shape[0]
                coords.resize((4, old + add))
                data.resize((old + add,))
                coords[:, old:] = contrib["coords"]
                data[old:] = contrib["data"]
            h5["n_fallback"][s // chunk] = res["n_fallback"]
            h5["invalid"][s:e] = res["invalid"]
            h5["done"][s // chunk] = True
        if complete:
            h5.attrs["complete"] = True

    _atomic_copy_edit(path, path, edit)


def read(path: Path) -> dict[str, Any]:
    """Arrays and attributes of a run file."""
    import h5py

    with h5py.File(path, "r") as h5:
        out: dict[str, Any] = {key: h5.attrs[key] for key in h5.attrs}
        out["scores"] = h5["scores"][...]
        out["done"] = h5["done"][...]
        out["n_fallback"] = int(h5["n_fallback"][...].sum())
        # flags of samples without meaning (lcasolve.montecarlo._validity); none in older files
        out["invalid"] = (
            h5["invalid"][...] if "invalid" in h5 else np.zeros(out["scores"].shape[0], np.uint8)
        )
        out["deterministic"] = h5["deterministic"][...]
        for key in ("demand_names", "category_names", "category_units"):
            out[key] = [x.decode() if isinstance(x, bytes) else str(x) for x in h5[key][...]]
        out["inputs"] = {
            name: h5["inputs"][name][...] for name in h5["inputs"] if not name.endswith("_index")
        }
        out["inventory_flows"] = json.loads(h5.attrs["inventory_flows"])
        out["inventory"] = (
            h5["inventory"][...]
            if "inventory" in h5
            else np.zeros((*out["scores"].shape[:2], 0), dtype=np.float64)
        )
        out["contributions"] = None
        out["contribution_activities"] = None
        if "contributions" in h5:
            import sparse

            grp = h5["contributions"]
            out["contribution_activities"] = json.loads(grp.attrs["activities"])
            shape = tuple(int(x) for x in grp.attrs["shape"])
            out["contributions"] = sparse.COO(grp["coords"][...], grp["data"][...], shape=shape)
    return out


def finish(path: Path, out: Path) -> None:
    """Move the completed partial file to its final name (synced, umask mode)."""
    commit_file(path, out)
