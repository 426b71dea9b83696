"""lava-dl's SDNN networks and blocks through ``snnc simulate --backend reference``, exactly.

Ground truth (lava-dl 0.6.0's netx tests, recorded in Lava's fixed_pt models; each test runs
through the reference and through the default backend, loihi-sim on Loihi 2):
``gts/pilotnet_sdnn`` (``network.net``: the input held for every step, as lava-dl's RingBuffer
source does; ``output`` over 9 steps, and the per-layer recordings ``act0`` = the Delta input's
graded spikes, ``sigma1``/``sigma2`` = the first two SigmaDelta layers' sigma state, 20 steps)
and ``gts/tinynet_sdnn`` (its Delta input, SigmaDelta conv and Sigma dense blocks; lava-dl ships
no .net for it, so one is written here from the recorded kernels, in slayer's file layout).
"""

from __future__ import annotations

import numpy as np
import pytest

from snnc.frontend.netx import read_netx
from tests.cli_run import run
from tests.frontend.test_netx import write_net

SDNN = {"type": "SDNN", "activation": "relu", "vThMant": 20}


#: the reference (Lava's fixed_pt arithmetic) and the event simulator (loihi-sim, the default
#: backend: mapped on Loihi 2, which a graph with graded layers gets when no --chip is given)
BACKENDS = ("reference", "loihi-sim")


def _simulate(tmp_path, capsys, net, x, *args, backend="reference"):
    xin = tmp_path / "x.npy"
    np.save(xin, x)
    out = tmp_path / "r.npz"
    code, _, err = run(["simulate", str(net), "-i", str(xin), "-b", backend, "-q",
                        "-o", str(out), *args], capsys)
    assert code == 0, err
    return np.load(out)


def _wh(a):  # snnc's (C, H, W, T) -> netx's (W, H, C, T)
    return a.transpose(2, 1, 0, 3)


@pytest.mark.parametrize("backend", BACKENDS)
def test_pilotnet_sdnn_every_recorded_layer(tmp_path, capsys, lavadl_assets, backend):
    d = lavadl_assets / "gts/pilotnet_sdnn"
    x = np.repeat(np.load(d / "input.npy").transpose(2, 1, 0, 3), 20, axis=3)
    r = _simulate(tmp_path, capsys, d / "network.net", x, "-p", "layer0", "-p", "layer1.sigma",
                  "-p", "layer2.sigma", backend=backend)
    gt_out = np.load(d / "output.npy")
    assert np.abs(gt_out).sum() > 1e6
    np.testing.assert_array_equal(r["output"][:, :9], gt_out)
    for probe, name in (("layer0", "act0"), ("layer1.sigma", "sigma1"),
                        ("layer2.sigma", "sigma2")):
        gt = np.load(d / f"{name}.npy")
        assert np.abs(gt).sum() > 0
        np.testing.assert_array_equal(_wh(r[probe]), gt, err_msg=name)


@pytest.mark.parametrize("backend", BACKENDS)
def test_pilotnet_sdnn_square_sigma1_to_4(tmp_path, capsys, lavadl_assets, backend):
    """``square_network.net`` as lava-dl's test runs it: netx ``skip_layers=1`` (the Delta input
    layer is read for its message bits but not built), the source feeding layer 1's synapse with
    ``act0[:33, :33]`` (the recorded graded spikes); ``sigma1_square`` .. ``sigma4_square`` are
    the four conv SigmaDelta layers' sigma over 20 steps."""
    d = lavadl_assets / "gts/pilotnet_sdnn"
    x = np.load(d / "act0.npy")[:33, :33].transpose(2, 1, 0, 3)  # (C, H, W, T)
    probes = [a for k in range(1, 5) for a in ("-p", f"layer{k}.sigma")]
    r = _simulate(tmp_path, capsys, d / "square_network.net", x, "--netx-skip-layers", "1",
                  *probes, backend=backend)
    for k in range(1, 5):
        gt = np.load(d / f"sigma{k}_square.npy")
        assert gt.shape[-1] == 20
        assert np.abs(gt[..., -1]).sum() > 1e6
        np.testing.assert_array_equal(_wh(r[f"layer{k}.sigma"]), gt, err_msg=f"sigma{k}")


def test_skip_layers_refusals(tmp_path, capsys, lavadl_assets):
    d = lavadl_assets / "gts/pilotnet_sdnn"
    x = tmp_path / "x.npy"
    np.save(x, np.zeros((3, 33, 33, 2)))
    code, _, err = run(["simulate", str(d / "square_network.net"), "-i", str(x),
                        "--netx-skip-layers", "99", "-o", str(tmp_path / "r.npz")], capsys)
    assert code == 2
    assert "skip_layers=99" in err
    assert not (tmp_path / "r.npz").exists()


