"""The netx reader's options on the command line, and ntidigits whole through ``snnc simulate``.

Ground truth: lava-dl's ``gts/ntidigits`` (sink j == recording j + 1, loihi.md §4.4) and
``gts/pilotnet_lif``'s input spikes (the bias-driven input layer, recorded on Loihi 2).
"""

from __future__ import annotations

import numpy as np
import pytest

from snnc.frontend.netx import average_readout, read_netx
from tests.cli_run import run
from tests.frontend.test_netx import LOIHI, write_net


def _two_layer(tmp_path):
    layers = [
        {"type": "input", "shape": np.array([4])},
        {"type": "dense", "shape": np.array([4]), "weight": np.eye(4, dtype=np.float32) * 60,
         "neuron": LOIHI},
        {"type": "dense", "shape": np.array([2]), "weight": np.ones((2, 4), np.float32) * 40,
         "neuron": LOIHI},
        {"type": "average", "shape": np.array([1])},
    ]
    return write_net(tmp_path / "n.net", layers)


def test_average_block_is_the_group_mean_readout(tmp_path):
    g = read_netx(_two_layer(tmp_path))
    assert g.metadata["netx"]["average"] == {"layer": 3, "groups": 1}
    out = np.array([[[1, 0]], [[1, 1]], [[0, 0]]])  # (T, B, 2)
    np.testing.assert_array_equal(average_readout(g, out)[:, 0, 0], [0.5, 1.0, 0.0])
    assert average_readout(read_netx(_two_layer(tmp_path), num_layers=3), out) is None


def test_netx_options_on_inspect_and_compile(tmp_path, capsys):
    net = _two_layer(tmp_path)
    code, out, _ = run(["inspect", str(net), "--netx-layers", "2"], capsys)
    assert code == 0
    assert "layer1" in out
    assert "layer2" not in out
    code, out, _ = run(["inspect", str(net), "--reset-interval", "8", "--text"], capsys)
    assert code == 0
    assert "reset_interval=8" in out
    assert "reset_offset=2" in out
    code, _, err = run(["compile", str(net), "-o", str(tmp_path / "o"), "--netx-layers", "2",
                        "-q"], capsys)
    assert code == 0, err


@pytest.mark.parametrize(("args", "message"), [
    (["--netx-layers", "0"], "0 is not in the range"),
    (["--netx-layers", "10000000"], "is not in the range"),
    (["--reset-offset", "3"], "--reset-offset needs --reset-interval"),
    (["--reset-interval", "-1"], "is not in the range"),
])
def test_bad_netx_options_are_one_paragraph_errors(tmp_path, capsys, args, message):
    code, _, err = run(["inspect", str(_two_layer(tmp_path)), *args], capsys)
    assert code == 2
    assert message in err
    assert "Traceback" not in err


def test_netx_options_refused_for_other_models(tmp_path, capsys):
    p = tmp_path / "m.snnc"
    p.write_text("x")
    code, _, err = run(["inspect", str(p), "--netx-layers", "2"], capsys)
    assert code == 2
    assert "lava-dl .net files only" in err


def test_input_bias_shape_is_checked(tmp_path, capsys, lavadl_assets):
    bad = tmp_path / "b.npy"
    np.save(bad, np.ones((5, 5), np.int64))
    net = lavadl_assets / "gts/pilotnet_lif/network.net"
    code, _, err = run(["inspect", str(net), "--input-bias", str(bad)], capsys)
    assert code == 2
    assert "(W, H, C)" in err
    assert "Traceback" not in err


def test_ntidigits_whole_through_snnc_simulate(tmp_path, capsys, lavadl_assets):
    """The whole file (average block included), no Python: output == ground truth (j <-> j+1)
    over the first 300 steps, and ``average`` is the group mean of that output."""
    d = lavadl_assets / "gts/ntidigits"
    x = tmp_path / "x.npy"
    np.save(x, np.load(d / "input.npy")[:, :300])
    code, _, err = run(["simulate", str(d / "ntidigits.net"), "-i", str(x), "-q",
                        "-o", str(tmp_path / "r.npz")], capsys)
    assert code == 0, err
    r = np.load(tmp_path / "r.npz")
    want = np.load(d / "output.npy")[:, :300]
    assert want.sum() > 5000
    np.testing.assert_array_equal(r["output"][:, :-1], want[:, 1:])
    np.testing.assert_allclose(r["average"], r["output"].reshape(11, 22, -1).mean(axis=1))


def test_pilotnet_input_bias_from_the_command_line(tmp_path, capsys, lavadl_assets):
    """lava-dl's PilotNet drive: --input-bias image.npy (netx's W, H, C order), no --input;
    the input layer's spikes equal the Loihi 2 recording through step 16 (fixed_pt: from step
    17 the chip's input repeats with period 17, Lava's with period 16) and lava-dl's recorded
    ``input-s`` at all 24 steps."""
    d = lavadl_assets / "gts/pilotnet_lif"
    code, _, err = run(["simulate", str(d / "network.net"), "--input-bias", str(d / "image.npy"),
                        "--netx-layers", "1", "--reset-interval", "16", "--steps", "24", "-q",
                        "-b", "reference", "-o", str(tmp_path / "r.npz")], capsys)
    assert code == 0, err
    out = np.load(tmp_path / "r.npz")["output"].transpose(2, 1, 0, 3)
    want = np.load(d / "input.npy")
    assert want.sum() > 1000
    np.testing.assert_array_equal(out[..., :17] != 0, want[..., :17])
    assert np.any((out[..., 17:] != 0) != want[..., 17:])
    np.testing.assert_array_equal(out, np.load(d / "input-s.npy"))
