"""Reading a list of data sets in two halves: this process and one forked child at once.

A reader with many independent data sets (ILCD's process files) gives :func:`in_two` a
function that reads a slice of them and returns plain, picklable results. The first half is
read here while a forked child reads the second half and sends its result back through a pipe;
the two results come back in order, so the caller merges them exactly as a serial read would.

The child is a ``fork`` of this process, so it inherits what the reader has already read
(reference data, the parser) without pickling; it must not share open file handles with the
parent, which is why ``work`` is told whether it runs in the child (and reopens its archives
there). Whatever goes wrong in the child (an error in the data, a pickling failure, the child
killed, or still busy long after the parent's own half) makes the parent read the second half
itself: the result, and the first error in strict mode, are those of a serial read. Where
``fork`` is not available (Windows, macOS' default), while other Python threads run (a
service's, a Jupyter kernel's: forking them is not safe), or for one worker, everything is
read here.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

__all__ = ["available_workers", "in_two"]

#: How long the parent waits for the child after reading its own half: at least this many
#: seconds, and this many times its own half's time.
_MIN_PATIENCE_S = 30.0
_PATIENCE_FACTOR = 4.0

T = TypeVar("T")
R = TypeVar("R")


def available_workers() -> int:
    """The CPUs this process may fork a reader onto (1 where forking is not safe here).

    1 where ``fork`` is not available, and 1 while other Python threads run (a service's
    workers, a Jupyter kernel's): a thread holding a lock (logging, an import) at the moment of
    the fork would leave the child waiting on it forever.
    """
    if sys.platform != "linux" or "fork" not in multiprocessing.get_all_start_methods():
        return 1
    if threading.active_count() > 1:
        return 1
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - linux has sched_getaffinity
        return os.cpu_count() or 1


def split_point(weights: Sequence[float]) -> int:
    """The index that splits ``weights`` into two runs of nearly equal sums (both non-empty)."""
    total = sum(weights)
    acc = 0.0
    for i, w in enumerate(weights):
        if acc + w / 2 >= total / 2:
            return min(max(i, 1), len(weights) - 1)
        acc += w
    return len(weights) - 1  # pragma: no cover - the loop returns for positive weights


def _child(work: Callable[[Sequence[Any], bool], Any], items: Sequence[Any], conn: Any) -> None:
    try:
        out = work(items, True)
        conn.send(("ok", out))  # pickled whole before anything is written
    except BaseException:  # the parent reads this half itself and meets the same error
        conn.send(("failed", None))
    finally:
        conn.close()


def in_two(
    work: Callable[[Sequence[T], bool], R],
    items: Sequence[T],
    weights: Sequence[float],
    *,
    workers: int,
) -> list[R]:
    """``work`` over ``items``: ``[work(items)]`` serially, or the results of its two halves.

    Parameters
    ----------
    work : callable
        ``work(items, in_child) -> result``; ``in_child`` is True in the forked child, which
        must open its own file handles. Results must be picklable.
    items : sequence
        The data sets, in reading order.
    weights : sequence of float
        The cost of each item (e.g. its size in bytes): the halves have nearly equal sums.
    workers : int
        2 to read in two processes; 1 (or fewer than 2 items) to read serially here.

    Returns
    -------
    list
        One result per half, in the order of ``items``.
    """
    if workers < 2 or len(items) < 2:
        return [work(items, False)]
    k = split_point(weights)
    head, tail = items[:k], items[k:]
    ctx = multiprocessing.get_context("fork")
    recv, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(work, tail, send), daemon=True)
    with warnings.catch_warnings():
        # Python 3.12+ warns when a process with threads (numpy's BLAS pool) forks: the child
        # runs only zlib, the XML parser and Python code, none of which the other threads hold
        warnings.filterwarnings("ignore", category=DeprecationWarning, message=r".*fork")
        try:
            proc.start()
        except OSError:
            recv.close()
            send.close()
            return [work(items, False)]
    send.close()
    started = time.perf_counter()
    try:
        first = work(head, False)
    except BaseException:
        proc.kill()
        proc.join()
        recv.close()
        raise
    # the halves weigh the same: a child still busy long after this half is done is stuck (or
    # starved), and reading its half here is then the faster way to the same result
    patience = max(_MIN_PATIENCE_S, _PATIENCE_FACTOR * (time.perf_counter() - started))
    status: str = "failed"  # also when an interrupt (KeyboardInterrupt) stops the wait
    second: Any = None
    try:
        if recv.poll(patience):
            status, second = recv.recv()
        else:
            status, second = "failed", None
    except Exception:  # the child died (EOFError) or its result does not unpickle
        status, second = "failed", None
    finally:
        recv.close()
        if proc.is_alive() and status != "ok":
            proc.kill()
        proc.join()
    if status != "ok":
        second = work(tail, False)
    return [first, second]
