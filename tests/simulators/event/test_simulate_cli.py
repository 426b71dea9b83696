"""``snnc simulate``: compile output directories and graph files, probes, time-last files."""

from __future__ import annotations

import numpy as np
import pytest
from loihi_random import random_network

from snnc.backends.loihi.mapper import map_graph
from snnc.cli import main
from snnc.ir.serialize import write_graph
from snnc.simulators import reference


@pytest.fixture
def setup(tmp_path):
    net = random_network(np.random.default_rng(31), "plain", steps=15)
    map_graph(net.graph, "loihi2").save(tmp_path / "out")
    write_graph(net.graph, tmp_path / "g.snnc")
    x = np.moveaxis(net.stimulus, 0, -1)  # (1, *shape, T)
    np.save(tmp_path / "xb.npy", x)
    np.save(tmp_path / "x1.npy", x[0])
    return net, tmp_path


def _run(*args: str) -> None:
    code = 0
    try:
        main(list(args))
    except SystemExit as exc:
        code = exc.code
    assert code in (0, None)


@pytest.mark.parametrize("target", ["out", "g.snnc"])
@pytest.mark.parametrize("backend", ["loihi-sim", "reference"])
def test_simulate_matches_reference(setup, target, backend) -> None:
    net, d = setup
    probe = f"{net.neurons[0]}.v"
    _run("simulate", str(d / target), "--input", str(d / "xb.npy"), "--backend", backend,
         "--probe", probe, "--steps", "18", "--chip", "loihi2", "-q", "-o", str(d / "r.npz"))
    ref = reference.simulate(net.graph, net.stimulus, steps=18, probes=[probe])
    with np.load(d / "r.npz") as r:
        np.testing.assert_array_equal(r["output"], np.moveaxis(ref.output, 0, -1))
        np.testing.assert_array_equal(r[probe], np.moveaxis(ref.probes[probe], 0, -1))


def test_single_sample_keeps_no_batch_axis_and_writes_counters(setup) -> None:
    net, d = setup
    _run("simulate", str(d / "out"), "-i", str(d / "x1.npy"), "--counters", str(d / "c.json"),
         "-q", "-o", str(d / "r.npz"))
    with np.load(d / "r.npz") as r:
        assert r["output"].shape == (*net.graph.nodes["y"].out_shape, 15)
    assert (d / "c.json").stat().st_size > 0


def test_bad_probe_exits_2_with_a_message(setup, capsys) -> None:
    _, d = setup
    with pytest.raises(SystemExit) as exc:
        main(["simulate", str(d / "out"), "-i", str(d / "xb.npy"), "-p", "nope.u",
              "-o", str(d / "r.npz")])
    assert exc.value.code == 2
    assert "no node named 'nope'" in capsys.readouterr().err
    assert not (d / "r.npz").exists()


def test_lava_hw_needs_the_lava_backend(setup, capsys) -> None:
    _, d = setup
    with pytest.raises(SystemExit) as exc:
        main(["simulate", str(d / "out"), "-i", str(d / "xb.npy"), "--lava-hw", "-o",
              str(d / "r.npz")])
    assert exc.value.code == 2
    assert "use it with --backend lava" in capsys.readouterr().err
    assert not (d / "r.npz").exists()


