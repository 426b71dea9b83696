"""``snnc eval``: equal, sample for sample, to a loop of ``snnc simulate`` calls (on 40 of
the 360 digits, for time); shard
merging; the page; refused inputs."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from browser import chromium, load_page

from snnc.backends.report.energy import models_for_chip
from snnc.backends.report.sections import run_model
from snnc.cli import main
from snnc.evaluate import ProgramFiles, evaluate, load_dataset
from snnc.simulators.event.counters import Counters

pytestmark = pytest.mark.torch
DIGITS = Path(__file__).resolve().parents[2] / "examples" / "models" / "digits_test.npz"


def _cli(args: list[str]) -> int:
    try:
        main(args)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def test_eval_equals_a_loop_of_simulate_calls(qsnn4_dir: Path, tmp_path: Path) -> None:
    assert _cli(["eval", str(qsnn4_dir), "--data", str(DIGITS), "--x-key", "spikes",
                 "-o", str(tmp_path / "ev"), "-q"]) == 0
    doc = json.loads((tmp_path / "ev" / "eval.json").read_text())
    c = doc["counts"]
    steps = doc["steps"] + doc["latency_steps"]
    with np.load(DIGITS) as d:
        xs, ys = d["spikes"], d["y"]
    assert doc["summary"]["samples"] == len(ys) == 360
    from snnc.backends.loihi.program import ChipProgram

    program = ChipProgram.load(qsnn4_dir)
    model = models_for_chip(program.chip)[0]
    # every 9th digit (40 of 360): each `snnc simulate` call loads and validates the program
    # file (~0.5 s), so the loop over all 360 would take minutes
    picked = list(range(0, len(ys), 9))
    preds, fpreds = [], []
    for i in picked:
        np.save(tmp_path / "x.npy", xs[i].astype(np.float64))  # (64, T): one sample, time last
        assert _cli(["simulate", str(qsnn4_dir), "-i", str(tmp_path / "x.npy"), "--steps",
                     str(steps), "-o", str(tmp_path / "r.npz"), "--counters",
                     str(tmp_path / "c.json"), "-q"]) == 0
        assert _cli(["simulate", str(qsnn4_dir / "graph.float.snnc"), "--backend",
                     "reference", "-i", str(tmp_path / "x.npy"), "-o",
                     str(tmp_path / "f.npz"), "-q"]) == 0
        with np.load(tmp_path / "r.npz") as r, np.load(tmp_path / "f.npz") as f:
            preds.append(int(r["output"].sum(-1).argmax()))
            fpreds.append(int(f["output"].sum(-1).argmax()))
        cnt = Counters.load(tmp_path / "c.json")
        en, lat = run_model(program, model, cnt)  # the report's cost function on this sample
        assert c["latency_s"][i] == pytest.approx(lat.per_inference_s, rel=1e-12)
        assert c["dynamic_j"][i] == pytest.approx(en.total_dynamic_j, rel=1e-12)
        assert c["energy_j"][i] == pytest.approx(en.total_j, rel=1e-12)
    assert [c["pred"][i] for i in picked] == preds
    assert [c["float_pred"][i] for i in picked] == fpreds
    assert c["label"] == ys.tolist()
    pred = np.array(c["pred"])
    assert doc["summary"]["accuracy"] == pytest.approx(float(np.mean(pred == ys)))
    assert doc["summary"]["accuracy"] == pytest.approx(0.975)  # README: 97.5 % on the digits
    conf = np.zeros((10, 10), int)
    np.add.at(conf, (ys, pred), 1)
    assert c["confusion"] == conf.tolist()
    assert doc["summary"]["agreement"] == float(np.mean(pred == np.array(c["float_pred"])))


def test_shards_merge_to_the_same_counts(qsnn4_dir: Path) -> None:
    data = load_dataset(DIGITS, (64,), x_key="spikes").subset(50)
    files = ProgramFiles.from_dir(qsnn4_dir)
    one = evaluate(qsnn4_dir, data, files=files, batch=64)
    many = evaluate(qsnn4_dir, data, files=files, batch=4, shard_size=7)
    assert one.to_dict() == many.to_dict()
    assert many.n == 50
    assert int(many.confusion.sum()) == 50


def test_static_data_with_an_encoder(qsnn4_dir: Path, tmp_path: Path) -> None:
    with np.load(DIGITS) as d:
        np.savez(tmp_path / "static.npz", x=d["x"][:20] / 16.0, y=d["y"][:20])
    assert _cli(["eval", str(qsnn4_dir), "--data", str(tmp_path / "static.npz"), "--encode",
                 "rate", "--steps", "8", "-o", str(tmp_path / "ev"), "-q"]) == 0
    doc = json.loads((tmp_path / "ev" / "eval.json").read_text())
    assert doc["summary"]["samples"] == 20
    assert doc["steps"] == 8


def test_eval_page_opens_in_headless_chromium(qsnn4_dir: Path, tmp_path: Path) -> None:
    browser = chromium()
    assert _cli(["eval", str(qsnn4_dir), "--data", str(DIGITS), "--x-key", "spikes",
                 "--limit", "40", "-o", str(tmp_path / "ev"), "-q"]) == 0
    dom, console = load_page(browser, tmp_path / "ev" / "eval.html", tmp_path)
    assert console == []
    figs = dict(re.findall(r'<figure class="chart" id="([^"]+)">(.*?)</figure>', dom, re.S))
    for name in ("confusion", "energy-hist", "latency-hist"):
        assert "<svg" in figs.get(name, ""), name
    assert figs["confusion"].count("<rect") == 100


@pytest.mark.parametrize(("make", "needle"), [
    (lambda p: np.savez(p, x=np.zeros((3, 64, 8))), "no array 'y'"),
    (lambda p: np.savez(p, x=np.zeros((3, 64, 8)), y=np.zeros(2, int)), "3 samples"),
    (lambda p: np.savez(p, x=np.zeros((3, 32, 8)), y=np.zeros(3, int)), "time last"),
    (lambda p: np.savez(p, x=np.zeros((3, 64)), y=np.zeros(3, int)), "--encode"),
    (lambda p: p.write_bytes(b"not a zip"), "not a readable .npz"),
])
def test_bad_datasets_exit_2(qsnn4_dir: Path, tmp_path: Path, capsys, make, needle) -> None:
    path = tmp_path / "d.npz"
    make(path)
    assert _cli(["eval", str(qsnn4_dir), "--data", str(path), "-o", str(tmp_path / "ev")]) == 2
    err = capsys.readouterr().err
    assert needle in err
    assert "Traceback" not in err
    assert not (tmp_path / "ev" / "eval.json").exists()


def test_eval_never_overwrites_a_foreign_file(qsnn4_dir: Path, tmp_path: Path, capsys) -> None:
    dest = tmp_path / "ev"
    dest.mkdir()
    (dest / "eval.json").write_text('{"mine": true}')
    assert _cli(["eval", str(qsnn4_dir), "--data", str(DIGITS), "--x-key", "spikes",
                 "--limit", "5", "-o", str(dest), "-q"]) == 2
    assert "snnc did not write (eval.json)" in capsys.readouterr().err
    assert (dest / "eval.json").read_text() == '{"mine": true}'


def test_report_shows_the_eval_summary(qsnn4_dir: Path, tmp_path: Path, capsys) -> None:
    import shutil

    out = tmp_path / "copy"
    shutil.copytree(qsnn4_dir, out)
    assert _cli(["eval", str(out), "--data", str(DIGITS), "--x-key", "spikes", "--limit", "30",
                 "-q"]) == 0
    capsys.readouterr()
    assert _cli(["report", str(out), "--brief", "--no-html"]) == 0
    text = capsys.readouterr().out
    assert "eval: 30 samples" in text
    assert "accuracy" in text
