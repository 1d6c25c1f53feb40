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
    assert len(pngs) == 5  # waterfall, stage, scope, supply graph (hotspots), Monte Carlo
    for data in pngs:
        img = np.asarray(Image.open(io.BytesIO(base64.b64decode(data))).convert("L"))
        assert img.std() > 10  # drawn content, not a blank canvas
        assert (img < 128).mean() > 0.005


PROBE = """<script>
window.__errors = [];
window.addEventListener("error", e => window.__errors.push(String(e.message)));
window.addEventListener("load", () => {
  const imgs = [...document.images];
  const rects = imgs.map(i => {
    const r = i.getBoundingClientRect();
    return [r.left, r.top + window.scrollY, r.width, r.height];
  });
  document.title = "PROBE" + JSON.stringify({
    images: imgs.length,
    decoded: imgs.filter(i => i.complete && i.naturalWidth > 0).length,
    rects: rects,
    errors: window.__errors,
    headings: [...document.querySelectorAll("h2")].map(e => {
      const r = e.getBoundingClientRect();
      return [e.textContent, r.width * r.height, getComputedStyle(e).visibility];
    }),
    scale: window.devicePixelRatio,
  });
});
</script>"""


def _chromium(*args, profile):
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
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        "--window-size=1000,8000",  # the page with its hotspot tables
        *args,
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=90, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (CI installs it)")
def test_html_renders_in_headless_chromium(report, capsys, tmp_path):
    """Chromium loads the report, decodes every figure, runs no failing script, and each
    figure's area of the rendered page holds drawn content (dark axes and text, coloured marks).
    """
    from PIL import Image

    html, out = report
    if not html.exists():
        _run_report(html, capsys)
    # the report itself has no script; a probe added to a copy reports what the browser built
    probed = tmp_path / "probed.html"
    probed.write_text(html.read_text().replace("</body>", PROBE + "</body>"))
    dom = _chromium("--dump-dom", probed.as_uri(), profile=tmp_path / "p1").stdout
    found = re.search(r"<title>PROBE(.*?)</title>", dom, re.S)
    assert found, dom[:500]
    info = json.loads(found.group(1).replace("&quot;", '"'))
    assert info["errors"] == []
    assert info["images"] == 5 and info["decoded"] == 5
    shown = {
        text for text, area, visibility in info["headings"] if area > 0 and visibility == "visible"
    }
    for heading in (
        "Study",
        "By origin: fossil, land-use change, biogenic (ISO 14067)",
        "Disclosures: assumptions and data gaps",
        "Supply-chain hotspots",
        "Monte Carlo",
        "Limits",
        "External cost",
    ):
        assert heading in shown, sorted(shown)
    assert any(h.startswith("Cut-off check") for h in shown)
    shot = tmp_path / "shot.png"
    _chromium(f"--screenshot={shot}", html.as_uri(), profile=tmp_path / "p2")
    img = np.asarray(Image.open(shot).convert("RGB")).astype(float)
    scale = float(info["scale"])
    for left, top, width, height in info["rects"]:
        assert width > 200 and height > 150  # laid out at a readable size
        x0, y0 = int(left * scale), int(top * scale)
        crop = img[y0 : y0 + int(height * scale), x0 : x0 + int(width * scale)]
        assert crop.shape[0] > 100, "figure below the screenshot"
        gray = crop.mean(axis=2)
        saturation = crop.max(axis=2) - crop.min(axis=2)
        assert (gray < 100).mean() > 0.005  # axes, ticks and labels
        assert (saturation > 30).mean() > 0.01  # coloured bars or histogram (grey text is 0)
    shutil.copy(shot, out / "screenshot.png")
