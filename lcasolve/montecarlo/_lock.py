"""An exclusive lock on a Monte Carlo run file, so two processes never write one ``--out``.

The lock is ``<out>.lock`` beside the run file, held with ``fcntl.flock`` for as long as the run
writes: the operating system releases it when the process ends in any way (also ``kill -9``),
so a lock file left behind by a dead process is stale and simply taken over. The file holds
the pid and host of the writer, for the message a second writer gets. Where ``fcntl`` does
not exist (Windows) the lock file is created with ``O_EXCL`` and a lock whose pid no longer
runs counts as stale.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from lcasolve.errors import RunLockedError

__all__ = ["lock_path", "run_lock"]


def lock_path(out: Path) -> Path:
    """The lock file of run file ``out``."""
    return out.with_name(out.name + ".lock")


@contextmanager
def run_lock(out: Path) -> Iterator[Path]:
    """Hold the exclusive lock of ``out`` for the ``with`` block.

    Raises
    ------
    RunLockedError
        Another live process holds the lock; the message names it.
    """
    path = lock_path(out)
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        fd = _exclusive_create(path, out)
    else:
        fd = _flock(path, out, fcntl)
    try:
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()} {socket.gethostname()}\n".encode())
        yield path
    finally:
        path.unlink(missing_ok=True)  # while still holding it: nobody else can have it
        os.close(fd)


def _flock(path: Path, out: Path, fcntl: object) -> int:
    """Open and ``flock`` the lock file; retry when it was replaced in between."""
    for _ in range(100):
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # type: ignore[attr-defined]
        except OSError:
            holder = _holder(fd)
            os.close(fd)
            raise RunLockedError(_message(out, holder)) from None
        try:
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:  # the holder removed it after we opened it
            same = False
        if same:
            return fd
        os.close(fd)
    raise RunLockedError(_message(out, "another process"))  # pragma: no cover


def _exclusive_create(path: Path, out: Path) -> int:  # pragma: no cover - Windows
    """``O_EXCL`` creation; a lock of a pid that no longer runs is removed and retaken."""
    for _ in range(2):
        try:
            return os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            text = path.read_text(errors="replace").split()
            pid = int(text[0]) if text and text[0].isdigit() else None
            if pid is not None and _alive(pid):
                raise RunLockedError(_message(out, f"pid {pid}")) from None
            path.unlink(missing_ok=True)
    raise RunLockedError(_message(out, "another process"))


def _alive(pid: int) -> bool:  # pragma: no cover - Windows
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def _holder(fd: int) -> str:
    data = os.pread(fd, 200, 0).decode(errors="replace").split()
    if len(data) >= 2 and data[0].isdigit():
        return f"pid {data[0]} on {data[1]}"
    return "another process"


def _message(out: Path, holder: str) -> str:
    return (
        f"run file {out} is being written by {holder} (lock {lock_path(out).name}); wait for "
        f"that run to finish or stop it, or choose another --out"
    )
