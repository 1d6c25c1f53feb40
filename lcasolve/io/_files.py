"""Opening input archives with errors that name the file."""

from __future__ import annotations

import zipfile
from pathlib import Path

from lcasolve.errors import DataFileError

__all__ = ["open_zip"]


def open_zip(path: Path) -> zipfile.ZipFile:
    """Open a zip file, or raise :class:`DataFileError` naming it (truncated or corrupt)."""
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise DataFileError(
            f"{path}: not a readable zip file (truncated or corrupt: {exc})"
        ) from None
