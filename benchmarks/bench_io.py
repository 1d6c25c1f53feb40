"""Readers: load time and peak memory of each reader on its largest data, each in a fresh process.

Every figure is one whole process (``python -c "import lcasolve; lcasolve.load(...)"``), imports
included, as a user runs it; the ``import lcasolve`` baseline is listed first. A reader is one
line in :data:`CASES` (a label, a path or a generator, the load options)::

    python benchmarks/bench_io.py [--processes 20000] [--only ilcd] [--json out.json]

Targets: TianGong (ILCD, 4,133 processes) within 5 s on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
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
cpu = resource.getrusage(resource.RUSAGE_SELF)
workers = resource.getrusage(resource.RUSAGE_CHILDREN)  # a reader's forked workers
print("@@" + json.dumps({
    "seconds": seconds, "main_cpu_s": cpu.ru_utime + cpu.ru_stime,
    "cpu_s": cpu.ru_utime + cpu.ru_stime + workers.ru_utime + workers.ru_stime,
    "peak_mb": cpu.ru_maxrss / 1024,
    "activities": system.n_activities, "technosphere": len(system.technosphere),
    "biosphere": len(system.biosphere), "categories": system.n_categories,
}))
"""


@dataclass(frozen=True)
class Case:
    """One reader on one input: ``path`` or ``make(tmp_dir, processes) -> path``."""

    label: str
    reader: str
    path: Path | None = None
    make: Callable[[Path, int], Path] | None = None
    options: dict[str, Any] = field(default_factory=dict)


def _eco_jsonld(tmp: Path, n: int) -> Path:
    from lcasolve.io.jsonld_write import write_jsonld
    from lcasolve.synthetic import generate

    return write_jsonld(generate(n, seed=42), tmp / f"eco{n // 1000}k_jsonld.zip")


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


def measure(path: Path, options: dict[str, Any]) -> dict[str, Any]:
    """Load ``path`` in a fresh process; wall and CPU seconds, peak RSS and sizes."""
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, str(path), json.dumps(options)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(next(ln for ln in out.stdout.splitlines() if ln.startswith("@@"))[2:])


def baseline() -> dict[str, Any]:
    """``import lcasolve`` and the reader modules alone."""
    code = (
        "import resource, time; t = time.perf_counter(); import lcasolve, lcasolve.io.ilcd, "
        "lcasolve.io.jsonld; print(time.perf_counter() - t, "
        "resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)"
    )
    s, mb = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    return {"seconds": float(s), "peak_mb": float(mb)}


def main(argv: list[str] | None = None) -> None:
    """Run the cases and print a markdown table (and JSON with ``--json``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=20000, help="size of the eco database")
    parser.add_argument("--only", help="run the cases of this reader only")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON")
    args = parser.parse_args(argv)
    rows: list[tuple[str, str, dict[str, Any]]] = [("import lcasolve (baseline)", "", baseline())]
    with tempfile.TemporaryDirectory() as tmp:
        for case in CASES:
            if args.only and case.reader != args.only:
                continue
            label = case.label.replace("{k}", str(args.processes // 1000))
            if case.make is not None:
                path = case.make(Path(tmp), args.processes)
            elif case.path is not None and case.path.exists():
                path = case.path
            else:
                print(f"skipped (absent): {case.path}", file=sys.stderr)
                continue
            rows.append((label, case.reader, measure(path, case.options)))
    print(
        "| input | reader | load s (whole process) | CPU s (with workers) | peak RSS MB "
        "| activities | A entries | B entries | categories |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for label, reader, r in rows:
        print(
            f"| {label} | {reader} | {r['seconds']:.2f} | {r.get('cpu_s', float('nan')):.2f} | "
            f"{r['peak_mb']:.0f} | {r.get('activities', '')} | {r.get('technosphere', '')} | "
            f"{r.get('biosphere', '')} | {r.get('categories', '')} |"
        )
    if args.json:
        args.json.write_text(
            json.dumps([{"input": n, "reader": rd, **r} for n, rd, r in rows], indent=2)
        )


if __name__ == "__main__":
    main()
