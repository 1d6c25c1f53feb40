"""The HTML PCF report renders in headless Chromium and its embedded figures are not blank."""

from __future__ import annotations

import base64
import io
import json
import re
import shutil
import subprocess

import numpy as np
import pytest

from lcasolve.cli.main import main
from lcasolve.examples import example_path

CHROMIUM = next(
    (shutil.which(n) for n in ("chromium", "chromium-browser") if shutil.which(n)), None
)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    html = out / "cement.html"
    return html, out


def _run_report(html, capsys):
    rc = main(
        [
            "report",
            str(example_path("cement")),
            "--demand",
            "cement=1",
            "--iterations",
            "100",
            "--seed",
            "1",
            "--threshold",
            "816",
            "--threshold",
            "751",
            "--html",
            str(html),
            "--json",
        ]
    )
    assert rc == 0
    return json.loads(capsys.readouterr().out)


def test_report_json_and_embedded_pngs(report, capsys):
    from PIL import Image

    html, _ = report
    payload = _run_report(html, capsys)
    assert sum(r["score"] for r in payload["by_stage"]) == pytest.approx(payload["total"], rel=1e-9)
    assert sum(r["score"] for r in payload["by_scope"]) == pytest.approx(payload["total"], rel=1e-9)
    assert payload["cutoff"]["passes"] is True
    p = [t["p_exceed"] for t in payload["thresholds"]]
    assert 0.0 <= p[0] <= p[1] <= 1.0  # the lower limit is exceeded at least as often
    assert payload["external_cost"]["deterministic"] == pytest.approx(payload["total"] * 0.09)
    text = html.read_text()
    pngs = re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)", text)
    assert len(pngs) == 4  # waterfall, stage, scope, Monte Carlo
    for data in pngs:
        img = np.asarray(Image.open(io.BytesIO(base64.b64decode(data))).convert("L"))
        assert img.std() > 10  # drawn content, not a blank canvas
        assert (img < 128).mean() > 0.005


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (CI installs it)")
def test_html_renders_in_headless_chromium(report, capsys, tmp_path):
    from PIL import Image

    html, out = report
    if not html.exists():
        _run_report(html, capsys)
    shot = tmp_path / "shot.png"
    profile = tmp_path / "profile"
    cmd = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--window-size=1000,2600",
        f"--screenshot={shot}",
        html.as_uri(),
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=90, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert shot.exists()
    img = np.asarray(Image.open(shot).convert("RGB")).astype(float)
    # the figures' coloured bars are on the page: saturated pixels exist and are not rare
    saturation = img.max(axis=2) - img.min(axis=2)
    assert (saturation > 60).mean() > 0.01
    shutil.copy(shot, out / "screenshot.png")
