"""Run the chunks of a Monte Carlo plan locally or on an executor, with progress and storage."""

from __future__ import annotations

import dataclasses
import time
import warnings
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import numpy as np

from lcasolve._parallel import threads
from lcasolve.errors import CorruptChunkWarning
from lcasolve.montecarlo import _store
from lcasolve.montecarlo._engine import ChunkResult, Plan, run_chunk
from lcasolve.montecarlo._lock import run_lock
from lcasolve.montecarlo._plan import RunHeader
from lcasolve.montecarlo.result import MonteCarloResult, StreamingStatistics

#: seconds between commits of finished chunks to the run file
COMMIT_SECONDS = 0.5


def execute(
    plan: Plan,
    iterations: int,
    header: RunHeader,
    design_values: dict[str, np.ndarray],
    *,
    out: Path | None,
    resume: bool,
    overwrite: bool,
    progress: bool | None,
    executor: Any,
    thresholds: tuple[float, ...] = (),
) -> MonteCarloResult:
    """Compute every chunk not yet done, write them, and return the result.

    With ``out``, the whole run holds the exclusive lock of the run file
    (:func:`~lcasolve.montecarlo._lock.run_lock`): a second writer gets
    :class:`~lcasolve.errors.RunLockedError` before it touches anything.
    """
    with run_lock(out) if out is not None else nullcontext():
        return _execute(
            plan,
            iterations,
            header,
            design_values,
            out=out,
            resume=resume,
            overwrite=overwrite,
            progress=progress,
            executor=executor,
            thresholds=thresholds,
        )


def _execute(
    plan: Plan,
    iterations: int,
    header: RunHeader,
    design_values: dict[str, np.ndarray],
    *,
    out: Path | None,
    resume: bool,
    overwrite: bool,
    progress: bool | None,
    executor: Any,
    thresholds: tuple[float, ...],
) -> MonteCarloResult:
    chunk = header["batch_size"]
    bounds = [(s, min(s + chunk, iterations)) for s in range(0, iterations, chunk)]
    part: Path | None = None
    done = np.zeros(len(bounds), dtype=bool)
    n_dem, n_cat = len(header["demand_names"]), len(header["category_names"])
    running = StreamingStatistics((n_dem, n_cat), thresholds)
    redone: list[tuple[int, int]] = []
    if out is not None:
        existing = _store.prepare(out, resume=resume, overwrite=overwrite)
        if existing is None:
            part = _store.create(out, header)
        else:
            part, earlier, redone = _resume(out, existing, header)
            if part is None:
                return _result(earlier, out, thresholds)
            done = earlier["done"]
            for (s, e), d in zip(bounds, done, strict=True):
                if d:
                    running.update(earlier["scores"][s:e])
    scores = np.full((iterations, n_dem, n_cat), np.nan)
    inputs = {name: np.full((iterations, v[0].size), np.nan) for name, v in plan.record.items()}
    inventory = np.full((iterations, n_dem, plan.inventory_rows.size), np.nan)
    invalid = np.zeros(iterations, dtype=np.uint8)
    coords: list[np.ndarray] = []
    values: list[np.ndarray] = []
    totals = {"sample": 0.0, "solve": 0.0, "other": 0.0}
    n_fallback = 0
    pending = [b for b, d in zip(bounds, done, strict=True) if not d]
    bar = _progress(
        progress, iterations, int(sum(e - s for (s, e), d in zip(bounds, done, strict=True) if d))
    )
    buffer: list[ChunkResult] = []
    last_commit = time.monotonic()
    try:
        for res in _results(plan, pending, design_values, executor):
            s, e = res["start"], res["stop"]
            scores[s:e] = res["scores"]
            running.update(res["scores"])
            for name, vals in res["inputs"].items():
                inputs[name][s:e] = vals
            inventory[s:e] = res["inventory"]
            invalid[s:e] = res["invalid"]
            if res["contributions"] is not None:
                coords.append(res["contributions"]["coords"])
                values.append(res["contributions"]["data"])
            n_fallback += res["n_fallback"]
            for key, value in res["timing"].items():
                totals[key] += value
            if part is not None:
                buffer.append(res)
                if time.monotonic() - last_commit >= COMMIT_SECONDS:
                    _store.commit(part, chunk, buffer)
                    buffer = []
                    last_commit = time.monotonic()
            if bar is not None:
                bar.update(e - s)
                bar.set_postfix_str(
                    f"mean {running.mean[0, 0]:.4g} sd {running.std[0, 0]:.3g}", refresh=False
                )
    finally:
        if bar is not None:
            bar.close()
    if part is not None and out is not None:
        _store.commit(part, chunk, buffer)
        _store.finish(part, out)
        if done.any():  # chunks computed by an earlier process: read the whole file
            whole = _result(_store.read(out), out, thresholds, redone)
            object.__setattr__(whole, "timing", totals)
            return whole
    contributions = None
    if header["contribution_activities"] is not None:
        import sparse

        shape = (iterations, n_dem, n_cat, len(header["contribution_activities"]))
        contributions = sparse.COO(
            np.concatenate(coords, axis=1) if coords else np.zeros((4, 0), dtype=np.int64),
            np.concatenate(values) if values else np.zeros(0),
            shape=shape,
        )
    return MonteCarloResult(
        scores=scores,
        demand_names=list(header["demand_names"]),
        category_names=list(header["category_names"]),
        category_units=list(header["category_units"]),
        deterministic=np.asarray(header["deterministic"]),
        inputs=inputs,
        n_fallback=n_fallback,
        seed=int(header["seed"]),
        timing=totals,
        path=out,
        contributions=contributions,
        contribution_activities=header["contribution_activities"],
        inventory=inventory,
        inventory_flows=list(header["inventory_flows"]),
        running=running,
        invalid=invalid,
        redone=redone,
    )


