"""Opening input archives with errors that name the file; member listings for ``sniff``.

A folder given as input is read at its own level: its files, and the subfolders that are part of
a format's layout (:data:`LAYOUT_FOLDERS`, read whole), never any other subfolder, so a stray
``.spold`` in a test folder below it is not taken. :func:`folder_summary` says what was read and
what was left out.
"""

from __future__ import annotations

import os
import zipfile
import zlib
from functools import lru_cache
from pathlib import Path

from lcasolve.errors import DataFileError

__all__ = [
    "LAYOUT_FOLDERS",
    "MEMBER_RATIO",
    "MEMBER_SMALL",
    "folder_summary",
    "member_names",
    "open_zip",
    "read_member",
]

#: subfolders (lower case) that belong to a format's folder layout; a folder input's other
#: subfolders are not read. openLCA JSON-LD: one folder per type; ILCD: ``ILCD/`` or the type
#: folders directly; ecoinvent EcoSpold2: ``datasets/`` and ``MasterData/``; EcoSpold 1:
#: ``EcoSpold01/``
LAYOUT_FOLDERS = frozenset(
    {
        # openLCA JSON-LD (olca-schema v1 and v2)
        "actors",
        "categories",
        "currencies",
        "dq_systems",
        "epds",
        "flow_properties",
        "flows",
        "lcia_categories",
        "lcia_methods",
        "locations",
        "parameters",
        "processes",
        "product_systems",
        "projects",
        "results",
        "social_indicators",
        "sources",
        "unit_groups",
        "bin",
        # ILCD
        "ilcd",
        "contacts",
        "external_docs",
        "flowproperties",
        "lciamethods",
        "lifecyclemodels",
        "unitgroups",
        # EcoSpold2 (ecoinvent release layout) and EcoSpold 1 (openLCA export)
        "datasets",
        "masterdata",
        "ecospold01",
    }
)

#: members inflating to at most this many bytes are read whatever their compression ratio
MEMBER_SMALL = 64 * 2**20
#: above :data:`MEMBER_SMALL`, the largest inflated / compressed size accepted (JSON and XML
#: of LCA databases compress 5-30 times; a zip bomb a thousand times and more)
MEMBER_RATIO = 200
_BLOCK = 2**20


def open_zip(path: Path) -> zipfile.ZipFile:
    """Open a zip file, or raise :class:`DataFileError` naming it (truncated or corrupt)."""
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise DataFileError(
            f"{path}: not a readable zip file (truncated or corrupt: {exc})"
        ) from None


def member_names(path: Path) -> list[str] | None:
    """Relative ``/``-separated names of the files in a folder or zip; None for other files.

    Every reader's ``sniff`` asks for them; a zip's listing is read once per file version
    (path, size and modification time), not once per reader.

    Raises
    ------
    DataFileError
        For a file named ``.zip`` that is not a readable zip.
    """
    if path.is_file():
        st = path.stat()
        names = _zip_names(str(path.resolve()), st.st_size, st.st_mtime_ns)
        return None if names is None else list(names)
    return _listing(path)


@lru_cache(maxsize=4)
def _zip_names(path: str, size: int, mtime_ns: int) -> tuple[str, ...] | None:
    del size, mtime_ns  # part of the cache key only
    names = _listing(Path(path))
    return None if names is None else tuple(names)


def _walk(path: Path) -> tuple[list[str], list[str]]:
    """Files a folder input contributes (its own and its layout subfolders'), and the others.

    Returns ``(files, left_out)``: relative ``/``-separated file names, and the names of the
    top-level subfolders that are not read.
    """
    files: list[str] = []
    left_out: list[str] = []
    for root, dirs, names in os.walk(path):
        if Path(root) == path:
            left_out = sorted(d for d in dirs if d.lower() not in LAYOUT_FOLDERS)
            dirs[:] = sorted(d for d in dirs if d.lower() in LAYOUT_FOLDERS)
        else:
            dirs.sort()
        rel = os.path.relpath(root, path)
        files += [
            (f if rel == "." else os.path.join(rel, f)).replace(os.sep, "/") for f in sorted(names)
        ]
    return files, left_out


def folder_summary(path: Path) -> dict[str, object]:
    """What a folder input contributes, for the import report and the CLI's note.

    Returns
    -------
    dict
        ``path``; ``files`` (number read); ``folders`` (``{subfolder: number of files}``, ``.``
        for the folder's own files); ``left_out`` (``{subfolder: number of files}`` of the
        subfolders not read).
    """
    files, left_out = _walk(path)
    folders: dict[str, int] = {}
    for f in files:
        top = f.split("/", 1)[0] if "/" in f else "."
        folders[top] = folders.get(top, 0) + 1
    return {
        "path": str(path),
        "files": len(files),
        "folders": folders,
        "left_out": {d: sum(len(n) for _, _, n in os.walk(path / d)) for d in left_out},
    }


def _listing(path: Path) -> list[str] | None:
    if path.is_dir():
        return _walk(path)[0]
    if zipfile.is_zipfile(path):
        with open_zip(path) as z:
            return z.namelist()
    if path.suffix.lower() == ".zip":
        raise DataFileError(f"{path}: not a valid zip file (truncated or corrupt)")
    return None


def read_member(z: zipfile.ZipFile, info: zipfile.ZipInfo, where: str) -> bytes:
    """Read one zip member, streamed, refusing a zip bomb or corrupt deflate data.

    The member is inflated in blocks; reading stops with :class:`DataFileError` as soon as it
    passes :data:`MEMBER_SMALL` bytes and :data:`MEMBER_RATIO` times its compressed size (the
    sizes the zip declares are not trusted).

    Parameters
    ----------
    z : zipfile.ZipFile
        The open archive.
    info : zipfile.ZipInfo
        The member.
    where : str
        ``archive:member`` for messages.
    """
    limit = max(MEMBER_SMALL, MEMBER_RATIO * max(info.compress_size, 1))
    parts: list[bytes] = []
    size = 0
    try:
        with z.open(info) as fh:
            if info.compress_type == zipfile.ZIP_STORED:  # its bytes are the file's: no bomb
                return fh.read()  # type: ignore[no-any-return]
            while block := fh.read(_BLOCK):
                size += len(block)
                if size > limit:
                    raise DataFileError(
                        f"{where}: inflates to more than {limit / 2**20:.0f} MiB from "
                        f"{info.compress_size} compressed bytes (ratio above {MEMBER_RATIO}); "
                        f"refusing a possible zip bomb"
                    )
                parts.append(block)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
        raise DataFileError(f"{where}: corrupt compressed data ({exc})") from None
    return b"".join(parts)
