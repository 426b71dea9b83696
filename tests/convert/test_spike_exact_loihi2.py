"""A converted SNN on loihi-sim (Loihi 2) spikes exactly as snnc's float reference SNN does, when
its parameters are representable: a small CNN with dyadic weights and biases, on digit-like
inputs (multiples of 1/16), converted by max-norm (v0 = 0), with OPI (v0 = theta/2) and with
QCFS activations whose clip value is a power of two, from PyTorch and from an ONNX file
exported by ``torch.onnx.export`` (converted with ``snnc convert``). The analog input reaches
the chip as ``x * 2**k`` (a power-of-two input scale), so nothing on the way is rounded."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from torch import nn  # noqa: E402

from snnc.api import compile as compile_model  # noqa: E402
from snnc.api import load  # noqa: E402
from snnc.convert import convert  # noqa: E402
from snnc.frontend.torch import trace  # noqa: E402
from snnc.passes.qinputs import encode_inputs  # noqa: E402
from snnc.simulators.event import simulate as chip_simulate  # noqa: E402
from snnc.simulators.reference import simulate  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.torch]
T = 16


def _qcfs_class():
    spec = importlib.util.spec_from_file_location("convert_digits",
                                                  REPO / "examples" / "convert_digits.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.QCFS


def dyadic_cnn(act: str = "relu") -> nn.Module:
    """Conv weights in {-1/4, 0, 1/4}, linear weights in {-1/8, 0, 1/8}, biases in 1/16."""
    def activation() -> nn.Module:
        return nn.ReLU() if act == "relu" else _qcfs_class()(1.0, 4)

    gen = torch.Generator().manual_seed(0)
    m = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), activation(), nn.AvgPool2d(2),
                      nn.Flatten(), nn.Linear(64, 16), activation(), nn.Linear(16, 10))
    with torch.no_grad():
        for mod in m:
            if isinstance(mod, nn.Conv2d | nn.Linear):
                k = 4 if isinstance(mod, nn.Conv2d) else 8
                mod.weight.copy_(torch.randint(-1, 2, mod.weight.shape, generator=gen) / k)
                mod.bias.copy_(torch.randint(-1, 2, mod.bias.shape, generator=gen) / 16)
    return m.eval()


def digit_like(n: int, seed: int) -> np.ndarray:
    x = np.random.default_rng(seed).integers(0, 17, (n, 1, 8, 8)) / 16.0
    x[0, 0, 0, 0] = 1.0  # the calibration maximum, so the input scale is 2**7
    return x


def assert_spike_exact(snn, x_cal: np.ndarray, x_test: np.ndarray) -> dict[str, int]:
    """Compile ``snn`` for Loihi 2, run it on loihi-sim and compare every converted layer's
    spikes with the float SNN's in snnc's reference simulator; returns spikes per layer."""
    res = compile_model(snn, target="loihi-sim", chip="loihi2",
                        calibration=np.broadcast_to(x_cal, (T, *x_cal.shape)).copy())
    prog = res.program
    meta = prog.graph.metadata
    assert meta["loihi.inputs"]["input"]["scale"] == 128.0  # 2**7: max 1.0 in 8 bits
    neurons = [n for n, v in snn.nodes.items() if v.op == "if"]
    assert len(neurons) == 2
    for n in neurons:  # every parameter on the chip's grid: the quantizer says exact
        assert meta["loihi.layers"][n]["exact"] is True, (n, meta["loihi.layers"][n])
    stim = np.broadcast_to(x_test, (T, *x_test.shape)).copy()
    ref = simulate(snn, stim, T, [f"{n}.s" for n in neurons]).probes
    lat = dict(meta["loihi.latency"])
    chip = chip_simulate(prog, encode_inputs(prog.graph, {"input": stim}), T + max(lat.values()),
                         [f"{n}.s" for n in neurons]).probes
    counts = {}
    for n in neurons:
        got = chip[f"{n}.s"][lat[n]:lat[n] + T]
        want = ref[f"{n}.s"]
        assert got.shape == want.shape
        assert 0 < want.sum() < want.size  # neither silent nor saturated
        assert np.array_equal(got != 0, want != 0), n
        counts[n] = int(want.sum())
    return counts


@pytest.mark.parametrize("opi", [False, True], ids=["max-norm", "opi"])
def test_pytorch_cnn_converted_is_spike_exact_on_loihi2(opi):
    m = dyadic_cnn().double()
    x_cal, x_test = digit_like(64, 0), digit_like(24, 1)
    conv = convert(trace(m, (1, 8, 8)), x_cal, mode="max", opi=opi)
    assert [float(lay.v_init) for lay in conv.layers] == [0.5 * opi] * 2
    assert_spike_exact(conv.snn, x_cal, x_test)


def test_qcfs_cnn_converted_is_spike_exact_on_loihi2():
    m = dyadic_cnn("qcfs").double()
    x_cal, x_test = digit_like(64, 0), digit_like(24, 2)
    conv = convert(trace(m, (1, 8, 8)), None)
    assert [lay.op for lay in conv.layers] == ["qcfs", "qcfs"]
    assert [float(lay.threshold) for lay in conv.layers] == [1.0, 1.0]
    assert_spike_exact(conv.snn, x_cal, x_test)


@pytest.mark.parametrize("act", ["relu", "qcfs"])
def test_onnx_export_converted_by_the_cli_is_spike_exact_on_loihi2(act, tmp_path):
    pytest.importorskip("onnx")
    m = dyadic_cnn(act)  # float32, as people export
    path = tmp_path / "cnn.onnx"
    torch.onnx.export(m, (torch.zeros(1, 1, 8, 8),), path, input_names=["x"], dynamo=False,
                      dynamic_axes={"x": {0: "batch"}})
    x_cal, x_test = digit_like(64, 0), digit_like(24, 3)
    np.savez(tmp_path / "calib.npz", x=x_cal.astype(np.float32))
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = tmp_path / "conv"
    run = subprocess.run([sys.executable, "-m", "snnc", "convert", str(path), "--calibration",
                          str(tmp_path / "calib.npz"), "--opi", "-o", str(out)],
                         capture_output=True, text=True, env=env, timeout=600)
    assert run.returncode == 0, run.stderr
    snn = load(out / "snn.snnc")
    if act == "relu":  # the ONNX graph's thresholds are the PyTorch model's
        want = convert(trace(m.double(), (1, 8, 8)), x_cal, mode="max", opi=True).layers
        got = [v for v in snn.nodes.values() if v.op == "if"]
        assert [float(n.threshold) for n in got] == [float(lay.threshold) for lay in want]
    assert_spike_exact(snn, x_cal, x_test)


def helper_onnx(m: nn.Module, path: Path) -> None:
    """The ReLU ``dyadic_cnn`` written node by node with ``onnx.helper`` (not by torch)."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper, numpy_helper

    def init(name, a):
        return numpy_helper.from_array(np.asarray(a, np.float32), name)

    sd = {k: v.detach().numpy() for k, v in m.state_dict().items()}
    inits = [init("cw", sd["0.weight"]), init("cb", sd["0.bias"]), init("w1", sd["4.weight"]),
             init("b1", sd["4.bias"]), init("w2", sd["6.weight"]), init("b2", sd["6.bias"])]
    nodes = [helper.make_node("Conv", ["x", "cw", "cb"], ["c"], name="conv", pads=[1, 1, 1, 1],
                              kernel_shape=[3, 3]),
             helper.make_node("Relu", ["c"], ["r"], name="relu"),
             helper.make_node("AveragePool", ["r"], ["p"], name="pool", kernel_shape=[2, 2],
                              strides=[2, 2]),
             helper.make_node("Flatten", ["p"], ["f"], name="flat", axis=1),
             helper.make_node("Gemm", ["f", "w1", "b1"], ["h"], name="fc1", transB=1),
             helper.make_node("Relu", ["h"], ["hr"], name="relu1"),
             helper.make_node("Gemm", ["hr", "w2", "b2"], ["y"], name="fc2", transB=1)]
    graph = helper.make_graph(nodes, "dyadic_cnn",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT,
                                                             ["N", 1, 8, 8])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 10])],
                              inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 10
    onnx.checker.check_model(model)
    onnx.save(model, path)


