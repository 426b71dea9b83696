"""netx ``dense_rec`` blocks (RecurrentDense): the graph snnc reads, and the event simulator on it.

That snnc's reading computes what lava-dl's netx computes in Lava is
tests/lava/test_netx_vs_lavadl.py; here: the structure (one quantization for both matrices, the
recurrent synapse's message bits and delays as netx gives them), the cycle through the default
backend (loihi-sim equals the reference, bit for bit, through the CLI) and the refusals.
"""

from __future__ import annotations

import numpy as np
import pytest

from snnc.errors import UnsupportedOpError
from snnc.frontend.netx import read_netx
from tests.cli_run import run
from tests.frontend.test_netx import LOIHI, write_net


def _rec_net(tmp_path, w, w_rec, **extra):
    layers = [{"type": "input", "shape": np.array([w.shape[1]])},
              {"type": "dense_rec", "shape": np.array([w.shape[0]]),
               "weight": w.astype(np.float32), "weight_rec": w_rec.astype(np.float32),
               "neuron": LOIHI, **extra}]
    return write_net(tmp_path / "rec.net", layers)


def test_dense_rec_graph(tmp_path):
    from snnc.backends.netx.format import dense_from_file

    w = np.array([[2, 4, 0], [0, 2, 8]])  # alone: excitatory, scaled up to 8 bits
    w_rec = np.array([[0, 200], [-200, 0]])  # mixed signs: the joint matrix is mixed
    g = read_netx(_rec_net(tmp_path, w, w_rec))
    assert ("layer1", "layer1_rec") in g.edges
    assert ("layer1_rec", "layer1") in g.edges
    fwd, rec = g.nodes["layer1_syn"], g.nodes["layer1_rec"]
    joint = dense_from_file(np.hstack([w, w_rec]), "joint")
    assert (fwd.weight_exp, fwd.num_weight_bits) == (rec.weight_exp, rec.num_weight_bits) \
        == joint[1:]
    assert dense_from_file(w, "alone")[1:] != joint[1:]  # so quantizing apart would differ
    np.testing.assert_array_equal(np.hstack([fwd.weight, rec.weight]), joint[0])
    assert rec.num_message_bits == fwd.num_message_bits == 0


def test_dense_rec_delays_must_fit_both_matrices(tmp_path):
    w = np.full((2, 3), 2)
    path = _rec_net(tmp_path, w, np.zeros((2, 2)), delay=np.ones((2, 3), np.float32))
    with pytest.raises(UnsupportedOpError, match=r"layer 1 \(dense_rec\).*delay matrix"):
        read_netx(path)


def test_dense_rec_through_loihi_sim_equals_reference(tmp_path, capsys):
    rng = np.random.default_rng(5)
    w = 2 * rng.integers(-40, 80, size=(6, 4))
    w_rec = 2 * rng.integers(-60, 60, size=(6, 6))
    net = _rec_net(tmp_path, w, w_rec, bias=np.full(6, 8, np.float32))
    x = tmp_path / "x.npy"
    np.save(x, (rng.random((4, 30)) < 0.4).astype(np.int64))
    outs = {}
    for backend in ("reference", "loihi-sim"):
        out = tmp_path / f"{backend}.npz"
        code, _, err = run(["simulate", str(net), "-i", str(x), "-b", backend, "-q", "-o",
                            str(out), "-p", "layer1_rec.s", "-p", "layer1.v"], capsys)
        assert code == 0, err
        outs[backend] = np.load(out)
    ref, ev = outs["reference"], outs["loihi-sim"]
    assert ref["output"].any()
    assert ref["layer1_rec.s"].any()  # the spikes loop back
    for key in ("output", "layer1_rec.s", "layer1.v"):
        np.testing.assert_array_equal(ev[key], ref[key], err_msg=key)
