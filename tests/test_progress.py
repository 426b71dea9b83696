"""The compile progress bar: drawn only for runs still going after the delay, on a terminal
(``SNNC_PROGRESS=1`` forces it, ``0`` turns it off), and removed when the run ends."""

from __future__ import annotations

import io
import threading

from snnc.progress import Stages


def test_a_long_stage_draws_the_bar_with_its_name(monkeypatch) -> None:
    monkeypatch.setenv("SNNC_PROGRESS", "1")
    out = io.StringIO()
    with Stages("compile", ["load", "map"], stream=out, delay=0.01) as bar:
        with bar.stage("load"):
            pass
        with bar.stage("map"):
            drawn = threading.Event()
            for _ in range(3000):  # until the helper thread has drawn (no fixed sleep)
                if bar.shown and "map" in out.getvalue():
                    drawn.set()
                    break
                drawn.wait(0.01)
    assert drawn.is_set()
    text = out.getvalue()
    assert "compile: map 1/2" in text  # the stage after the command, no stray ", "


def test_short_runs_non_terminals_and_opt_out_print_nothing(monkeypatch) -> None:
    out = io.StringIO()  # not a terminal
    with Stages("compile", ["load"], stream=out, delay=0.0) as bar, bar.stage("load"):
        pass
    monkeypatch.setenv("SNNC_PROGRESS", "1")
    with Stages("compile", ["load"], stream=out, delay=60) as bar, bar.stage("load"):
        pass  # ends long before the delay
    monkeypatch.setenv("SNNC_PROGRESS", "0")
    with Stages("compile", ["load"], stream=out, delay=0.0) as bar, bar.stage("load"):
        pass
    assert out.getvalue() == ""
    assert not bar.shown
