"""Readers and writers: one :func:`load` for every supported format.

Each format is one reader module with ``sniff(path) -> bool`` (does this file or folder look like
the format?) and ``read(paths, **options) -> System``; registering a reader is one line in
:data:`FORMATS`. Detection asks the readers in the order of :data:`FORMATS` (the first whose
``sniff`` says yes wins), importing each only when it is asked.

The format-neutral parts the readers share are public modules: :mod:`lcasolve.io.records`
(flow, exchange and process records), :mod:`lcasolve.io.report` (problems and
:class:`ImportReport`), :mod:`lcasolve.io.distributions` (the stats_arrays record parser),
:mod:`lcasolve.io.units`, :mod:`lcasolve.io.allocation`, :mod:`lcasolve.io.linking`
(:class:`LinkOptions`, provider choice) and :mod:`lcasolve.io.assembly` (records to a system).
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lcasolve.errors import DataFileError, InputError, UnknownFormatError

if TYPE_CHECKING:
    from lcasolve.io.linking import LinkOptions
    from lcasolve.io.report import ImportReport
    from lcasolve.model import System

__all__ = ["FORMATS", "ImportReport", "LinkOptions", "detect_format", "load", "save"]

#: format name -> reader module (``sniff(path) -> bool``, ``read(paths, **options) -> System``),
#: in detection order
FORMATS: dict[str, str] = {
    "hdf5": "lcasolve.io.hdf5",
    "datapackage": "lcasolve.io.datapackage",
    "ecospold2": "lcasolve.io.ecospold2",
    "ecospold1": "lcasolve.io.ecospold1",
    "ilcd": "lcasolve.io.ilcd",
    "jsonld": "lcasolve.io.jsonld",
    "simapro": "lcasolve.io.simapro",
    "tables": "lcasolve.io.tables",
    "brightway": "lcasolve.io.brightway",
}


#: re-exported names, imported when first asked for (the readers that need them import them;
#: ``lcasolve calc`` on a datapackage does not)
_LAZY = {"LinkOptions": "lcasolve.io.linking", "ImportReport": "lcasolve.io.report"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
    for name, module in FORMATS.items():
        if importlib.import_module(module).sniff(p):
            return name
    raise UnknownFormatError(
        f"{p}: not a format lcasolve reads (brightway datapackage, openLCA JSON-LD, "
        f"EcoSpold2, EcoSpold 1, ILCD, CSV/Excel tables, lcasolve HDF5)"
    )


def load(*paths: str | os.PathLike[str], format: str | None = None, **options: Any) -> System:
    """Load one or several files into a :class:`~lcasolve.model.System`.

    Files of the same format are read together (a database and its method packages; several
    JSON-LD zips whose processes link to each other).

    Parameters
    ----------
    *paths : path-like
        Files or folders, or one ``bw://PROJECT/DATABASE`` address of a brightway project
        (:mod:`lcasolve.io.brightway`).
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
    if any(isinstance(p, str) and p.startswith("bw://") for p in paths):
        # a brightway project's database, read with its dependencies
        return _read("brightway", list(paths), options)
    fmts = {Path(p): (format or detect_format(p)) for p in paths}
    return _with_folders(_load(fmts, options), fmts)


def _with_folders(system: System, fmts: dict[Path, str]) -> System:
    """Record in ``metadata["input_files"]`` what each folder input contributed.

    A folder is read at its own level and in its format's layout subfolders only
    (:data:`lcasolve.io._files.LAYOUT_FOLDERS`); the record says which subfolders were read
    (with their file counts) and which were left out.
    """
    import dataclasses

    from lcasolve.io._files import folder_summary

    folders = [{**folder_summary(p), "format": f} for p, f in fmts.items() if p.is_dir()]
    if not folders:
        return system
    metadata = {**system.metadata, "input_files": folders}
    return dataclasses.replace(system, metadata=metadata)


def _load(fmts: dict[Path, str], options: dict[str, Any]) -> System:
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


def _read(kind: str, paths: Sequence[str | os.PathLike[str]], options: dict[str, Any]) -> System:
    if kind not in FORMATS:
        raise UnknownFormatError(f"unknown format {kind!r}; known: {sorted(FORMATS)}")
    reader = importlib.import_module(FORMATS[kind])
    system: System = reader.read(paths, **options)
    return system


def save(system: System, path: str | os.PathLike[str], *, progress: bool | None = False) -> Path:
    """Write a system to the native HDF5 store (atomically: temporary file, then rename).

    Parameters
    ----------
    system : System
    path : path-like
        Target ``.h5`` file.
    progress : bool or None
        A progress bar of the write on stderr (None: when stderr is a terminal).

    Returns
    -------
    pathlib.Path
    """
    from lcasolve.io.hdf5 import write

    return write(system, path, progress=progress)
