"""report.html: self-contained, every chart present, and clean in headless Chromium.

The browser test needs a ``chromium`` binary (Debian package ``chromium``; see
scripts/setup_chromium.sh). Without one it is skipped locally and fails in CI, like every other
missing test dependency (tests/conftest.py).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from snnc.backends.report import load_report
from snnc.backends.report.html import render_html

CHARTS = ("chart-energy-layer", "chart-energy-kind", "chart-raster", "chart-rates",
          "chart-latency", "chart-mesh", "chart-fidelity")
IN_CI = os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def _figures(html: str) -> dict[str, str]:
    """id -> inner HTML of every <figure class="chart">."""
    return dict(re.findall(r'<figure class="chart" id="([^"]+)">(.*?)</figure>', html, re.S))


def test_every_chart_is_inline_svg(measured_dir) -> None:
    html = (measured_dir / "report.html").read_text()
    figs = _figures(html)
    assert set(CHARTS) <= set(figs)
    for name in CHARTS:
        assert "<svg" in figs[name], name
    doc = load_report(measured_dir)
    assert figs["chart-mesh"].count('class="core"') == doc["chip"]["cores"]
    raster_dots = figs["chart-raster"].count("<rect") - len(doc["activity"]["raster"])
    assert raster_dots == sum(len(r["spikes"]) for r in doc["activity"]["raster"].values())
    assert "<script" not in html.lower()
    assert "<link" not in html.lower()
    assert not re.search(r'(src|href)\s*=', html, re.I)
    assert set(re.findall(r"https?://[^\s\"']+", html)) == {"http://www.w3.org/2000/svg"}


def test_labels_are_escaped(measured_dir) -> None:
    doc = load_report(measured_dir)
    doc["layers"][0]["name"] = "<b>x</b>"
    doc["energy"]["by_layer"] = {"<b>x</b>": 1e-9}
    html = render_html(doc)
    assert "<b>x</b>" not in html
    assert "&lt;b&gt;x&lt;/b&gt;" in html


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    msg = "no chromium binary: install the Debian package (scripts/setup_chromium.sh)"
    if IN_CI:
        pytest.fail(f"CI must not skip: {msg}", pytrace=False)
    pytest.skip(msg)


def _load(browser: str, page: Path, tmp_path: Path) -> tuple[str, list[str]]:
    """(DOM after load, console messages) of ``page`` in headless Chromium."""
    proc = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr",
         "--v=0", f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", page.as_uri()],
        capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout, [ln for ln in proc.stderr.splitlines() if ":CONSOLE" in ln]


def test_report_opens_in_headless_chromium(measured_dir, tmp_path) -> None:
    browser = _chromium()
    bad = tmp_path / "bad.html"  # the check can fail: a page with a script error is caught
    bad.write_text("<!DOCTYPE html><html><body><script>missing()</script></body></html>")
    assert _load(browser, bad, tmp_path)[1]
    dom, console = _load(browser, measured_dir / "report.html", tmp_path)
    assert console == []
    figs = _figures(dom)
    for name in CHARTS:
        assert "<svg" in figs.get(name, ""), name
