"""Readers: load time and peak memory of each reader on its largest data, each in a fresh process.

Every figure is one whole process (``python -c "import lcasolve; lcasolve.load(...)"``), imports
included, as a user runs it; the ``import lcasolve`` baseline is listed first. The parent takes the
child's wall-clock time from its start to its exit and its CPU time from ``os.wait4`` (as
``/usr/bin/time`` does; this counts a reader's forked workers, the JSON's ``main_cpu_s`` is the
loading process alone); the child gives its own peak RSS (``VmHWM``, see :data:`_PEAK`; its
workers' largest is ``workers_peak_mb``). Each case runs ``--repeat`` times and the table shows
the minimum of each figure (the machine is shared: the minimum is the run least disturbed).
lcasolve is byte-compiled first, as an install does. A reader is one line in :data:`CASES` (a
label, a path or a generator, the load options)::

    python benchmarks/bench_io.py [--processes 20000] [--only ilcd] [--repeat 3] [--json out.json]

Targets: TianGong (ILCD, 4,133 processes) within 5 s on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"

_CHILD = """
import json, resource, sys, time
t = time.perf_counter()
import lcasolve
system = lcasolve.load(sys.argv[1], **json.loads(sys.argv[2]))
seconds = time.perf_counter() - t
own = resource.getrusage(resource.RUSAGE_SELF)
workers = resource.getrusage(resource.RUSAGE_CHILDREN)  # a reader's forked workers
print("@@" + json.dumps({
    "seconds": seconds, "main_cpu_s": own.ru_utime + own.ru_stime,
    "workers_peak_mb": workers.ru_maxrss / 1024, "activities": system.n_activities,
    "technosphere": len(system.technosphere), "biosphere": len(system.biosphere),
    "categories": system.n_categories, "peak_mb": peak_mb(),
}))
"""

#: the child's own peak RSS: VmHWM of its address space. ``ru_maxrss`` is not used: Linux keeps
#: the parent's high-water mark across fork and exec, so a child started by a parent that had
#: generated eco20k reported the parent's 530 MB for a 1-activity file
_PEAK = """
def peak_mb():
    with open("/proc/self/status") as fh:
        return next(int(ln.split()[1]) for ln in fh if ln.startswith("VmHWM:")) / 1024
