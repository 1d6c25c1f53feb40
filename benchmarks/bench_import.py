"""Import benchmarks: time and peak memory of reading databases, each in its own process.

Whole-run figures (markdown table)::

    python benchmarks/bench_import.py [--processes 20000]

pytest-benchmark (USLCI only)::

    python -m pytest benchmarks/bench_import.py --benchmark-only
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

import lcasolve

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
USLCI_JSONLD = DATA / "uslci" / "uslci_olca1_5_0_json_ld.zip"
USLCI_SPOLD = DATA / "uslci" / "uslci_fy18_q1_01_olca1_5_ecospold2.zip"

_CHILD = """
import json, resource, sys, time
t = time.perf_counter()
import lcasolve
system = lcasolve.load(sys.argv[1], **json.loads(sys.argv[2]))
seconds = time.perf_counter() - t
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print("@@" + json.dumps({
    "seconds": seconds, "peak_mb": peak, "activities": system.n_activities,
    "technosphere": len(system.technosphere), "biosphere": len(system.biosphere),
}))
"""


def measure(path: Path, **options) -> dict:
    """Load ``path`` in a fresh process (imports included); seconds and peak RSS."""
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, str(path), json.dumps(options)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(next(ln for ln in out.stdout.splitlines() if ln.startswith("@@"))[2:])


def baseline() -> dict:
    """Importing lcasolve alone, to subtract from the figures."""
    code = (
        "import resource, time; t = time.perf_counter(); import lcasolve, lcasolve.io.jsonld; "
        "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)"
    )
    s, mb = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    return {"seconds": float(s), "peak_mb": float(mb)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=20000)
    args = parser.parse_args(argv)
    from lcasolve.io import hdf5
    from lcasolve.io.jsonld_write import write_jsonld
    from lcasolve.synthetic import generate

    rows = [("import lcasolve (baseline)", baseline())]
    lenient = {"strict": False}
    rows.append(("USLCI JSON-LD (766 processes)", measure(USLCI_JSONLD, **lenient)))
    rows.append(("USLCI EcoSpold2 (767 activities)", measure(USLCI_SPOLD, **lenient)))
    with tempfile.TemporaryDirectory() as tmp:
        system = generate(args.processes, seed=42)
        t = time.perf_counter()
        jl = write_jsonld(system, Path(tmp) / "eco.zip")
        write_s = time.perf_counter() - t
        h5 = hdf5.write(system, Path(tmp) / "eco.h5")
        del system
        n = args.processes
        rows.append(
            (f"eco{n // 1000}k JSON-LD ({jl.stat().st_size / 2**20:.0f} MB zip)", measure(jl))
        )
        rows.append((f"eco{n // 1000}k HDF5 store", measure(h5)))
    print(f"JSON-LD written in {write_s:.1f} s\n")
    print("| input | load s (incl. imports) | peak RSS MB | activities | A entries | B entries |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, r in rows:
        print(
            f"| {name} | {r['seconds']:.2f} | {r['peak_mb']:.0f} | {r.get('activities', '')} | "
            f"{r.get('technosphere', '')} | {r.get('biosphere', '')} |"
        )


@pytest.mark.skipif(not USLCI_JSONLD.exists(), reason="../shared/data is absent")
def test_uslci_jsonld(benchmark):
    system = benchmark.pedantic(
        lcasolve.load, args=(USLCI_JSONLD,), kwargs={"strict": False}, rounds=3, iterations=1
    )
    assert system.n_activities == 766


@pytest.mark.skipif(not USLCI_SPOLD.exists(), reason="../shared/data is absent")
def test_uslci_ecospold2(benchmark):
    system = benchmark.pedantic(
        lcasolve.load, args=(USLCI_SPOLD,), kwargs={"strict": False}, rounds=3, iterations=1
    )
    assert system.n_activities == 746


if __name__ == "__main__":
    main()