def _resume(
    out: Path, existing: Path, header: RunHeader
) -> tuple[Path | None, dict[str, Any], list[tuple[int, int]]]:
    """The partial file to go on with, what it holds, and the chunks it computes again.

    The partial file is None when ``out`` is finished and whole (what it holds is the
    result). A finished run with corrupt chunks goes back to its partial file, or to the one
    an interrupted resume of it left; the corrupt chunks are marked not done, with a
    :class:`~lcasolve.errors.CorruptChunkWarning`, and only they are computed again.
    """
    _store.check_header(existing, header)
    earlier = _store.read(existing, strict=False)
    if existing != out:
        _store.forget(existing, [k for k, _, _ in earlier["corrupt"]])
        return existing, earlier, _disclose(existing, earlier["corrupt"])
    if not earlier["corrupt"]:
        return None, earlier, []
    redone = _disclose(out, earlier["corrupt"])
    part = _store.partial_path(out)
    if not part.exists():
        _store.reopen(out)
        _store.forget(part, [k for k, _, _ in earlier["corrupt"]])
        return part, earlier, redone
    # a resume of ``out`` interrupted before: go on with its progress
    _store.check_header(part, header)
    kept = _store.read(part, strict=False)
    _store.forget(part, [k for k, _, _ in kept["corrupt"]])
    return part, kept, sorted({*redone, *_disclose(part, kept["corrupt"])})


def _disclose(path: Path, corrupt: list[tuple[int, int, int]]) -> list[tuple[int, int]]:
    """Warn that the corrupt chunks found in ``path`` are computed again; their ranges."""
    if not corrupt:
        return []
    ranges = ", ".join(f"iterations {s}-{e} (chunk {k})" for k, s, e in corrupt)
    warnings.warn(
        f"{path}: {ranges} were altered or are corrupt (their checksum does not match); "
        f"they are computed again, the other chunks are kept",
        CorruptChunkWarning,
        stacklevel=6,  # _disclose, _resume, _execute, execute, MonteCarlo.run, its caller
    )
    return [(s, e) for _, s, e in corrupt]