"""


@dataclass(frozen=True)
class Case:
    """One reader on one input: ``path`` or ``make(tmp_dir, processes) -> (path, environment)``.

    The environment variables ``make`` returns are set for the child (a brightway project's
    data directory).
    """

    label: str
    reader: str
    path: Path | None = None
    make: Callable[[Path, int], tuple[str | Path, dict[str, str]]] | None = None
    options: dict[str, Any] = field(default_factory=dict)


def _eco_jsonld(tmp: Path, n: int) -> tuple[Path, dict[str, str]]:
    from lcasolve.io.jsonld_write import write_jsonld
    from lcasolve.synthetic import generate

    return write_jsonld(generate(n, seed=42), tmp / f"eco{n // 1000}k_jsonld.zip"), {}


def _eco_ecospold2(tmp: Path, n: int) -> tuple[Path, dict[str, str]]:
    """eco{n} written as ``lcasolve generate --format ecospold2`` writes it."""
    from lcasolve.io.ecospold2_write import write_ecospold2
    from lcasolve.synthetic import generate

    return write_ecospold2(generate(n, seed=42), tmp / f"eco{n // 1000}k_ecospold2.zip"), {}


BW_PROJECT = "lcasolve bench"


def _bw_example(tmp: Path, n: int) -> tuple[str, dict[str, str]]:
    """A bw2data project holding bw2io's example database, as tests/test_brightway.py builds."""
    del n
    base = tmp / "brightway"
    base.mkdir()
    env = {"BRIGHTWAY2_DIR": str(base)}
    code = (
        "import warnings, bw2data as bd, bw2io as bi; "
        f"bd.projects.set_current({BW_PROJECT!r}); "
        "warnings.simplefilter('ignore'); bi.add_example_database()"
    )
    subprocess.run(
        [sys.executable, "-c", code],
        check=True,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return f"bw://{BW_PROJECT}/Mobility example", env


LENIENT = {"strict": False}
CASES: list[Case] = [
    Case(
        "TianGong ILCD (4,133 processes)",
        "ilcd",
        DATA / "tiangong" / "tiangong_ilcd.zip",
        options=LENIENT,
    ),
    Case(
        "USLCI JSON-LD (olca 1.5)",
        "jsonld",
        DATA / "uslci" / "uslci_olca1_5_0_json_ld.zip",
        options=LENIENT,
    ),
    Case(
        "USLCI EcoSpold2 (olca 1.5 export)",
        "ecospold2",
        DATA / "uslci" / "uslci_fy18_q1_01_olca1_5_ecospold2.zip",
        options=LENIENT,
    ),
    Case(
        "USLCI EcoSpold 1 (FY21.Q3, 639 datasets)",
        "ecospold1",
        DATA / "uslci" / "uslci_fy21_q3_01_olca_10_3_ecospold2.zip",
        options=LENIENT,
    ),
    Case("eco{k}k JSON-LD (lcasolve generate)", "jsonld", make=_eco_jsonld),
    Case("eco{k}k EcoSpold2 (lcasolve generate)", "ecospold2", make=_eco_ecospold2),
    # bw2io's example database is small: this figure is mostly bw2data's and bw2calc's imports
    Case("brightway project (bw2io example database, 8 activities)", "brightway", make=_bw_example),
    # the SimaPro and ecoinvent data here are small test files: these figures are mostly the
    # parsers' imports (bw_simapro_csv pulls in pydantic, bw2io's dependencies, ...)
    Case(
        "SimaPro CSV (bw_simapro_csv's stages.csv, 7 processes)",
        "simapro",
        DATA / "simapro" / "stages.csv",
        options=LENIENT,  # its waste scenario sends all its waste back to itself
    ),
    Case(
        "ecoinvent EcoSpold2 (brightway2-io fixture, 1 activity)",
        "ecospold2",
        DATA
        / "ecospold2-ecoinvent"
        / "00000_11111111-2222-3333-4444-555555555555_66666666-7777-8888-9999-000000000000.spold",
    ),
]


def _child(code: list[str], env: dict[str, str]) -> dict[str, Any]:
    """Run ``python -c ...`` once; its stdout's ``@@`` JSON plus whole-process figures."""
    t = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(
            [sys.executable, "-c", _PEAK + code[0], *code[1:]],
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            env={**os.environ, **env},
        )
        assert proc.stdout is not None
        out = proc.stdout.read()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode:
            err.seek(0)
            raise RuntimeError(f"{code[1:]}: exit {proc.returncode}\n{err.read().decode()}")
    got = json.loads(next(ln for ln in out.splitlines() if ln.startswith("@@"))[2:])
    return {**got, "process_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime}


def measure(
    path: str | Path, options: dict[str, Any], env: dict[str, str], repeat: int
) -> dict[str, Any]:
    """Load ``path`` in ``repeat`` fresh processes; the minimum of each figure, and all runs."""
    runs = [_child([_CHILD, str(path), json.dumps(options)], env) for _ in range(repeat)]
    best = dict(runs[0])
    keys = ("seconds", "process_s", "cpu_s", "main_cpu_s", "peak_mb", "workers_peak_mb")
    for key in keys:
        best[key] = min(r[key] for r in runs)
    best["runs"] = [{k: r[k] for k in keys} for r in runs]
    return best


def baseline(repeat: int) -> dict[str, Any]:
    """``import lcasolve`` and the reader modules alone (minimum of ``repeat`` processes)."""
    code = (
        "import json, time; t = time.perf_counter(); import lcasolve, lcasolve.io.ilcd, "
        "lcasolve.io.jsonld; print('@@' + json.dumps({'seconds': time.perf_counter() - t, "
        "'peak_mb': peak_mb()}))"
    )
    runs = [_child([code], {}) for _ in range(repeat)]
    return {k: min(r[k] for r in runs) for k in ("seconds", "process_s", "cpu_s", "peak_mb")}


def main(argv: list[str] | None = None) -> None:
    """Run the cases and print a markdown table (and JSON with ``--json``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=20000, help="size of the eco database")
    parser.add_argument("--only", help="run the cases of these readers only (comma-separated)")
    parser.add_argument("--match", help="run the cases whose label contains this text only")
    parser.add_argument("--repeat", type=int, default=3, help="processes per case (minimum shown)")
    parser.add_argument(
        "--repeat-generated", type=int, help="processes per generated eco case (default --repeat)"
    )
    parser.add_argument("--json", type=Path, help="also write the figures as JSON")
    args = parser.parse_args(argv)
    from lcasolve.benchmark import byte_compile_lcasolve

    byte_compile_lcasolve()
    only = set(args.only.split(",")) if args.only else None
    rows: list[tuple[str, str, dict[str, Any]]] = [
        ("import lcasolve (baseline)", "", baseline(args.repeat))
    ]
    with tempfile.TemporaryDirectory() as tmp:
        for case in CASES:
            label = case.label.replace("{k}", str(args.processes // 1000))
            if (only and case.reader not in only) or (args.match and args.match not in label):
                continue
            env: dict[str, str] = {}
            made = None
            if case.make is not None:
                t = time.perf_counter()
                path, env = case.make(Path(tmp), args.processes)
                made = time.perf_counter() - t
            elif case.path is not None and case.path.exists():
                path = case.path
            else:
                print(f"skipped (absent): {case.path}", file=sys.stderr)
                continue
            repeat = args.repeat
            if case.make is not None and case.reader != "brightway":
                repeat = args.repeat_generated or args.repeat
            r = measure(path, case.options, env, repeat)
            if made is not None:
                r["prepare_s"] = made
            if isinstance(path, Path) and path.is_file():
                r["input_mb"] = path.stat().st_size / 2**20
            rows.append((label, case.reader, r))
            print(f"{label}: {r['runs']}", file=sys.stderr, flush=True)
    print(
        f"minimum of {args.repeat} processes per case (generated eco cases: "
        f"{args.repeat_generated or args.repeat})\n"
    )
    print(
        "| input | reader | process s | load s (in process) "
        "| CPU s (with workers) | peak RSS MB | activities | A entries | B entries | categories |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for label, reader, r in rows:
        print(
            f"| {label} | {reader} | {r['process_s']:.2f} | {r['seconds']:.2f} | "
            f"{r['cpu_s']:.2f} | {r['peak_mb']:.0f} | {r.get('activities', '')} | "
            f"{r.get('technosphere', '')} | {r.get('biosphere', '')} | {r.get('categories', '')} |"
        )
    if args.json:
        from lcasolve.io._atomic import write_text_atomic

        write_text_atomic(
            args.json,
            json.dumps([{"input": n, "reader": rd, **r} for n, rd, r in rows], indent=2),
        )


if __name__ == "__main__":
    main()
