"""Readers and writers: one :func:`load` for every supported format.

Formats are detected from the file name and, for zips and folders, from their contents. Reader
modules are imported only when a file of their format is loaded.
"""

from __future__ import annotations

import importlib
import os
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lcasolve.errors import DataFileError, InputError, UnknownFormatError
from lcasolve.io._linking import ImportReport

__all__ = ["FORMATS", "ImportReport", "detect_format", "load", "save"]

#: format name -> reader module (each has ``read(paths, **options) -> System``)
FORMATS: dict[str, str] = {
    "hdf5": "lcasolve.io.hdf5",
    "datapackage": "lcasolve.io.datapackage",
    "jsonld": "lcasolve.io.jsonld",
    "ecospold2": "lcasolve.io.ecospold2",
    "tables": "lcasolve.io.tables",
}


def _classify_names(names: Sequence[str]) -> str | None:
    base = {n.rstrip("/").split("/")[-1] for n in names}
    if "datapackage.json" in base:
        return "datapackage"
    if any(n.endswith(".spold") for n in names):
        return "ecospold2"
    if any(n.startswith(("processes/", "./processes/")) or "/processes/" in n for n in names):
        return "jsonld"
    if base & {"activities.csv", "exchanges.csv"}:
        return "tables"
    return None


def detect_format(path: str | os.PathLike[str]) -> str:
    """Name the format of a file or folder.

    Parameters
    ----------
    path : path-like
        A file (``.h5``, ``.zip``, ``.spold``, ``.csv``, ``.xlsx``) or a folder.

    Returns
    -------
    str
        A key of :data:`FORMATS`.

    Raises
    ------
    DataFileError
        If the path does not exist or a zip cannot be read.
    UnknownFormatError
        If the format is none that lcasolve reads.
    """
    p = Path(path)
    if not p.exists():
        raise DataFileError(f"{p}: no such file or folder")
    suffix = p.suffix.lower()
    if suffix in {".h5", ".hdf5"}:
        return "hdf5"
    if suffix in {".csv", ".xlsx", ".xlsm"}:
        return "tables"
    if suffix == ".spold":
        return "ecospold2"
    if p.is_dir():
        names = [str(q.relative_to(p)).replace(os.sep, "/") for q in p.rglob("*")]
        fmt = _classify_names(names)
    elif zipfile.is_zipfile(p):
        try:
            with zipfile.ZipFile(p) as z:
                fmt = _classify_names(z.namelist())
        except (zipfile.BadZipFile, OSError) as exc:
            raise DataFileError(f"{p}: cannot read the zip file ({exc})") from None
    elif suffix == ".zip":
        raise DataFileError(f"{p}: not a valid zip file (truncated or corrupt)")
    else:
        fmt = None
    if fmt is None:
        raise UnknownFormatError(
            f"{p}: not a format lcasolve reads (brightway datapackage, openLCA JSON-LD, "
            f"EcoSpold2, CSV/Excel tables, lcasolve HDF5)"
        )
    return fmt


def load(*paths: str | os.PathLike[str], format: str | None = None, **options: Any) -> Any:
    """Load one or several files into a :class:`~lcasolve.model.System`.

    Files of the same format are read together (a database and its method packages; several
    JSON-LD zips whose processes link to each other).

    Parameters
    ----------
    *paths : path-like
        Files or folders.
    format : str, optional
        Skip detection and use this reader (a key of :data:`FORMATS`).
    **options
        Passed to the reader, e.g. ``ambiguous``, ``unlinked``, ``allocation``, ``strict``.

    Returns
    -------
    System
    """
    if not paths:
        raise InputError("no input files given")
    fmts = {Path(p): (format or detect_format(p)) for p in paths}
    kinds = set(fmts.values())
    if len(kinds) == 2 and "tables" in kinds:
        # A foreground model in tables linked to a background database of another format.
        (other,) = kinds - {"tables"}
        background = _read(other, [p for p, f in fmts.items() if f == other], options)
        tables = [p for p, f in fmts.items() if f == "tables"]
        return _read("tables", tables, {**options, "background": background})
    if len(kinds) > 1:
        listing = ", ".join(f"{p.name} ({f})" for p, f in fmts.items())
        raise InputError(
            f"cannot combine inputs of these formats: {listing} (only a foreground in tables "
            f"may be combined with a database of another format)"
        )
    (kind,) = kinds
    return _read(kind, list(fmts), options)


def _read(kind: str, paths: list[Path], options: dict[str, Any]) -> Any:
    if kind not in FORMATS:
        raise UnknownFormatError(f"unknown format {kind!r}; known: {sorted(FORMATS)}")
    reader = importlib.import_module(FORMATS[kind])
    return reader.read(paths, **options)


def save(system: Any, path: str | os.PathLike[str]) -> Path:
    """Write a system to the native HDF5 store (atomically: temporary file, then rename).

    Parameters
    ----------
    system : System
    path : path-like
        Target ``.h5`` file.

    Returns
    -------
    pathlib.Path
    """
    from lcasolve.io.hdf5 import write

    return write(system, path)