def _results(
    plan: Plan, pending: list[tuple[int, int]], design: dict[str, np.ndarray], executor: Any
) -> Iterator[ChunkResult]:
    """Yield chunk results in order, computed here (:func:`side_by_side`) or on the executor."""

    def args(s: int, e: int) -> tuple[Any, ...]:
        return ({k: v[s:e] for k, v in design.items()},)

    if executor is None:
        yield from side_by_side(plan, pending, args)
        return
    ref: Any = plan
    if hasattr(executor, "scatter"):
        ref = executor.scatter(plan, broadcast=True)
    yield from _submitted(executor, ref, pending, args, max(4, 2 * _workers(executor)))


def side_by_side(
    plan: Plan, pending: list[tuple[int, int]], args: Callable[[int, int], tuple[Any, ...]]
) -> Iterator[ChunkResult]:
    """``run_chunk(plan, start, stop, *args(start, stop))`` of each pending chunk, in order.

    With more than one thread (``settings.threads``, else Numba's count), chunks run side by
    side, one per thread, each with single-threaded kernels: a chunk's last samples to
    converge keep one core busy while another starts the next chunk, where kernels split over
    threads would leave the other cores idle. Each result is the same bit for bit (every
    sample depends on its own values only). BLAS stays on one thread for the whole run, as the
    fallback's GMRES needs for rounding that does not depend on the machine.
    """
    workers = min(plan.settings.threads or threads(), len(pending))
    if workers <= 1:
        for s, e in pending:
            yield run_chunk(plan, s, e, *args(s, e))
        return
    from threadpoolctl import threadpool_limits

    serial = dataclasses.replace(plan, settings=dataclasses.replace(plan.settings, threads=1))
    pool = ThreadPoolExecutor(workers, "lcasolve-chunk")
    try:
        with threadpool_limits(1, user_api="blas"):
            yield from _submitted(pool, serial, pending, args, 2 * workers)
    finally:  # also when the caller stops early: queued chunks are dropped, running ones end
        pool.shutdown(wait=True, cancel_futures=True)


def _submitted(
    executor: Any,
    plan: Any,
    pending: list[tuple[int, int]],
    args: Callable[[int, int], tuple[Any, ...]],
    window: int,
) -> Iterator[ChunkResult]:
    """Results of ``pending`` in order, with at most ``window`` chunks on ``executor`` at once."""
    queue: deque[Any] = deque()
    it = iter(pending)
    for s, e in it:
        queue.append(executor.submit(run_chunk, plan, s, e, *args(s, e)))
        if len(queue) >= window:
            break
    while queue:
        res = queue.popleft().result()
        nxt = next(it, None)
        if nxt is not None:
            queue.append(executor.submit(run_chunk, plan, *nxt, *args(*nxt)))
        yield res


def _workers(executor: Any) -> int:
    n = getattr(executor, "_max_workers", None)
    if isinstance(n, int):
        return n
    try:
        return max(1, len(executor.scheduler_info().get("workers", {})))
    except Exception:  # noqa: BLE001 - any executor without that method
        return 2


def _progress(progress: bool | None, total: int, initial: int) -> Any:
    from lcasolve._progress import progress_bar

    return progress_bar(progress, total, "Monte Carlo", initial=initial, unit="it", smoothing=0.1)


def _result(
    data: dict[str, Any],
    path: Path,
    thresholds: tuple[float, ...] = (),
    redone: list[tuple[int, int]] | None = None,
) -> MonteCarloResult:
    """The result of a finished run file, from :func:`lcasolve.montecarlo._store.read`."""
    running = StreamingStatistics(data["scores"].shape[1:], thresholds)
    running.update(data["scores"])
    return MonteCarloResult(
        scores=data["scores"],
        demand_names=data["demand_names"],
        category_names=data["category_names"],
        category_units=data["category_units"],
        deterministic=data["deterministic"],
        inputs=data["inputs"],
        n_fallback=data["n_fallback"],
        seed=int(data["seed"]),
        path=path,
        contributions=data["contributions"],
        contribution_activities=data["contribution_activities"],
        inventory=data["inventory"],
        inventory_flows=data["inventory_flows"],
        running=running,
        invalid=data["invalid"],
        redone=list(redone or []),
    )