def test_streamed_chunks_of_samples_equal_one_batch_and_the_reference(setup, monkeypatch
                                                                     ) -> None:
    """A batched X.npy is memory-mapped and run --chunk-samples at a time, results streamed
    into R.npz: output and probes equal one whole-batch run and the reference, and no
    temporary part file is left beside R.npz."""
    net, d = setup
    rng = np.random.default_rng(5)
    shape = net.stimulus.shape[2:]
    x = (rng.random((7, *shape, 15)) < 0.3).astype(np.uint8)  # 7 samples, time last
    np.save(d / "x7.npy", x)
    probe = f"{net.neurons[0]}.v"
    _run("simulate", str(d / "out"), "-i", str(d / "x7.npy"), "-p", probe, "-q",
         "-o", str(d / "whole.npz"))
    loads = []
    real_load = np.load
    monkeypatch.setattr(np, "load", lambda *a, **k: loads.append(k.get("mmap_mode"))
                        or real_load(*a, **k))
    _run("simulate", str(d / "out"), "-i", str(d / "x7.npy"), "-p", probe, "-q",
         "--chunk-samples", "3", "-o", str(d / "chunked.npz"))
    monkeypatch.undo()
    assert "r" in loads  # the input was memory-mapped
    whole, chunked = np.load(d / "whole.npz"), np.load(d / "chunked.npz")
    assert sorted(whole.files) == sorted(chunked.files) == sorted(["output", probe])
    for k in whole.files:
        np.testing.assert_array_equal(chunked[k], whole[k])
        assert chunked[k].dtype == whole[k].dtype
    program_graph = net.graph
    want = reference.simulate(program_graph, np.moveaxis(x, -1, 0), probes=[probe])
    np.testing.assert_array_equal(chunked[probe], np.moveaxis(want.probes[probe], 0, -1))
    assert not [p for p in d.iterdir() if p.name.endswith(".part.npy")]


@pytest.mark.parametrize("samples", [None, "3"])
def test_streamed_windows_of_steps_equal_one_run(setup, samples) -> None:
    """--chunk-steps writes the results window after window of steps (with or without chunks
    of samples): R.npz equals one whole run's, batched and unbatched, aligned and not."""
    net, d = setup
    rng = np.random.default_rng(8)
    x = (rng.random((5, *net.stimulus.shape[2:], 23)) < 0.3).astype(np.uint8)
    np.save(d / "x5.npy", x)
    np.save(d / "x1l.npy", x[0])
    probe = f"{net.neurons[0]}.v"
    for name in ("x5.npy", "x1l.npy"):
        for steps in ((), ("--steps", "26"), ("--reset-interval", "6")):
            common = ["simulate", str(d / "out"), "-i", str(d / name), "-p", probe, "-q",
                      *steps]
            _run(*common, "-o", str(d / "whole.npz"))
            more = ("--chunk-samples", samples) if samples else ()
            _run(*common, "--chunk-steps", "4", *more, "-o", str(d / "win.npz"), "--force")
            whole, win = np.load(d / "whole.npz"), np.load(d / "win.npz")
            assert sorted(whole.files) == sorted(win.files) == sorted(["output", probe])
            for k in whole.files:
                assert win[k].shape == whole[k].shape
                np.testing.assert_array_equal(win[k], whole[k], err_msg=f"{name} {steps} {k}")
            assert whole["output"].any()
    assert not [p for p in d.iterdir() if p.name.endswith(".part.npy")]


def test_streamed_counters_equal_the_whole_runs(setup) -> None:
    """--counters C.npz streams window by window too: every field equals the unstreamed
    file's; a .json counters file, or several chunks of samples, runs unstreamed."""
    from dataclasses import fields

    from snnc.simulators.event.counters import Counters

    net, d = setup
    x = (np.random.default_rng(3).random((4, *net.stimulus.shape[2:], 19)) < 0.3)
    np.save(d / "x4.npy", x.astype(np.uint8))
    common = ["simulate", str(d / "out"), "-i", str(d / "x4.npy"), "-q"]
    _run(*common, "--counters", str(d / "whole.npz"), "-o", str(d / "w.npz"))
    _run(*common, "--counters", str(d / "win.npz"), "--chunk-steps", "5", "-o", str(d / "s.npz"))
    _run(*common, "--counters", str(d / "c.json"), "--chunk-steps", "5", "-o", str(d / "j.npz"))
    whole, win = Counters.load(d / "whole.npz"), Counters.load(d / "win.npz")
    assert whole.syn_ops.sum() > 0
    for f in fields(Counters):
        if f.name != "per_sample":
            np.testing.assert_array_equal(np.asarray(getattr(win, f.name)),
                                          np.asarray(getattr(whole, f.name)), err_msg=f.name)
    assert Counters.load(d / "c.json").totals() == whole.totals()
    for name in ("s.npz", "j.npz"):
        np.testing.assert_array_equal(np.load(d / name)["output"], np.load(d / "w.npz")["output"])
    assert not [p for p in d.iterdir() if p.name.endswith(".part.npy")]
