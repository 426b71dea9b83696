"""ONNX front end: files from torch.onnx.export (both exporters) and from onnx.helper, each
checked against onnxruntime's own forward; QCFS exports; bad files exit 2 and write nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
torch = pytest.importorskip("torch")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402
from torch import nn  # noqa: E402

from snnc.api import load  # noqa: E402
from snnc.errors import FormatError, UnsupportedOpError  # noqa: E402
from snnc.simulators.reference import simulate  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.torch, pytest.mark.requires("onnx", "onnxruntime", "onnxscript")]


def ort_forward(path, x: np.ndarray) -> np.ndarray:
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return sess.run(None, {sess.get_inputs()[0].name: x.astype(np.float32)})[0]


def snnc_forward(path, x: np.ndarray) -> np.ndarray:
    g = load(path)
    return simulate(g, x.astype(np.float64)[None]).outputs["output"][0]


class Cnn(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1, self.bn = nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4)
        self.pool, self.c2 = nn.AvgPool2d(2), nn.Conv2d(4, 6, 3, padding=1)
        self.mp, self.fc = nn.MaxPool2d(2), nn.Linear(24, 10)

    def forward(self, x):
        x = self.pool(torch.relu(self.bn(self.c1(x))))
        x = self.mp(torch.clamp(self.c2(x), 0, 2))
        return self.fc(x.view(x.size(0), -1))


@pytest.mark.parametrize("dynamo", [False, True])
def test_torch_onnx_export_matches_onnxruntime(tmp_path, dynamo):
    torch.manual_seed(0)
    m = Cnn().eval()
    m.bn.running_mean.uniform_(-1, 1)
    m.bn.running_var.uniform_(0.5, 2)
    path = tmp_path / "cnn.onnx"
    x0 = torch.randn(2, 1, 8, 8)
    if dynamo:
        batch = torch.export.Dim("batch")
        torch.onnx.export(m, (x0,), path, input_names=["x"], dynamo=True,
                          dynamic_shapes=({0: batch},))
    else:
        torch.onnx.export(m, (x0,), path, input_names=["x"], dynamo=False,
                          dynamic_axes={"x": {0: "batch"}})
    g = load(path)
    assert {"conv2d", "relu", "avgpool2d", "clip", "maxpool2d", "affine"} <= {
        v.op for v in g.nodes.values()}
    x = np.random.default_rng(0).normal(size=(7, 1, 8, 8)).astype(np.float32)
    np.testing.assert_allclose(snnc_forward(path, x), ort_forward(path, x), atol=1e-5)
    np.testing.assert_allclose(snnc_forward(path, x), m(torch.tensor(x)).detach().numpy(),
                               atol=1e-5)


def _init(name: str, arr: np.ndarray) -> TensorProto:
    return numpy_helper.from_array(np.asarray(arr), name)


def helper_model(rng: np.random.Generator) -> onnx.ModelProto:
    """A graph written by hand (no torch): every op family the front end reads."""
    f32 = lambda *s: rng.normal(size=s).astype(np.float32)  # noqa: E731
    inits = [
        _init("W1", f32(4, 2, 3, 3)), _init("B1", f32(4)),
        _init("bn_s", np.abs(f32(4)) + 0.5), _init("bn_b", f32(4)), _init("bn_m", f32(4)),
        _init("bn_v", np.abs(f32(4)) + 0.5), _init("lo", np.float32(0)),
        _init("hi", np.float32(1)), _init("W2", f32(8, 5)), _init("b2", f32(5)),
        _init("c_sub", f32(5)), _init("c_mul", np.float32(0.5)), _init("c_div", np.float32(4)),
        _init("minus1", np.array([-1], np.int64)), _init("W3", f32(3, 5)), _init("b3", f32(3)),
    ]
    nodes = [
        helper.make_node("Conv", ["x", "W1", "B1"], ["c1"], name="conv", pads=[1, 1, 1, 1]),
        helper.make_node("BatchNormalization", ["c1", "bn_s", "bn_b", "bn_m", "bn_v"], ["bn"],
                         name="bn", epsilon=1e-5),
        helper.make_node("Relu", ["bn"], ["r"], name="relu"),
        helper.make_node("Clip", ["c1", "lo", "hi"], ["cl"], name="clip"),
        helper.make_node("Concat", ["r", "cl"], ["cat"], name="cat", axis=1),
        helper.make_node("GlobalAveragePool", ["cat"], ["gap"], name="gap"),
        helper.make_node("Shape", ["gap"], ["shp"], name="shape"),
        helper.make_node("Gather", ["shp", "zero"], ["n"], name="gather", axis=0),
        helper.make_node("Unsqueeze", ["n", "axes0"], ["n1"], name="unsq"),
        helper.make_node("Concat", ["n1", "minus1"], ["tgt"], name="tgt", axis=0),
        helper.make_node("Reshape", ["gap", "tgt"], ["flat"], name="reshape"),
        helper.make_node("MatMul", ["flat", "W2"], ["mm"], name="mm"),
        helper.make_node("Add", ["mm", "b2"], ["fc"], name="fc_bias"),
        helper.make_node("Sub", ["fc", "c_sub"], ["s1"], name="sub"),
        helper.make_node("Mul", ["s1", "c_mul"], ["s2"], name="mul"),
        helper.make_node("Div", ["s2", "c_div"], ["s3"], name="div"),
        helper.make_node("Relu", ["s3"], ["r2"], name="relu2"),
        helper.make_node("Add", ["r2", "s3"], ["res"], name="residual"),
        helper.make_node("Gemm", ["res", "W3", "b3"], ["y"], name="head", transB=1, alpha=0.5),
    ]
    inits += [_init("zero", np.array(0, np.int64)), _init("axes0", np.array([0], np.int64))]
    graph = helper.make_graph(
        nodes, "handwritten",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 2, 6, 6])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 3])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                              producer_name="onnx.helper")
    model.ir_version = 10  # what onnxruntime 1.30 reads (onnx 1.23 writes 14 by default)
    onnx.checker.check_model(model)
    return model


def test_onnx_helper_model_matches_onnxruntime(tmp_path):
    path = tmp_path / "hand.onnx"
    onnx.save(helper_model(np.random.default_rng(1)), path)
    g = load(path)
    ops = [v.op for v in g.nodes.values()]
    assert ops.count("relu") == 2
    assert "clip" in ops
    assert "add" in ops
    assert "shift" in ops
    assert g.nodes["mm"].op == "affine"  # MatMul + Add is one layer
    x = np.random.default_rng(2).normal(size=(9, 2, 6, 6)).astype(np.float32)
    np.testing.assert_allclose(snnc_forward(path, x), ort_forward(path, x), atol=1e-5)


class GradFloor(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x.floor()

    @staticmethod
    def backward(ctx, g):
        return g


class QCFS(nn.Module):
    """The activation as Bu et al. (ICLR 2022) write it."""

    def __init__(self, up: float = 8.0, levels: int = 4):
        super().__init__()
        self.up = nn.Parameter(torch.tensor([up]))
        self.t = levels

    def forward(self, x):
        x = x / self.up
        x = torch.clamp(x, 0, 1)
        x = GradFloor.apply(x * self.t + 0.5) / self.t
        return x * self.up


def test_qcfs_export_becomes_one_qcfs_op(tmp_path):
    torch.manual_seed(0)
    m = nn.Sequential(nn.Linear(6, 8), QCFS(1.5, 4), nn.Linear(8, 3)).eval()
    path = tmp_path / "q.onnx"
    torch.onnx.export(m, (torch.zeros(1, 6),), path, dynamo=False, input_names=["x"])
    g = load(path)
    q = [v for v in g.nodes.values() if v.op == "qcfs"]
    assert len(q) == 1
    assert q[0].levels == 4
    assert float(q[0].threshold) == pytest.approx(1.5)
    assert float(q[0].offset) == 0.5
    assert "floor" not in [v.op for v in g.nodes.values()]
    x = np.random.default_rng(3).normal(size=(1, 6)).astype(np.float32) * 2
    np.testing.assert_allclose(snnc_forward(path, x), ort_forward(path, x), atol=1e-5)


def _compile(path, out, command="compile"):
    """The real command line, as users run it (exit status, stderr)."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "snnc", command, str(path), "-o", str(out)],
                          capture_output=True, text=True, env=env, timeout=300)


