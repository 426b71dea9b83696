"""`snnc learn` end to end on a tiny two-class task, and its error handling."""

import json

import numpy as np
import pytest
from click.testing import CliRunner

from snnc.cli import cli, main
from snnc.ir import Graph, Input, LoihiDense, LoihiLIF, Output
from snnc.ir.serialize import read_graph, write_graph


def _program(tmp_path):
    graph = Graph.chain(
        ("pixels", Input(shape=(4,))),
        ("syn", LoihiDense(weight=np.zeros((2, 4), np.int64))),
        ("out_lif", LoihiLIF(shape=(2,), du=4095, dv=1024, vth=40)),
        ("out", Output(shape=(2,))),
    )
    path = tmp_path / "prog.snnc"
    write_graph(graph, path)
    return path


def _data(path, n=40, steps=8, seed=0):
    """Class 0 drives inputs 0-1, class 1 drives inputs 2-3 (spikes with p=0.8)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    x = np.zeros((n, 4, steps))
    for i, label in enumerate(y):
        x[i, 2 * label:2 * label + 2] = rng.random((2, steps)) < 0.8
    np.savez(path, x=x, y=y)


def test_learn_reaches_high_accuracy_and_writes_outputs(tmp_path):
    prog = _program(tmp_path)
    _data(tmp_path / "train.npz")
    _data(tmp_path / "test.npz", n=20, seed=1)
    out = tmp_path / "learned"
    res = CliRunner().invoke(cli, ["learn", str(prog), "--data", str(tmp_path / "train.npz"),
                                   "--test", str(tmp_path / "test.npz"), "-o", str(out)],
                             catch_exceptions=False)
    assert res.exit_code == 0, res.output
    report = json.loads((out / "learning_report.json").read_text())
    assert report["schema"] == "snnc.learning/1"
    assert report["accuracy_curve"][0]["accuracy"] == 0.0  # zero weights: no spikes
    assert report["accuracy_curve"][-1]["accuracy"] >= 0.9
    assert 0 < report["updates_event"] < report["updates_timestep"]
    assert report["energy"]["event_driven_j"] == pytest.approx(report["updates_event"] * 120e-12)
    learned = read_graph(out / "graph.learned.snnc")
    assert learned.nodes["syn"].op == "loihi.plastic_dense"
    assert np.any(learned.nodes["syn"].weight != 0)


def _exit_and_stderr(argv, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    return info.value.code, capsys.readouterr().err


def test_learn_rejects_bad_data(tmp_path, capsys):
    prog = _program(tmp_path)
    np.savez(tmp_path / "bad.npz", inputs=np.zeros((3, 4, 8)))
    code, err = _exit_and_stderr(["learn", str(prog), "--data", str(tmp_path / "bad.npz")],
                                 capsys)
    assert code == 2
    assert err.startswith("error: ")
    assert "needs arrays 'x'" in err
    assert "Traceback" not in err
    assert not (tmp_path / "prog.learned").exists()


def test_learn_names_layers_that_can_learn(tmp_path, capsys):
    prog = _program(tmp_path)
    _data(tmp_path / "train.npz")
    code, err = _exit_and_stderr(["learn", str(prog), "--data", str(tmp_path / "train.npz"),
                                  "--layers", "out_lif"], capsys)
    assert code == 2
    assert "layers that can learn: ['syn']" in err
