"""``snnc sweep``: bits {2, 4, 8} x chips {loihi1, loihi2} on the example model completes,
resumes after being killed (finished points are not run again), and its page opens in
headless Chromium without console errors. Plus the grid file, pipelines and Pareto fronts."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from browser import chromium, load_page

from snnc.cli import main
from snnc.sweep import front
from snnc.sweep.pipeline import point_pipeline, with_options

REPO = Path(__file__).resolve().parents[2]
MODEL = REPO / "examples" / "models" / "qsnn4.pt"
DIGITS = REPO / "examples" / "models" / "digits_test.npz"
GRID = """[grid]
bits = [2, 4, 8]
chip = ["loihi1", "loihi2"]

[data]
x_key = "spikes"
limit = 40
"""


def _sweep_cmd(grid: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "snnc", "sweep", str(MODEL), "--grid", str(grid), "--data",
            str(DIGITS), "-o", str(out)]


def _done(out: Path) -> dict[str, int]:
    return {p.parent.name: p.stat().st_mtime_ns for p in (out / "points").glob("*/point.json")}


@pytest.mark.torch
def test_sweep_completes_resumes_after_kill_and_opens_in_chromium(tmp_path: Path) -> None:
    grid, out = tmp_path / "sweep.toml", tmp_path / "sw"
    grid.write_text(GRID)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(_sweep_cmd(grid, out), env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 240
        while not _done(out) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)  # our own process group only
        proc.wait(timeout=30)
    first = _done(out)
    assert 1 <= len(first) < 6, f"the kill should land mid-sweep, {len(first)} points done"
    assert proc.returncode == -signal.SIGKILL
    assert not (out / "sweep.html").exists()

    res = subprocess.run(_sweep_cmd(grid, out), env=env, capture_output=True, text=True,
                         timeout=600, check=False)
    assert res.returncode == 0, res.stderr[-3000:]
    assert f"6 points, {len(first)} cached, {6 - len(first)} to run" in res.stderr
    after = _done(out)
    assert len(after) == 6
    assert all(after[k] == first[k] for k in first)  # finished points were not run again
    builds = sorted(p.name for p in (out / "points").glob("*/build*"))
    assert builds.count("build") == 6  # every point compiled into its own folder
    docs = json.loads((out / "results.json").read_text())["points"]
    assert sorted((d["params"]["bits"], d["params"]["chip"]) for d in docs) == sorted(
        (b, c) for b in (2, 4, 8) for c in ("loihi1", "loihi2"))
    assert all("summary" in d for d in docs)
    acc = {(d["params"]["bits"], d["params"]["chip"]): d["summary"]["accuracy"] for d in docs}
    assert acc[(4, "loihi1")] == acc[(4, "loihi2")]  # same weights, same spikes on both chips
    assert acc[(2, "loihi1")] < acc[(8, "loihi1")]

    browser = chromium()
    dom, console = load_page(browser, out / "sweep.html", tmp_path)
    assert console == []
    figs = dict(re.findall(r'<figure class="chart" id="([^"]+)">(.*?)</figure>', dom, re.S))
    for name in ("pareto-energy", "pareto-latency"):
        assert figs.get(name, "").count("<circle") == 6, name
    assert dom.count("<tr>") == 7


def test_pipeline_options_are_set_on_the_named_pass() -> None:
    base = "canonicalize,prune,quantize-loihi{headroom_bits=5,input=spikes},dce"
    assert with_options(base, "quantize-loihi", max_weight=7) == (
        "canonicalize,prune,quantize-loihi{headroom_bits=5,input=spikes,max_weight=7},dce")
    assert point_pipeline(base, {"bits": 2, "prune_threshold": 0.5}) == (
        "canonicalize,prune{threshold=0.5},quantize-loihi{headroom_bits=5,input=spikes,"
        "max_weight=1},dce")
    with pytest.raises(Exception, match="no 'prune'"):
        with_options("canonicalize,dce", "prune", threshold=0.1)


def test_pareto_front() -> None:
    rows = [("a", 0.9, 3.0), ("b", 0.9, 2.0), ("c", 0.5, 1.0), ("d", 0.4, 1.5), ("e", 0.95, 5)]
    assert front(rows) == {"b", "c", "e"}


@pytest.mark.parametrize(("text", "needle"), [
    ("[grid]\nwidth = [1]\n", "unknown axis 'width'"),
    ("[grid]\nbits = []\n", "non-empty list"),
    ("[grid]\nbits = [1, 4]\n", "2..8"),
    ("[grid]\nchip = [1]\n", "expected str"),
    ("[grid\n", "not valid TOML"),
    ("[data]\npath = 'x.npz'\n", "needs a [grid] table"),
])
def test_bad_grids_exit_2(tmp_path: Path, capsys, text: str, needle: str) -> None:
    grid = tmp_path / "g.toml"
    grid.write_text(text)
    with pytest.raises(SystemExit) as exc:
        main(["sweep", str(MODEL), "--grid", str(grid), "--data", str(DIGITS), "-o",
              str(tmp_path / "sw")])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert needle in err
    assert "Traceback" not in err
    assert not (tmp_path / "sw").exists()


def test_sweep_refuses_a_foreign_directory(tmp_path: Path, capsys) -> None:
    grid, out = tmp_path / "g.toml", tmp_path / "mine"
    grid.write_text(GRID)
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    with pytest.raises(SystemExit) as exc:
        main(["sweep", str(MODEL), "--grid", str(grid), "--data", str(DIGITS), "-o", str(out)])
    assert exc.value.code == 2
    assert "snnc did not write (notes.txt)" in capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]