BOTH = pytest.mark.parametrize("command", ["compile", "convert"])


@BOTH
def test_truncated_file_exits_2_and_writes_nothing(tmp_path, command):
    good = tmp_path / "hand.onnx"
    onnx.save(helper_model(np.random.default_rng(1)), good)
    bad = tmp_path / "cut.onnx"
    bad.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    res = _compile(bad, tmp_path / "out", command)
    assert res.returncode == 2, res.stderr
    assert "cut.onnx" in res.stderr
    assert "truncated" in res.stderr
    assert "Traceback" not in res.stderr
    assert not (tmp_path / "out").exists()


@BOTH
def test_unknown_op_names_the_node(tmp_path, command):
    model = helper_model(np.random.default_rng(1))
    model.graph.node[2].op_type = "Softplus"
    path = tmp_path / "sp.onnx"
    onnx.save(model, path)
    with pytest.raises(UnsupportedOpError, match=r"node 'relu' \(Softplus\).*unsupported ONNX "
                                                 r"operator Softplus.*Supported instead: .*Conv"):
        load(path)
    res = _compile(path, tmp_path / "out", command)
    assert res.returncode == 2
    assert "node 'relu' (Softplus)" in res.stderr
    assert "Traceback" not in res.stderr
    assert not (tmp_path / "out").exists()


