"""The CLI as a practitioner meets it, through the installed console script (issue 16)."""

import json
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from lcasolve.io.distributions import bounded

CEMENT = "62993671-574c-3fc5-b66a-6be3bb21ad3d"  # "Portland cement, at plant" in USLCI JSON-LD


def cli(*argv, cwd=None):
    """Run the console script; returns (exit code, stdout, stderr)."""
    exe = shutil.which("lcasolve")
    assert exe, "the lcasolve console script is not installed"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    proc = subprocess.run(
        [exe, *map(str, argv)], capture_output=True, text=True, check=False, env=env, cwd=cwd
    )
    return proc.returncode, proc.stdout, proc.stderr


def _invalid_triangles(path):
    """Triangular distributions of the JSON-LD zip outside ``min <= mode <= max`` (plain scan)."""
    out = []
    with zipfile.ZipFile(path) as z:
        for n in z.namelist():
            if not (n.startswith("processes/") and n.endswith(".json")):
                continue
            for ex in json.loads(z.read(n)).get("exchanges", []):
                u = ex.get("uncertainty") or {}
                if u.get("distributionType") == "TRIANGLE_DISTRIBUTION":
                    lo, m, hi = u["minimum"], u["mode"], u["maximum"]
                    if not (lo < hi and lo <= m <= hi):
                        out.append((n, lo, m, hi))
    return out


@pytest.fixture(scope="module")
def uslci(shared_data):
    return shared_data / "uslci" / "uslci_olca1_5_0_json_ld.zip"


# --- item 3: invalid distributions ------------------------------------------------------------


def test_mode_one_ulp_below_the_minimum_is_on_the_minimum():
    rec = bounded(0.37, "triangular", 0.37, 0.382, 0.3699999999999999)
    assert rec["loc"] == 0.37 and rec["minimum"] == 0.37
    with pytest.raises(ValueError, match="mode 0.36"):
        bounded(0.37, "triangular", 0.37, 0.382, 0.369)


@pytest.mark.data
def test_deterministic_commands_load_uslci_with_a_warning(uslci, tmp_path):
    bad = _invalid_triangles(uslci)
    # 27 in the data, one of them only one ulp below its minimum (accepted)
    assert len(bad) == 27
    expected = len(bad) - sum(1 for _, lo, m, _hi in bad if 0 < lo - m < 1e-15)
    code, out, err = cli("calc", uslci, "--demand", f"{CEMENT}=1", "--json")
    assert code == 0, err
    assert f"warning: {expected} invalid distributions" in err
    assert "TRIANGLE_DISTRIBUTION" in err and "and 23 more" in err
    assert json.loads(out)["scores"]
    code, out, err = cli("convert", uslci, tmp_path / "u.h5", "--json")
    assert code == 0, err
    assert f"{expected} invalid distributions" in err
    import lcasolve

    stored = lcasolve.load(tmp_path / "u.h5")
    assert len(stored.metadata["invalid_distributions"]) == expected


@pytest.mark.data
def test_sampling_commands_refuse_invalid_distributions_unless_lenient(uslci):
    code, _, err = cli("mc", uslci, "--demand", f"{CEMENT}=1", "--iterations", "4")
    assert code == 1
    assert "cannot sample 26 invalid distributions" in err and "--lenient" in err
    assert "Traceback" not in err
    code, _, err = cli("report", uslci, "--demand", f"{CEMENT}=1", "--iterations", "4")
    assert code == 1 and "cannot sample" in err
    code, out, err = cli(
        "mc", uslci, "--demand", f"{CEMENT}=1", "--iterations", "4", "--lenient", "--json"
    )
    assert code == 0, err
    assert json.loads(out)["iterations"] == 4
    assert "26 invalid distributions" in err and "sampled without them" in err


@pytest.mark.data
def test_ecospold2_strict_message_has_the_lenient_hint(shared_data):
    import lcasolve
    from lcasolve.errors import InvalidUncertaintyError

    path = shared_data / "uslci" / "uslci_fy18_q1_01_olca1_5_ecospold2.zip"
    with pytest.raises(InvalidUncertaintyError, match=r"strict=False, or --lenient"):
        lcasolve.load(path)
