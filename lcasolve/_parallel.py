"""Python threads over the ranges of a serial ``nogil`` Numba kernel.

A kernel with ``parallel=True`` compiles its loop twice over (the parfor passes, then a gufunc
of the loop body) and took twice the compile time of the same kernel serial, a cost the first
run after an install pays for every such kernel. The hot kernels are therefore serial
``@njit(nogil=True)`` functions over a range ``[lo, hi)`` of their outer loop, and
:func:`split` runs contiguous ranges of it on threads, as many as Numba's thread count (which
:func:`lcasolve.uncertainty.numba_threads` sets). Each item of the outer loop is computed by
one call with the same operations whatever the ranges, so results do not depend on the
threads. Such kernels take ``error_model="numpy"`` as ``parallel=True`` implies (a division
by zero gives an infinity or NaN, which the callers check, not a ``ZeroDivisionError``).
"""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

__all__ = ["split"]

#: ranges per thread
_PIECES = 4

_lock = threading.Lock()
_pool: tuple[int, int, ThreadPoolExecutor] | None = None


def _executor(workers: int) -> ThreadPoolExecutor:
    """A thread pool of at least ``workers`` threads for this process (a fork makes a new one)."""
    global _pool
    with _lock:
        if _pool is None or _pool[0] != os.getpid() or _pool[1] < workers:
            _pool = (os.getpid(), workers, ThreadPoolExecutor(workers, "lcasolve-kernel"))
        return _pool[2]


def threads() -> int:
    """Numba's thread count in the calling thread (what ``numba.set_num_threads`` set)."""
    import numba

    return int(numba.get_num_threads())


def split(kernel: Callable[..., Any], n: int, *args: Any) -> None:
    """Run ``kernel(*args, lo, hi)`` over ``[0, n)`` cut into contiguous ranges, on threads.

    The ranges (a few per thread) go to whichever thread is free, so a thread the system
    holds back delays only its own range, not a fixed share of the work.

    Parameters
    ----------
    kernel : callable
        A ``nogil`` Numba kernel that handles the items ``lo`` to ``hi - 1`` of its outer loop
        and writes its results into arrays of ``args`` (the ranges never overlap).
    n : int
        Items of the outer loop.
    *args
        The kernel's other arguments, before ``lo, hi``.
    """
    parts = max(1, min(threads(), n))
    if parts == 1:
        kernel(*args, 0, n)
        return
    pieces = min(n, _PIECES * parts)
    cuts = [n * i // pieces for i in range(pieces + 1)]
    tickets = itertools.count()  # next() of a count is atomic under the GIL

    def work() -> None:
        while (i := next(tickets)) < pieces:
            kernel(*args, cuts[i], cuts[i + 1])

    pool = _executor(parts - 1)
    futures = [pool.submit(work) for _ in range(parts - 1)]
    work()
    for fut in futures:
        fut.result()