@BOTH
def test_dynamic_feature_dims_are_refused_unless_given(tmp_path, command):
    model = helper_model(np.random.default_rng(1))
    dims = model.graph.input[0].type.tensor_type.shape.dim
    dims[2].dim_param, dims[3].dim_param = "H", "W"
    path = tmp_path / "dyn.onnx"
    onnx.save(model, path)
    res = _compile(path, tmp_path / "out", command)
    assert res.returncode == 2
    assert "dynamic dimensions" in res.stderr
    assert "Traceback" not in res.stderr
    assert not (tmp_path / "out").exists()
    assert load(path, input_shape="2,6,6").nodes["input"].shape == (2, 6, 6)


def _with_external(model: onnx.ModelProto, location: str) -> onnx.ModelProto:
    for t in model.graph.initializer:
        if t.name == "W1":
            t.data_location = TensorProto.EXTERNAL
            del t.external_data[:]
            t.external_data.add(key="location", value=location)
            t.ClearField("raw_data")
            t.ClearField("float_data")
    return model


def test_external_data_inside_the_model_directory_loads(tmp_path):
    model = helper_model(np.random.default_rng(1))
    w1 = next(numpy_helper.to_array(t) for t in model.graph.initializer if t.name == "W1")
    (tmp_path / "weights.bin").write_bytes(w1.astype("<f4").tobytes())
    path = tmp_path / "ext.onnx"
    onnx.save(_with_external(model, "weights.bin"), path)
    x = np.random.default_rng(2).normal(size=(3, 2, 6, 6)).astype(np.float32)
    np.testing.assert_allclose(snnc_forward(path, x), ort_forward(path, x), atol=1e-5)


@pytest.mark.parametrize("location", ["../secret.bin", "/etc/hostname", "missing.bin"])
def test_external_data_outside_the_model_directory_is_refused(tmp_path, location):
    (tmp_path / "secret.bin").write_bytes(b"\0" * 4096)
    d = tmp_path / "m"
    d.mkdir()
    path = d / "ext.onnx"
    onnx.save(_with_external(helper_model(np.random.default_rng(1)), location), path)
    with pytest.raises(FormatError, match=r"external_data\.location"):
        load(path)
    res = _compile(path, tmp_path / "out")
    assert res.returncode == 2
    assert not (tmp_path / "out").exists()


def test_external_data_past_the_end_of_its_file_is_refused(tmp_path):
    (tmp_path / "short.bin").write_bytes(b"\0" * 8)
    path = tmp_path / "ext.onnx"
    onnx.save(_with_external(helper_model(np.random.default_rng(1)), "short.bin"), path)
    with pytest.raises(FormatError, match=r"runs past the end|cannot be read"):
        load(path)


def test_onnx_round_staircase_is_a_half_even_qcfs(tmp_path):
    """QSD-style multi-level spike exported to ONNX: Clip(0, 2) then Round (halves to even, as
    onnxruntime rounds) becomes qcfs(rounding="half_even"), equal to onnxruntime on ties."""
    inits = [_init("W", np.array([[[[0.5]]], [[[1.0]]]], np.float32)),
             _init("lo", np.float32(0)), _init("hi", np.float32(2))]
    nodes = [helper.make_node("Conv", ["x", "W"], ["c"], name="conv"),
             helper.make_node("Clip", ["c", "lo", "hi"], ["cl"], name="clip"),
             helper.make_node("Round", ["cl"], ["y"], name="round")]
    graph = helper.make_graph(
        nodes, "round", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 1, 2, 2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 2, 2, 2])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 10
    path = tmp_path / "round.onnx"
    onnx.save(model, path)
    g = load(path)
    q = [v for v in g.nodes.values() if v.op == "qcfs"]
    assert len(q) == 1
    assert q[0].rounding == "half_even"
    x = (np.arange(-4, 20) / 4).reshape(6, 1, 2, 2).astype(np.float32)  # halves included
    want = ort_forward(path, x)
    clipped = np.clip(np.concatenate([0.5 * x, x], axis=1), 0, 2)
    assert np.any(np.floor(clipped + 0.5) != want)  # ties rounded to even (0.5 -> 0) occur
    np.testing.assert_array_equal(snnc_forward(path, x), want)
