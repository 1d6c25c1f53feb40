"""Native lcasolve store: one HDF5 file per :class:`~lcasolve.model.System`.

Layout (format version ``FORMAT_VERSION``, root attribute ``lcasolve_format``):

``/<matrix>/`` for ``technosphere``, ``biosphere``, ``characterization``
    attributes ``shape``; datasets ``row``, ``col``, ``value``, ``flip``, ``uncertainty``
    (stats_arrays records) and the CSC pattern ``indptr``, ``indices``, ``slot`` so that loading
    does not re-sort the entries.
``/tables/<table>/``
    one dataset per column; numeric and boolean columns natively, all other columns as one JSON
    text (strings, ``None``, mixed ids); attributes ``columns`` (order) and ``dtypes``.
``/metadata``
    attribute ``json``: the JSON-serializable metadata entries (including the link report); the
    names of skipped entries in attribute ``skipped``. ``metadata["arrays"]`` (presampled values
    of datapackages) is stored under ``/arrays/<matrix>/{entries,values}``.

Loading does no per-row Python work, so a 20 000-activity database loads in well under a second.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from lcasolve.errors import DataFileError, InputError
from lcasolve.io._atomic import atomic_path
from lcasolve.io.report import LinkReport
from lcasolve.model import System
from lcasolve.model.entries import UNCERTAINTY_DTYPE, Entries, MatrixPattern

__all__ = ["FORMAT_VERSION", "read", "sniff", "write"]


def sniff(path: Path) -> bool:
    """The native store: a ``.h5`` or ``.hdf5`` file."""
    return path.suffix.lower() in {".h5", ".hdf5"}


#: version written to the root attribute ``lcasolve_format``
FORMAT_VERSION = 1
_MATRICES = ("technosphere", "biosphere", "characterization")
_TABLES = ("activities", "flows", "categories")


def _h5py() -> Any:
    import h5py

    return h5py


def write(system: System, path: str | os.PathLike[str], *, progress: bool | None = False) -> Path:
    """Write ``system`` to an HDF5 file, atomically (temporary file, then ``os.replace``).

    Parameters
    ----------
    system : System
        The system to store.
    path : path-like
        Target file (conventionally ``.h5``); its folder must exist.
    progress : bool or None
        A progress bar on stderr over the matrices, tables and metadata written (None: when
        stderr is a terminal, see :mod:`lcasolve._progress`).

    Returns
    -------
    pathlib.Path
        The written file.

    Raises
    ------
    DataFileError
        If the folder does not exist or the file cannot be written.
    """
    h5py = _h5py()
    path = Path(path)
    if not path.parent.is_dir():
        raise DataFileError(f"{path}: the folder {path.parent} does not exist")
    from lcasolve._progress import progress_bar

    parts = [*_MATRICES, *_TABLES, "metadata"]
    bar = progress_bar(progress, len(parts), f"writing {path.name}", unit="part")
    try:
        with atomic_path(path) as tmp, h5py.File(tmp, "w") as f:
            f.attrs["lcasolve_format"] = FORMAT_VERSION
            for name in _MATRICES:
                _write_entries(f.create_group(name), getattr(system, name))
                _step(bar, name)
            tables = f.create_group("tables")
            for name in _TABLES:
                _write_table(tables.create_group(name), getattr(system, name), name)
                _step(bar, name)
            _write_metadata(f, dict(system.metadata))
            _step(bar, "metadata")
    finally:
        if bar is not None:
            bar.close()
    return path


def _step(bar: Any, part: str) -> None:
    """Advance the write's progress bar past ``part``."""
    if bar is not None:
        bar.set_postfix_str(part, refresh=False)
        bar.update()


def _write_entries(g: Any, e: Entries) -> None:
    g.attrs["shape"] = np.asarray(e.shape, dtype=np.int64)
    for key in ("row", "col", "value", "flip"):
        g.create_dataset(key, data=getattr(e, key))
    g.create_dataset("uncertainty", data=np.asarray(e.uncertainty, dtype=UNCERTAINTY_DTYPE))
    p = e.pattern
    g.create_dataset("indptr", data=p.indptr)
    g.create_dataset("indices", data=p.indices)
    g.create_dataset("slot", data=p.slot)


def _write_table(g: Any, df: pd.DataFrame, name: str) -> None:
    columns = [str(c) for c in df.columns]
    if len(set(columns)) != len(columns):
        raise InputError(f"the {name} table has duplicate column names: {columns}")
    g.attrs["columns"] = json.dumps(columns)
    dtypes = {}
    for i, col in enumerate(df.columns):
        s = df[col]
        dtypes[str(col)] = str(s.dtype)
        key = f"c{i}"
        if s.dtype.kind in "biuf" and not isinstance(s.dtype, pd.api.extensions.ExtensionDtype):
            g.create_dataset(key, data=s.to_numpy())
        else:
            values = s.astype(object).where(s.notna(), None).tolist()
            try:
                text = json.dumps(values, default=_json_scalar)
            except (TypeError, ValueError) as exc:
                raise InputError(
                    f"the {name} table column {col!r} holds values that cannot be stored ({exc})"
                ) from None
            g.create_dataset(key, data=np.frombuffer(text.encode("utf-8"), dtype=np.uint8))
    g.attrs["dtypes"] = json.dumps(dtypes)


