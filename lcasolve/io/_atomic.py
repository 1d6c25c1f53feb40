"""Atomic file writes: write to a temporary file beside the target, then rename over it."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from lcasolve.errors import DataFileError, OutputWriteError

__all__ = [
    "atomic_path",
    "commit_file",
    "new_file_mode",
    "os_reason",
    "remove_stale_temps",
    "write_error",
    "write_text_atomic",
]


def os_reason(exc: OSError) -> tuple[str | None, str]:
    """The file an :class:`OSError` is about (None if unknown) and its reason, on one line.

    HDF5 reports a failed write as a multi-line text without the ``filename`` and ``errno``
    attributes (``Can't synchronously write data (file write failed: ..., filename = '...',
    errno = 28, ...)``); the file name and the errno's reason are taken from the text then.
    """
    text = " ".join(str(exc).split())
    filename = None if exc.filename is None else str(exc.filename)
    if filename is None:
        quoted = re.search(r"filename = '([^']*)'", text)
        filename = quoted.group(1) if quoted else None
    code = exc.errno
    if code is None:
        found = re.search(r"errno = (\d+)", text)
        code = int(found.group(1)) if found else None
    reason = exc.strerror
    if code is not None and (not reason or len(reason) > 80):
        reason = os.strerror(code)
    if not reason:
        reason = text
    return filename, reason


def write_error(target: Path, exc: OSError) -> OutputWriteError:
    """:class:`OutputWriteError` naming ``target`` (not the temporary file) and the reason."""
    filename, reason = os_reason(exc)
    err = OutputWriteError(f"{target}: cannot write it ({reason})")
    err.errno = exc.errno if exc.errno is not None else err.errno
    return err


def new_file_mode() -> int:
    """The mode a newly created file gets under the process umask (``0o666 & ~umask``).

    ``tempfile.mkstemp`` creates files with mode 0600; outputs renamed from such a file get
    this mode instead, as any other program's output would. The umask is read from
    ``/proc/self/status`` where it exists (no change of process state), else set and restored.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return 0o666 & ~int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def remove_stale_temps(target: Path, suffix: str = ".tmp") -> list[Path]:
    """Remove temporary files of ``target`` left by writers that were killed.

    Temporary names carry the writer's pid (``.<name>.<pid>.<random><suffix>``); a file whose
    pid no longer runs is stale (``kill -9`` during ``convert`` left such files of up to
    149 MB). Files of live writers are kept.

    Returns
    -------
    list of Path
        The files removed.
    """
    folder = target.parent if str(target.parent) else Path(".")
    removed = []
    for tmp in folder.glob(f".{glob_escape(target.name)}.*{suffix}"):
        pid_text = tmp.name[len(target.name) + 2 :].split(".", 1)[0]
        if pid_text.isdigit() and not _running(int(pid_text)):
            tmp.unlink(missing_ok=True)
            removed.append(tmp)
    return removed


def glob_escape(name: str) -> str:
    """``name`` with glob metacharacters escaped."""
    import glob

    return glob.escape(name)


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    return True


def commit_file(tmp: Path, target: Path) -> None:
    """Give ``tmp`` the umask's mode, flush it to disk, rename it over ``target``, sync the folder.

    ``fsync`` before ``os.replace`` makes sure a crash cannot leave ``target`` renamed but
    empty; the folder's ``fsync`` makes the rename itself durable.
    """
    os.chmod(tmp, new_file_mode())
    fd = os.open(tmp, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, target)
    try:
        dfd = os.open(target.parent if str(target.parent) else ".", os.O_RDONLY)
    except OSError:  # pragma: no cover - folders cannot be opened on Windows
        return
    try:
        os.fsync(dfd)
    except OSError:  # pragma: no cover - some file systems refuse fsync on folders
        pass
    finally:
        os.close(dfd)


@contextmanager
def atomic_path(
    target: str | os.PathLike[str], *, suffix: str = ".tmp", exists: bool = True
) -> Iterator[Path]:
    """Yield a temporary path in the target's folder; move it over ``target`` on success.

    On any exception the temporary file is removed and ``target`` is left as it was, so
    nothing is ever half-written. On success the file is synced to disk before the rename and
    gets the mode the umask gives new files (see :func:`commit_file`).

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
    try:
        remove_stale_temps(target, suffix)
        fd, name = tempfile.mkstemp(
            prefix=f".{target.name}.{os.getpid()}.", suffix=suffix, dir=folder
        )
    except OSError as exc:  # a read-only folder, no inodes left
        raise write_error(target, exc) from exc
    os.close(fd)
    tmp = Path(name)
    if not exists:
        tmp.unlink()
    try:
        yield tmp
        commit_file(tmp, target)
    except OutputWriteError:
        tmp.unlink(missing_ok=True)
        raise
    except OSError as exc:  # the full disk, found by a write, the flush or fsync
        tmp.unlink(missing_ok=True)
        raise write_error(target, exc) from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text_atomic(path: str | os.PathLike[str], text: str) -> None:
    """Write UTF-8 ``text`` to ``path`` through :func:`atomic_path`."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
