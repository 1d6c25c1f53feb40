"""Opening input archives with errors that name the file; member listings for ``sniff``."""

from __future__ import annotations

import os
import zipfile
import zlib
from functools import lru_cache
from pathlib import Path

from lcasolve.errors import DataFileError

__all__ = ["MEMBER_RATIO", "MEMBER_SMALL", "member_names", "open_zip", "read_member"]

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


def _listing(path: Path) -> list[str] | None:
    if path.is_dir():
        return [
            os.path.relpath(os.path.join(root, f), path).replace(os.sep, "/")
            for root, _, files in os.walk(path)
            for f in files
        ]
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
