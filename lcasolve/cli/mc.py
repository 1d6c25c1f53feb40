"""``lcasolve mc``: Monte Carlo distribution of the scores of one functional unit."""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from lcasolve.cli._common import (
    add_accuracy_argument,
    add_demand_arguments,
    add_input_arguments,
    add_invalid_argument,
    emit,
    finite_float,
    load_with_demand,
)
from lcasolve.cli._usage import check_run_file, positive_int
from lcasolve.errors import UsageError

__all__ = ["register", "run"]


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``mc`` sub-command."""
    p = sub.add_parser("mc", help="Monte Carlo distribution of the scores")
    add_input_arguments(p)
    add_demand_arguments(p)
    p.add_argument(
        "--iterations", type=positive_int, default=1000, metavar="N", help="default 1000"
    )
    p.add_argument("--seed", type=int, default=0, metavar="S", help="default 0")
    p.add_argument("--out", default=None, metavar="RUN.h5", help="HDF5 file of the run")
    p.add_argument("--resume", action="store_true", help="continue the run in --out")
    p.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    p.add_argument(
        "--threshold",
        type=finite_float,
        action="append",
        default=[],
        metavar="X",
        help="report P(score > X) (repeatable)",
    )
    p.add_argument(
        "--batch-size",
        type=positive_int,
        default=None,
        metavar="K",
        help="samples per block (16, or 8 above 100,000 technosphere entries; with --resume "
        "the run file's)",
    )
    p.add_argument("--threads", type=positive_int, default=None, metavar="T", help="Numba threads")
    p.add_argument(
        "--exact", action="store_true", help="refactorize every sample (slow; for checks)"
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument(
        "--parameters",
        action="store_true",
        help="also draw the input parameters that have a distribution (keyed by parameter and "
        "iteration; --param values stay fixed), together with the uncertain exchanges, which "
        "take the same draws as without --parameters",
    )
    p.add_argument(
        "--fixed-background",
        action="store_true",
        help="with --parameters: hold the exchanges at their values, draw the parameters only",
    )
    add_invalid_argument(p)
    add_accuracy_argument(p)


def run(args: argparse.Namespace) -> int:
    """Load, run the Monte Carlo and print the statistics per category."""
    from lcasolve.montecarlo import MonteCarlo, compile_kernels
    from lcasolve.montecarlo.result import PERCENTILES

    if args.parameters:
        return _run_parameters(args)
    if args.fixed_background:
        raise UsageError("--fixed-background needs --parameters")
    check_run_file(args)
    system, demand = load_with_demand(args, sampling=True)
    # the one-off compilation of the kernels (first run after an install) is reported on its
    # own, not inside the sampling time; later runs load them from Numba's cache
    warm = compile_kernels("exact" if args.exact else "iterative")
    if warm.compiled and not args.json:
        print(f"compiling kernels once, ~{warm.seconds:.1f} s", file=sys.stderr, flush=True)
    start = time.perf_counter()
    mc = MonteCarlo(
        system,
        demand,
        method="exact" if args.exact else "iterative",
        batch_size=args.batch_size,
        threads=args.threads,
        allow_ill_conditioned=args.allow_ill_conditioned,
    )
    res = mc.run(
        args.iterations,
        seed=args.seed,
        out=args.out,
        resume=args.resume,
        overwrite=args.overwrite,
        progress=False if args.no_progress else None,
        invalid=args.invalid,
    )
    seconds = time.perf_counter() - start
    stats = res.statistics().xs(res.demand_names[0], level="demand")
    names = list(stats.index)
    payload: dict[str, Any] = {
        "iterations": res.iterations,
        "deterministic": {k: float(stats.loc[k, "deterministic"]) for k in names},
        "mean": {k: float(stats.loc[k, "mean"]) for k in names},
        "std": {k: float(stats.loc[k, "std"]) for k in names},
        "percentiles": {
            k: {"50": float(stats.loc[k, "median"])}
            | {f"{p:g}": float(stats.loc[k, f"{p:g}%"]) for p in PERCENTILES}
            for k in names
        },
        "p_exceed": {
            k: {f"{x:g}": float(res.p_exceed(x, 0, k)) for x in args.threshold} for k in names
        },
        "n_fallback": res.n_fallback,
        "n_invalid": res.n_invalid,
        "invalid": res.invalid_counts(),
        "dropped": res.dropped,
        "redone": [list(r) for r in res.redone],
        "condition": res.condition,
        "error_bound": res.error_bound,
        "seconds": seconds,
        "kernels": warm.to_dict(),
    }
    lines = [
        f"{res.iterations} iterations, seed {args.seed}, {seconds:.2f} s"
        + (f", written to {args.out}" if args.out else "")
        + (f"; {res.n_invalid} samples without meaning kept (flagged)" if res.n_invalid else "")
        + (f"; {res.dropped} samples without meaning left out" if res.dropped else ""),
        stats[["deterministic", "mean", "std", "median", "2.5%", "97.5%", "unit"]].to_string(),
    ]
    lines.extend(
        f"P({k} > {x:g}) = {payload['p_exceed'][k][f'{x:g}']:.4f}"
        for k in names
        for x in args.threshold
    )
    emit(args, payload, "\n".join(lines))
    return 0


def _run_parameters(args: argparse.Namespace) -> int:
    """Monte Carlo over the input parameters, with (default) or without the exchanges drawn.

    Every sample is solved by :func:`lcasolve.parameters.parameter_monte_carlo`; the
    statistics have the keys of the plain run, plus the drawn parameters' names.
    """
    import numpy as np

    from lcasolve.lca import LCA
    from lcasolve.montecarlo.result import PERCENTILES
    from lcasolve.parameters import parameter_monte_carlo

    # parameter samples are neither stored nor flagged (lcasolve.montecarlo._validity)
    unavailable = (
        ("--out", args.out),
        ("--resume", args.resume),
        ("--overwrite", args.overwrite),
        ("--exact", args.exact),
        (f"--invalid {args.invalid}", args.invalid != "flag"),
    )
    for flag, given in unavailable:
        if given:
            raise UsageError(f"{flag} is not available with --parameters")
    # with --fixed-background the exchanges' distributions are not drawn: invalid ones only warn
    system, demand = load_with_demand(args, sampling=not args.fixed_background)
    background = not args.fixed_background
    start = time.perf_counter()
    run = parameter_monte_carlo(
        system,
        demand,
        args.iterations,
        args.seed,
        fixed=dict(args.param or ()),
        background=background,
        allow_ill_conditioned=args.allow_ill_conditioned,
    )
    seconds = time.perf_counter() - start
    scores = run.scores
    names = [str(c) for c in scores.columns]
    det = LCA(system, allow_ill_conditioned=args.allow_ill_conditioned).calculate(demand)
    units = dict(zip(system.categories["name"].astype(str), system.categories["unit"], strict=True))
    values = {k: scores[k].to_numpy() for k in names}
    payload: dict[str, Any] = {
        "iterations": args.iterations,
        "parameters": list(run.samples.columns),
        "background": background,
        "deterministic": {k: det.score(k) for k in names},
        "mean": {k: float(v.mean()) for k, v in values.items()},
        "std": {k: float(v.std(ddof=1)) if v.size > 1 else float("nan") for k, v in values.items()},
        "percentiles": {
            k: {"50": float(np.median(v))}
            | {f"{p:g}": float(np.percentile(v, p)) for p in PERCENTILES}
            for k, v in values.items()
        },
        "p_exceed": {
            k: {f"{x:g}": float(np.mean(v > x)) for x in args.threshold} for k, v in values.items()
        },
        "seconds": seconds,
    }
    drawn = ", ".join(payload["parameters"]) or "none"
    lines = [
        f"{args.iterations} iterations, seed {args.seed}, {seconds:.2f} s; parameters drawn: "
        f"{drawn}; exchanges " + ("drawn" if background else "fixed"),
    ]
    for k in names:
        q = payload["percentiles"][k]
        lines.append(
            f"{k}: deterministic {payload['deterministic'][k]:.6g}, mean {payload['mean'][k]:.6g}"
            f", std {payload['std'][k]:.6g}, median {q['50']:.6g}, "
            f"95% [{q['2.5']:.6g}, {q['97.5']:.6g}] {units.get(k, '')}".rstrip()
        )
        lines.extend(
            f"P({k} > {x:g}) = {payload['p_exceed'][k][f'{x:g}']:.4f}" for x in args.threshold
        )
    emit(args, payload, "\n".join(lines))
    return 0
