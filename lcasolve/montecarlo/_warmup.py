"""Compile (or load from Numba's cache) the Monte Carlo kernels once, before a run is timed.

The first Monte Carlo run after an install compiles the sampling and batched-solve kernels;
later runs load them from Numba's on-disk cache. :func:`compile_kernels` runs a tiny Monte
Carlo on a small synthetic system with loops and uncertain entries, so that this one-off cost
is paid, measured and reported on its own ("compiling kernels once, ~N s") instead of inside
the sampling time. The kernels are compiled for exactly the argument types a real run passes,
since the tiny run goes through the same code.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

__all__ = ["KernelWarmup", "compile_kernels"]


@dataclass(frozen=True)
class KernelWarmup:
    """What :func:`compile_kernels` did.

    Attributes
    ----------
    seconds : float
        Wall time of the warm-up (compilation or cache loading, and the tiny run).
    compiled : int
        Functions Numba compiled (0: every kernel came from the cache).
    """

    seconds: float
    compiled: int

    def to_dict(self) -> dict[str, float | int]:
        """The fields as a dict (for JSON output)."""
        return {"seconds": self.seconds, "compiled": self.compiled}


def compile_kernels(method: str = "iterative") -> KernelWarmup:
    """Compile or load the kernels a Monte Carlo run of ``method`` uses.

    Parameters
    ----------
    method : str
        ``"iterative"`` or ``"exact"``, as for :class:`~lcasolve.montecarlo.MonteCarlo`.

    Returns
    -------
    KernelWarmup
    """
    from numba.core import event

    from lcasolve.montecarlo import MonteCarlo
    from lcasolve.synthetic import generate

    start = time.perf_counter()
    with event.install_recorder("numba:compile") as recorder:
        system = generate(60, seed=1)
        first = int(system.activities["product_id"].iloc[0])
        MonteCarlo(system, {first: 1.0}, method=method, batch_size=4).run(8, seed=0, progress=False)
    compiled = sum(1 for _, ev in recorder.buffer if ev.is_start)
    return KernelWarmup(seconds=time.perf_counter() - start, compiled=compiled)
