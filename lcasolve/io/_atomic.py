"""Atomic file writes: write to a temporary file beside the target, then rename over it."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from lcasolve.errors import DataFileError

__all__ = ["atomic_path"]


@contextmanager
def atomic_path(
    target: str | os.PathLike[str], *, suffix: str = ".tmp", exists: bool = True
) -> Iterator[Path]:
    """Yield a temporary path in the target's folder; move it over ``target`` on success.

    On any exception the temporary file is removed and ``target`` is left as it was, so
    nothing is ever half-written.

    Parameters
    ----------
    target : path-like
        The file to write.
    suffix : str
        Suffix of the temporary name (some writers look at it).
    exists : bool
        Whether the temporary file should exist when the block starts (False for writers that
        refuse to open an existing file).
    """
    target = Path(target)
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise DataFileError(f"{target}: the folder {folder} does not exist")
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix, dir=folder)
    os.close(fd)
    tmp = Path(name)
    if not exists:
        tmp.unlink()
    try:
        yield tmp
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
