"""report.html: self-contained, every chart present, and clean in headless Chromium.

The browser test needs a ``chromium`` binary (Debian package ``chromium``; see
scripts/setup_chromium.sh). Without one it is skipped locally and fails in CI, like every other
missing test dependency (tests/conftest.py).
"""

from __future__ import annotations

import re

from browser import chromium, load_page

from snnc.backends.report import load_report
from snnc.backends.report.html import render_html

CHARTS = ("chart-energy-layer", "chart-energy-kind", "chart-raster", "chart-rates",
          "chart-latency", "chart-mesh", "chart-fidelity")


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




def test_report_opens_in_headless_chromium(measured_dir, tmp_path) -> None:
    browser = chromium()
    bad = tmp_path / "bad.html"  # the check can fail: a page with a script error is caught
    bad.write_text("<!DOCTYPE html><html><body><script>missing()</script></body></html>")
    assert load_page(browser, bad, tmp_path)[1]
    dom, console = load_page(browser, measured_dir / "report.html", tmp_path)
    assert console == []
    figs = _figures(dom)
    for name in CHARTS:
        assert "<svg" in figs.get(name, ""), name