def test_pilotnet_sdnn_fields(lavadl_assets):
    g = read_netx(lavadl_assets / "gts/pilotnet_sdnn/network.net")
    ops = [g.nodes[f"layer{k}"].op for k in (0, 1, 6, 9)]
    assert ops == ["loihi.delta", "loihi.sigma_delta", "loihi.sigma_delta", "loihi.sigma"]
    assert g.nodes["layer1"].vth == 13
    assert (g.nodes["layer1"].spike_exp, g.nodes["layer1"].state_exp) == (6, 6)
    assert g.nodes["layer1_syn"].num_message_bits == 16  # the Delta's payloads
    assert g.nodes["layer6_syn"].num_message_bits == 16  # through the flatten


def _tinynet(lavadl_assets):
    return lavadl_assets / "gts/tinynet_sdnn"


@pytest.mark.parametrize("backend", BACKENDS)
def test_tinynet_sdnn_input_block(tmp_path, capsys, lavadl_assets, backend):
    d = _tinynet(lavadl_assets)
    bias = np.load(d / "input_bias.npy")
    steps = 15
    x = (bias[..., None] * np.sin(2 * np.pi * np.arange(steps) / steps)).astype(int)
    net = write_net(tmp_path / "in.net", [
        {"type": "input", "shape": np.array([3, 16, 16]), "neuron": SDNN}])
    r = _simulate(tmp_path, capsys, net, x.transpose(2, 1, 0, 3), backend=backend)
    gt = np.load(d / "input.npy")
    assert np.abs(gt).sum() > 1e6
    np.testing.assert_array_equal(_wh(r["output"]), gt)


@pytest.mark.parametrize("backend", BACKENDS)
def test_tinynet_sdnn_conv_block(tmp_path, capsys, lavadl_assets, backend):
    """lava-dl runs this block for one step (the bias alone reaches the output then)."""
    d = _tinynet(lavadl_assets)
    k = np.load(d / "layer1_kernel.npy")  # Lava's (C_out, W, H, C_in)
    weight = k.transpose(0, 3, 2, 1)[:, :, ::-1, ::-1]  # slayer's (C_out, C_in, kH, kW)
    net = write_net(tmp_path / "c.net", [
        {"type": "input", "shape": np.array([3, 16, 16])},
        {"type": "conv", "shape": np.array([24, 6, 6]), "weight": weight.astype(np.float32),
         "bias": np.load(d / "layer1_bias.npy"), "stride": np.array([2, 2]),
         "neuron": SDNN}])
    x = np.load(d / "input.npy").transpose(2, 1, 0, 3)
    r = _simulate(tmp_path, capsys, net, x, "--steps", "1", "--input-message-bits", "16",
                  backend=backend)
    gt = np.load(d / "layer1.npy")
    assert np.abs(gt[..., 0]).sum() > 1e5
    np.testing.assert_array_equal(_wh(r["output"])[..., 0], gt[..., 0])


@pytest.mark.parametrize("backend", BACKENDS)
def test_tinynet_sdnn_dense_sigma_block(tmp_path, capsys, lavadl_assets, backend):
    d = _tinynet(lavadl_assets)
    w = np.load(d / "layer2_weight.npy")
    net = write_net(tmp_path / "s.net", [
        {"type": "input", "shape": np.array([864])},
        {"type": "dense", "shape": np.array([100]), "weight": w.astype(np.float32),
         "neuron": {"type": "SDNN", "sigma_output": True, "vThMant": 0}}])
    x = np.load(d / "layer1.npy").reshape(-1, 16)  # Lava's (W, H, C) flattening, as the block test
    r = _simulate(tmp_path, capsys, net, x, backend=backend)
    gt = np.load(d / "layer2.npy")
    assert np.abs(gt).sum() > 1e5
    np.testing.assert_array_equal(r["output"], gt)


def test_loihi_sim_refuses_sigma_delta_on_loihi1(tmp_path, capsys, lavadl_assets):
    d = lavadl_assets / "gts/pilotnet_sdnn"
    x = tmp_path / "x.npy"
    np.save(x, np.zeros((3, 33, 100, 2)))
    code, _, err = run(["simulate", str(d / "network.net"), "-i", str(x), "--chip", "loihi1",
                        "-o", str(tmp_path / "r.npz")], capsys)
    assert code == 2
    assert "layer 'layer0' (loihi.delta)" in err
    assert "--chip loihi2" in err
    assert not (tmp_path / "r.npz").exists()
