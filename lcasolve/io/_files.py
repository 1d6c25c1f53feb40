"""Opening input archives with errors that name the file; member listings for ``sniff``."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

from lcasolve.errors import DataFileError

__all__ = ["member_names", "open_zip"]


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

    Raises
    ------
    DataFileError
        For a file named ``.zip`` that is not a readable zip.
    """
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
