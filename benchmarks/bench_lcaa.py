"""Parametric foreground: lcasolve vs lca_algebraic 1.4 (PyPI ``lca-algebraic``) in the same run.

20 parameters with distributions (uniform, triangular, normal), 10 foreground activities whose
exchanges are formulas of them (sums and products), on the synthetic background
``lcasolve.synthetic.generate(n, seed=42)`` (eco5k by default). lca_algebraic reads the
background from a brightway2 project this script writes (its own venv: lca_algebraic 1.4 pins
brightway2 2.4 / bw2calc 1.8, which conflict with the bw2calc 3 of lcasolve's environment);
lcasolve builds the same system in memory. Timed, each tool on the same model:

- Monte Carlo: ``iterations`` draws of the parameters -> scores (lca_algebraic
  ``compute_impacts`` with arrays; lcasolve ``parameter_monte_carlo``, which solves the
  background once and the foreground per sample); first on a fresh model ("cold"), then
  repeated on the same model (lca_algebraic's expression and background cached, lcasolve
  through one ``ParameterBatch``), :data:`REPEATS` times each, the minimum kept;
- Sobol: SALib's Saltelli design with base size ``n`` (lca_algebraic's own
  ``_stochastics`` + ``_sobols``, which also compute second-order indices: ``n (2p + 2)`` runs;
  lcasolve ``parameter_sobol``: ``n (p + 2)`` runs), and the S1/ST indices compared;
- lcasolve only: the same Monte Carlo and Sobol with the background uncertain too
  (``background=True``; lca_algebraic cannot, its issue #81).

    python -m benchmarks.bench_lcaa --processes 5000 --iterations 10000 --n 1024 \\
        --python /work/venv-lcaa/bin/python --json benchmarks/results/lcaa.json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

N_PARAMS = 20
N_FOREGROUND = 10
METHOD = ("bench", "climate", "GWP100")
#: timed repetitions of the repeated Monte Carlo (each tool; the minimum is reported)
REPEATS = 5


def model(system: Any, seed: int = 0) -> dict[str, Any]:
    """The parametric foreground as plain data (the same for both tools)."""
    rng = np.random.default_rng(seed)
    params = []
    for i in range(N_PARAMS):
        name = f"p{i:02d}"
        centre = float(rng.uniform(0.5, 2.0))
        if i % 3 == 0:
            params.append({"name": name, "kind": "uniform", "default": centre,
                           "min": 0.5 * centre, "max": 1.5 * centre})  # fmt: skip
        elif i % 3 == 1:
            params.append({"name": name, "kind": "triangle", "default": centre,
                           "min": 0.6 * centre, "max": 1.8 * centre})  # fmt: skip
        else:
            sd = 0.1 * centre
            params.append({"name": name, "kind": "normal", "default": centre, "std": sd,
                           "min": centre - 6 * sd, "max": centre + 6 * sd})  # fmt: skip
    ids = system.activities["id"].to_numpy()
    bg = [int(x) for x in rng.choice(ids, size=2 * N_FOREGROUND, replace=False)]
    exchanges = []  # (consumer fg, input ("fg"|"bg", index), terms [(coef, p, q|None)], const)
    for i in range(N_FOREGROUND):
        for b in range(2):
            a, c = (2 * i + b) % N_PARAMS, (7 * i + 3 * b + 5) % N_PARAMS
            terms = [(float(rng.uniform(0.2, 1.0)), a, None)]
            if b == 1:
                terms.append((float(rng.uniform(0.05, 0.2)), a, c))  # a product: interactions
            exchanges.append((i, ("bg", bg[2 * i + b]), terms, 0.1))
        if i > 0:
            exchanges.append((0, ("fg", i), [(0.3, (i + 9) % N_PARAMS, None)], 0.0))
    return {"params": params, "exchanges": exchanges}


def formula_text(terms: list[Any], const: float) -> str:
    """The amount as openLCA formula text."""
    parts = [repr(const)]
    for coef, a, c in terms:
        parts.append(f"{coef!r}*p{a:02d}" + (f"*p{c:02d}" if c is not None else ""))
    return " + ".join(parts)


def fg_id(i: int) -> int:
    """Id of foreground activity ``i`` (beyond the background's ids)."""
    return 90_000_000 + i


def lcasolve_system(background: Any, spec: dict[str, Any]) -> Any:
    """The background plus the parametric foreground as one lcasolve system."""
    import dataclasses

    import lcasolve
    from lcasolve.parameters import Formula, FormulaEntry, Parameter, ParameterSet

    act = background.activities["id"].to_numpy()
    tech = background.technosphere
    flows = background.flows["id"].to_numpy()
    bio = background.biosphere
    tech_rows = [(int(act[r]), int(act[c]), float(v)) for r, c, v in
                 zip(tech.row, tech.col, tech.value, strict=True)]  # fmt: skip
    tech_rows += [(fg_id(i), fg_id(i), 1.0) for i in range(N_FOREGROUND)]
    for i, (kind, j), terms, const in spec["exchanges"]:
        supplier = fg_id(j) if kind == "fg" else j
        amount = const + sum(c * _value(spec, a) * (_value(spec, b) if b is not None else 1.0)
                             for c, a, b in terms)  # fmt: skip
        tech_rows.append((supplier, fg_id(i), -amount))
    bio_rows = [(int(flows[r]), int(act[c]), float(v)) for r, c, v in
                zip(bio.row, bio.col, bio.value, strict=True)]  # fmt: skip
    cf = background.characterization
    factors = {int(flows[c]): float(v) for r, c, v in zip(cf.row, cf.col, cf.value, strict=True)
               if r == 0}  # fmt: skip
    system = lcasolve.build_system(tech_rows, bio_rows, {"GWP100": factors})
    system = dataclasses.replace(
        system,
        technosphere=_uncertainty(system, background, "technosphere", "activities"),
        biosphere=_uncertainty(system, background, "biosphere", "flows"),
    )
    pos = {int(x): k for k, x in enumerate(system.activities["id"])}
    entries = system.technosphere
    params = []
    for p in spec["params"]:
        if p["kind"] == "uniform":
            record = _record(4, loc=p["default"], minimum=p["min"], maximum=p["max"])
        elif p["kind"] == "triangle":
            record = _record(5, loc=p["default"], minimum=p["min"], maximum=p["max"])
        else:
            record = _record(3, loc=p["default"], scale=p["std"])
        params.append(Parameter(p["name"], p["default"], uncertainty=record))
    formulas = []
    for k, (i, (kind, j), terms, const) in enumerate(spec["exchanges"]):
        supplier = fg_id(j) if kind == "fg" else j
        row, col = pos[supplier], pos[fg_id(i)]
        at = np.flatnonzero((entries.row == row) & (entries.col == col))
        assert at.size == 1, (k, at)
        text = formula_text(terms, const)
        formulas.append(FormulaEntry("technosphere", int(at[0]), row, col,
                                     Formula.parse(text), -1.0))  # fmt: skip
    return dataclasses.replace(system, parameters=ParameterSet(tuple(params), tuple(formulas)))


def _uncertainty(system: Any, background: Any, matrix: str, rows: str) -> Any:
    """``matrix`` of ``system`` with the background's distributions of the same entries."""
    from lcasolve.model.entries import Entries

    def keys(s: Any) -> dict[tuple[int, int], int]:
        e = getattr(s, matrix)
        r = getattr(s, rows)["id"].to_numpy()[e.row]
        c = s.activities["id"].to_numpy()[e.col]
        return {(int(a), int(b)): k for k, (a, b) in enumerate(zip(r, c, strict=True))}

    mine, theirs = getattr(system, matrix), getattr(background, matrix)
    unc, flip = mine.uncertainty.copy(), mine.flip.copy()
    where = keys(system)
    for key, k in keys(background).items():
        unc[where[key]] = theirs.uncertainty[k]
        flip[where[key]] = theirs.flip[k]
    return Entries.create(mine.shape, mine.row, mine.col, mine.value, uncertainty=unc, flip=flip)


def _record(kind: int, **fields: float) -> np.ndarray:
    """A stats_arrays record of distribution ``kind``."""
    from lcasolve.model.entries import no_uncertainty

    record = no_uncertainty(np.array([fields.get("loc", 0.0)]))[0]
    record["uncertainty_type"] = kind
    for name, value in fields.items():
        record[name] = value
    return np.asarray(record)


def _value(spec: dict[str, Any], a: int) -> float:
    return float(spec["params"][a]["default"])


def export_background(background: Any, folder: Path) -> Path:
    """The background as JSON for the brightway2 writer of the peer process."""
    act = background.activities
    tech, bio, cf = background.technosphere, background.biosphere, background.characterization
    ids = act["id"].to_numpy()
    flows = background.flows["id"].to_numpy()
    data = {
        "activities": [
            [int(i), str(n), str(u)] for i, n, u in zip(ids, act["name"], act["unit"], strict=True)
        ],  # fmt: skip
        "flows": [
            [int(i), str(n)] for i, n in zip(flows, background.flows["name"], strict=True)
        ],  # fmt: skip
        "technosphere": [
            [int(ids[r]), int(ids[c]), float(v)]
            for r, c, v in zip(tech.row, tech.col, tech.value, strict=True)
        ],  # fmt: skip
        "biosphere": [
            [int(flows[r]), int(ids[c]), float(v)]
            for r, c, v in zip(bio.row, bio.col, bio.value, strict=True)
        ],  # fmt: skip
        "cf": [
            [int(flows[c]), float(v)]
            for r, c, v in zip(cf.row, cf.col, cf.value, strict=True)
            if r == 0
        ],  # fmt: skip
    }
    path = folder / "background.json"
    path.write_text(json.dumps(data))
    return path


def run_lcasolve(
    system: Any, iterations: int, n: int, seed: int, background: bool = True
) -> dict[str, Any]:
    """lcasolve's timings and indices (parameters only, then with the background uncertain)."""
    from lcasolve.parameters import (
        ParameterBatch,
        draw_parameters,
        parameter_monte_carlo,
        parameter_sobol,
    )

    demand = {fg_id(0): 1.0}
    out: dict[str, Any] = {}
    t = time.perf_counter()
    # one-off imports and loading of the cached kernels (numba, SALib): not timed below
    parameter_monte_carlo(system, demand, 16, seed, background=background)
    parameter_sobol(system, demand, 8, seed, background=background)
    out["warmup_s"] = time.perf_counter() - t
    # the warm-up's background solve is kept on the system (cached_batch): drop it, so that
    # the first Monte Carlo below solves the background, as lca_algebraic's first call does
    system.__dict__.pop("_parameter_batches", None)
    t = time.perf_counter()
    mc = parameter_monte_carlo(system, demand, iterations, seed)
    out["mc_s"] = time.perf_counter() - t
    y = mc.scores.iloc[:, 0]
    out["mc_mean"], out["mc_std"] = float(y.mean()), float(y.std())
    # repeated runs on one model (lca_algebraic caches its expression and background scores):
    # a ParameterBatch keeps the background's solve; time fresh draws through it
    # like lca_algebraic's timed call, the draws are given (made before the clock starts);
    # mc_repeat_draws_s times the draws as well
    # REPEATS times, each with new draws; the minimum is kept (the machine is shared)
    batch = ParameterBatch(system, demand)
    batch.scores({}, "auto")
    solve, total = [], []
    for r in range(REPEATS):
        t = time.perf_counter()
        draws = draw_parameters(system.parameters, iterations, seed + 1 + r)
        t1 = time.perf_counter()
        batch.scores(draws, "auto")
        solve.append(time.perf_counter() - t1)
        total.append(time.perf_counter() - t)
    out["mc_repeat_s"], out["mc_repeat_draws_s"] = min(solve), min(total)
    out["mc_repeat_all_s"], out["mc_repeat_draws_all_s"] = solve, total
    # Sobol after the Monte Carlo on the same model: both tools reuse their background solve
    # (lcasolve's cached_batch, lca_algebraic's cached background scores)
    t = time.perf_counter()
    sob = parameter_sobol(system, demand, n, seed)
    out["sobol_s"] = time.perf_counter() - t
    # and with the background solved again (lcasolve before it kept its batch on the system)
    system.__dict__.pop("_parameter_batches", None)
    t = time.perf_counter()
    parameter_sobol(system, demand, n, seed)
    out["sobol_fresh_s"] = time.perf_counter() - t
    out["sobol_runs"] = n * (N_PARAMS + 2)
    out["sobol"] = {c: sob[c].to_dict() for c in sob.columns}
    if not background:
        return out
    return {**out, **run_background(system, iterations, n, seed)}


def run_background(system: Any, iterations: int, n: int, seed: int) -> dict[str, Any]:
    """lcasolve's Monte Carlo and Sobol indices with the background uncertain too."""
    from lcasolve.parameters import parameter_monte_carlo, parameter_sobol

    demand = {fg_id(0): 1.0}
    out: dict[str, Any] = {"background_iterations": iterations, "background_n": n}
    t = time.perf_counter()
    mcb = parameter_monte_carlo(system, demand, iterations, seed, background=True)
    out["mc_background_s"] = time.perf_counter() - t
    yb = mcb.scores.iloc[:, 0]
    out["mc_background_mean"], out["mc_background_std"] = float(yb.mean()), float(yb.std())
    t = time.perf_counter()
    sobb = parameter_sobol(system, demand, n, seed, background=True)
    out["sobol_background_s"] = time.perf_counter() - t
    out["sobol_background_runs"] = n * (N_PARAMS + 3)
    out["sobol_background"] = {c: sobb[c].to_dict() for c in sobb.columns}
    return out


#: the peer: writes the brightway2 project, defines the model with lca_algebraic, times it
PEER = r"""
import json, os, sys, time, warnings
warnings.simplefilter("ignore")
folder, iterations, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
os.environ["BRIGHTWAY2_DIR"] = os.path.join(folder, "bw")
os.makedirs(os.environ["BRIGHTWAY2_DIR"], exist_ok=True)
import numpy as np
import brightway2 as bw
bw.projects.set_current("bench")
bg = json.load(open(os.path.join(folder, "background.json")))
spec = json.load(open(os.path.join(folder, "model.json")))
method = tuple(spec["method"])
t = time.perf_counter()
bw.Database("bio").write({("bio", str(i)): {"name": name, "type": "emission", "unit": "kg"}
                          for i, name in bg["flows"]})
acts = {}
for i, name, unit in bg["activities"]:
    acts[i] = {"name": name, "unit": unit, "reference product": name, "exchanges": []}
for r, c, v in bg["technosphere"]:
    if r == c:
        kind, amount = "production", v
    else:
        kind, amount = "technosphere", -v
    acts[c]["exchanges"].append({"input": ("eco", str(r)), "amount": amount, "type": kind})
for f, c, v in bg["biosphere"]:
    acts[c]["exchanges"].append({"input": ("bio", str(f)), "amount": v, "type": "biosphere"})
bw.Database("eco").write({("eco", str(i)): a for i, a in acts.items()})
m = bw.Method(method)
m.register(unit="kg CO2-eq")
m.write([(("bio", str(f)), v) for f, v in bg["cf"]])
write_s = time.perf_counter() - t
import lca_algebraic as agb
from lca_algebraic.stats import _sobols, _stochastics
agb.setBackground("eco")
agb.resetDb("fg")
agb.resetParams()
P = {}
for p in spec["params"]:
    if p["kind"] == "uniform":
        P[p["name"]] = agb.newFloatParam(p["name"], default=p["default"], min=p["min"],
                                         max=p["max"], distrib=agb.DistributionType.LINEAR)
    elif p["kind"] == "triangle":
        P[p["name"]] = agb.newFloatParam(p["name"], default=p["default"], min=p["min"],
                                         max=p["max"], distrib=agb.DistributionType.TRIANGLE)
    else:
        P[p["name"]] = agb.newFloatParam(p["name"], default=p["default"], min=p["min"],
                                         max=p["max"], std=p["std"],
                                         distrib=agb.DistributionType.NORMAL)
names = [p["name"] for p in spec["params"]]
fg = {}
by_consumer = {}
for i, (kind, j), terms, const in spec["exchanges"]:
    by_consumer.setdefault(i, []).append((kind, j, terms, const))
for i in sorted(by_consumer, reverse=True):  # suppliers (higher numbers) first
    ex = {}
    for kind, j, terms, const in by_consumer[i]:
        amount = const
        for coef, a, c in terms:
            term = coef * P[names[a]]
            if c is not None:
                term = term * P[names[c]]
            amount = amount + term
        supplier = fg[j] if kind == "fg" else bw.get_activity(("eco", str(j)))
        ex[supplier] = amount
    fg[i] = agb.newActivity("fg", f"fg{i}", "unit", exchanges=ex)
out = {"write_project_s": write_s}
rng = np.random.default_rng(0)
values = {name: P[name].rand(rng.random(iterations)) for name in names}
t = time.perf_counter()
res = agb.compute_impacts(fg[0], [method], **values)
out["mc_first_s"] = time.perf_counter() - t
times = []
for _ in range(int(sys.argv[4])):  # the same again, the minimum kept (the machine is shared)
    t = time.perf_counter()
    res = agb.compute_impacts(fg[0], [method], **values)
    times.append(time.perf_counter() - t)
out["mc_s"], out["mc_all_s"] = min(times), times
y = res.iloc[:, 0].to_numpy()
out["mc_mean"], out["mc_std"] = float(y.mean()), float(y.std(ddof=1))
t = time.perf_counter()
problem, params, Y = _stochastics(fg[0], [method], n=n)
sob = _sobols([method], problem, Y)
out["sobol_s"] = time.perf_counter() - t
out["sobol_runs"] = int(len(Y))
out["sobol"] = {
    "S1": dict(zip(problem["names"], sob.s1[:, 0].tolist())),
    "S1_conf": dict(zip(problem["names"], sob.s1_conf[:, 0].tolist())),
    "ST": dict(zip(problem["names"], sob.st[:, 0].tolist())),
    "ST_conf": dict(zip(problem["names"], sob.st_conf[:, 0].tolist())),
}
from importlib.metadata import version
out["versions"] = {"lca_algebraic": version("lca_algebraic"), "bw2calc": version("bw2calc")}
print("RESULT " + json.dumps(out))
"""


def run(
    processes: int, iterations: int, n: int, seed: int, python: str, with_background: bool = True
) -> dict[str, Any]:
    """Both tools on the same model and background; lca_algebraic in ``python``'s venv."""
    from lcasolve.synthetic import generate

    background = generate(processes, seed=42)
    spec = model(background, seed)
    system = lcasolve_system(background, spec)
    out: dict[str, Any] = {"processes": processes, "iterations": iterations, "n": n,
                           "parameters": N_PARAMS, "foreground": N_FOREGROUND}  # fmt: skip
    out["lcasolve"] = run_lcasolve(system, iterations, n, seed, with_background)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        export_background(background, folder)
        (folder / "model.json").write_text(json.dumps({**spec, "method": list(METHOD)}))
        (folder / "peer.py").write_text(PEER)
        proc = subprocess.run(
            [python, str(folder / "peer.py"), str(folder), str(iterations), str(n), str(REPEATS)],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        line = next((x for x in proc.stdout.splitlines() if x.startswith("RESULT ")), None)
        if proc.returncode or line is None:
            out["lca_algebraic_error"] = (proc.stderr or proc.stdout)[-3000:]
            return out
        out["lca_algebraic"] = json.loads(line[len("RESULT ") :])
    ours, theirs = out["lcasolve"], out["lca_algebraic"]
    out["mc_speedup_first"] = theirs["mc_first_s"] / ours["mc_s"]
    out["mc_speedup_repeat"] = theirs["mc_s"] / ours["mc_repeat_s"]
    out["sobol_speedup"] = theirs["sobol_s"] / ours["sobol_s"]
    out["sobol_speedup_per_run"] = (theirs["sobol_s"] / theirs["sobol_runs"]) / (
        ours["sobol_s"] / ours["sobol_runs"])  # fmt: skip
    agree = {}
    for index in ("S1", "ST"):
        a, b = ours["sobol"][index], theirs["sobol"][index]
        ca, cb = ours["sobol"][f"{index}_conf"], theirs["sobol"][f"{index}_conf"]
        agree[index] = {p: abs(a[p] - b[p]) <= ca[p] + cb[p] + 0.01 for p in a}
    out["indices_agree"] = {k: all(v.values()) for k, v in agree.items()}
    out["indices_disagree"] = {k: [p for p, ok in v.items() if not ok] for k, v in agree.items()}
    out["load"] = os.getloadavg()
    return out


def main() -> None:
    """Command line: run once and print (and optionally store) the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--processes", type=int, default=5000)
    parser.add_argument("--iterations", type=int, default=10000)
    parser.add_argument("--n", type=int, default=1024)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--python", default="/work/venv-lcaa/bin/python")
    parser.add_argument("--json", type=Path)
    parser.add_argument(
        "--no-background", action="store_true", help="skip lcasolve's background-uncertain runs"
    )
    parser.add_argument(
        "--background-only",
        nargs=2,
        type=int,
        metavar=("ITERATIONS", "N"),
        help="only lcasolve's background-uncertain Monte Carlo and Sobol, at these sizes",
    )
    args = parser.parse_args()
    if args.background_only:
        from lcasolve.synthetic import generate

        background = generate(args.processes, seed=42)
        system = lcasolve_system(background, model(background, args.seed))
        from lcasolve.parameters import parameter_monte_carlo

        parameter_monte_carlo(system, {fg_id(0): 1.0}, 16, args.seed, background=True)  # warm
        result = run_background(system, *args.background_only, args.seed)
        print(json.dumps(result, indent=2))
        if args.json:
            args.json.write_text(json.dumps(result, indent=2) + "\n")
        return
    result = run(
        args.processes, args.iterations, args.n, args.seed, args.python, not args.no_background
    )
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    sys.exit(0 if "lca_algebraic" in result else 1)


if __name__ == "__main__":
    main()