def test_onnx_helper_file_converted_is_spike_exact_on_loihi2(tmp_path):
    m = dyadic_cnn()
    path = tmp_path / "hand.onnx"
    helper_onnx(m, path)
    x_cal, x_test = digit_like(64, 0), digit_like(24, 4)
    conv = convert(load(path), x_cal, mode="max")
    want = convert(trace(m.double(), (1, 8, 8)), x_cal, mode="max")
    assert [float(a.threshold) for a in conv.layers] == [float(b.threshold) for b in want.layers]
    assert_spike_exact(conv.snn, x_cal, x_test)


@pytest.mark.parametrize("method", ["srp", "cos"])
def test_srp_and_cos_two_phase_runs_are_exact_in_the_chips_arithmetic(method):
    """The host-driven pre-run on the lowered graph (fixed point) finds the same SRP masks and
    COS initial potentials as the float SNN's, in the chip's units, and the runs proper then
    classify identically; plain, the same path agrees with loihi-sim's readout."""
    from snnc.convert.chip import converted_neurons, scores, two_phase_kernels
    from snnc.convert.runtime import run, two_phase

    m = dyadic_cnn().double()
    x_cal, x = digit_like(64, 0), digit_like(24, 5)
    conv = convert(trace(m, (1, 8, 8)), x_cal, mode="max")
    res = compile_model(conv.snn, target="loihi-sim", chip="loihi2",
                        calibration=np.broadcast_to(x_cal, (T, *x_cal.shape)).copy())
    low = res.program.graph
    neurons = converted_neurons(low)
    assert neurons == [lay.name for lay in conv.layers]
    chip_x = encode_inputs(low, {"input": x[None]})["input"][0]
    thr = {n: np.asarray(conv.snn.nodes[n].threshold, np.float64) for n in neurons}
    want = two_phase(conv.snn, {"input": x}, len(x), method, 4, thr, dict.fromkeys(neurons, 0))
    got = two_phase_kernels(low, chip_x, method, 4)
    for n in neurons:
        units = (int(low.nodes[n].vth) << 6) / thr[n]  # chip v per unit of float v
        if method == "srp":
            assert 0 < want[n].mask.mean() < 1
            assert np.array_equal(got[n].mask, want[n].mask)
        else:
            assert np.any(want[n].v0 != thr[n] / 2)  # COS moved some potentials
            assert np.array_equal(got[n].v0, want[n].v0 * units)
    chip, ref = scores(low, chip_x, 8, method, 4), run(conv.snn, x, 8, method, 4)
    agree = (chip.argmax(-1) == ref.reshape(8, len(x), -1).argmax(-1)).mean()
    assert agree >= 0.95  # only the readout layer's weights are rounded
    plain = scores(low, chip_x, T)
    ev = chip_simulate(res.program, encode_inputs(low, {"input": np.broadcast_to(
        x, (T, *x.shape))}), T + 3, ["6_readout.v"]).probes["6_readout.v"][3:]
    scale = low.metadata["loihi.readout"]["output"]["scale"]
    np.testing.assert_array_equal(plain, np.cumsum(ev.reshape(T, len(x), -1) * scale, axis=0))