def _json_scalar(obj: Any) -> Any:
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    raise TypeError(f"{type(obj).__name__} is not JSON serializable")


def _write_metadata(f: Any, metadata: dict[str, Any]) -> None:
    keep: dict[str, Any] = {}
    skipped: list[str] = []
    arrays = metadata.pop("arrays", None)
    for key, value in metadata.items():
        try:
            json.dumps(value, default=_json_scalar)
        except (TypeError, ValueError):
            skipped.append(str(key))
            continue
        keep[str(key)] = value
    g = f.create_group("metadata")
    g.attrs["json"] = json.dumps(keep, default=_json_scalar)
    g.attrs["skipped"] = json.dumps(skipped)
    if isinstance(arrays, dict):
        ga = f.create_group("arrays")
        for matrix, item in arrays.items():
            sub = ga.create_group(str(matrix))
            sub.create_dataset("entries", data=np.asarray(item["entries"], dtype=np.int64))
            sub.create_dataset("values", data=np.asarray(item["values"], dtype=np.float64))


def read(
    paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]], **options: Any
) -> System:
    """Read a system written by :func:`write`.

    Parameters
    ----------
    paths : path-like or sequence of one path-like
        The ``.h5`` file.
    **options
        Linking options of :func:`lcasolve.load` (accepted and ignored: the store is linked).

    Returns
    -------
    System

    Raises
    ------
    DataFileError
        If the file is missing, not HDF5, not an lcasolve store, of a newer format version, or
        lacks a dataset (the message names the file and the dataset).
    InputError
        If several files are given.
    """
    h5py = _h5py()
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    if len(paths) != 1:
        raise InputError(f"an lcasolve HDF5 store is one file, got {len(paths)}: {list(paths)}")
    path = Path(paths[0])
    if not path.is_file():
        raise DataFileError(f"{path}: no such file")
    try:
        f = h5py.File(path, "r")
    except OSError as exc:
        raise DataFileError(f"{path}: not a readable HDF5 file ({exc})") from None
    with f:
        version = f.attrs.get("lcasolve_format")
        if version is None:
            raise DataFileError(f"{path}: not an lcasolve store (no 'lcasolve_format' attribute)")
        if int(version) > FORMAT_VERSION:
            raise DataFileError(
                f"{path}: store format version {int(version)} is newer than this lcasolve "
                f"reads ({FORMAT_VERSION}); upgrade lcasolve"
            )
        where = "/"
        try:
            entries = {}
            for name in _MATRICES:
                where = f"/{name}"
                entries[name] = _read_entries(f[name])
            tables = {}
            for name in _TABLES:
                where = f"/tables/{name}"
                tables[name] = _read_table(f["tables"][name])
            where = "/metadata"
            metadata = json.loads(f["metadata"].attrs["json"])
            if isinstance(metadata.get("link_report"), list):
                metadata["link_report"] = LinkReport(metadata["link_report"])
            if "arrays" in f:
                where = "/arrays"
                metadata["arrays"] = {
                    m: {"entries": g["entries"][()], "values": g["values"][()]}
                    for m, g in f["arrays"].items()
                }
        except (KeyError, OSError, ValueError, TypeError) as exc:
            raise DataFileError(f"{path}: corrupt lcasolve store at {where} ({exc})") from None
    try:
        return System(
            entries["technosphere"],
            entries["biosphere"],
            entries["characterization"],
            tables["activities"],
            tables["flows"],
            tables["categories"],
            metadata,
        )
    except InputError as exc:
        raise DataFileError(f"{path}: inconsistent lcasolve store ({exc})") from None


def _read_entries(g: Any) -> Entries:
    shape = tuple(int(v) for v in g.attrs["shape"])
    row, col = g["row"][()], g["col"][()]
    value, flip = g["value"][()], g["flip"][()]
    unc = g["uncertainty"][()]
    if unc.dtype != UNCERTAINTY_DTYPE:
        unc = unc.astype(UNCERTAINTY_DTYPE)
    n = value.shape[0]
    if row.shape != (n,) or col.shape != (n,) or flip.shape != (n,) or unc.shape != (n,):
        raise ValueError("entry arrays differ in length")
    e = Entries.create((shape[0], shape[1]), row, col, value, uncertainty=unc, flip=flip)
    slot = g["slot"][()]
    indptr, indices = g["indptr"][()], g["indices"][()]
    if slot.shape != (n,) or indptr.shape != (shape[1] + 1,) or indices.shape[0] != indptr[-1]:
        raise ValueError("CSC pattern does not match the entries")
    e.__dict__["pattern"] = MatrixPattern((shape[0], shape[1]), indptr, indices, slot)
    return e


def _read_table(g: Any) -> pd.DataFrame:
    columns = json.loads(g.attrs["columns"])
    dtypes = json.loads(g.attrs["dtypes"])
    data = {}
    for i, col in enumerate(columns):
        raw = g[f"c{i}"][()]
        if raw.dtype == np.uint8 and dtypes[col] not in ("uint8",):
            values = json.loads(raw.tobytes().decode("utf-8"))
            s = pd.Series(values, dtype=object)
            with contextlib.suppress(TypeError, ValueError):  # keep object if not restorable
                s = s.astype(dtypes[col])
            data[col] = s
        else:
            data[col] = pd.Series(raw)
    return pd.DataFrame(data, columns=columns)
