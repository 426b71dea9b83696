"""ONNX operators, one converter each: ``fn(builder, node, inputs, attrs) -> outputs``.

Inputs are ``Port`` (input-dependent) or numpy arrays (constants). Layers need constant weights.
Shapes in ONNX include the batch axis 0; the IR's are per sample.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ...ir import (
    Add,
    Affine,
    AvgPool2d,
    BatchNorm,
    Clip,
    Conv1d,
    Conv2d,
    Flatten,
    Floor,
    Linear,
    MaxPool2d,
    ReLU,
    Reshape,
    Round,
    Scale,
    Shift,
)
from .build import BATCH, Builder, Port
from .shapes import SHAPE_OPS, fold_constant

OPS: dict[str, Callable[..., list[Any]]] = {}
CAT_LIMIT = 1 << 22


def op(*names: str) -> Callable[[Callable[..., list[Any]]], Callable[..., list[Any]]]:
    def deco(fn: Callable[..., list[Any]]) -> Callable[..., list[Any]]:
        for n in names:
            OPS[n] = fn
        return fn

    return deco


def supported() -> str:
    return ", ".join(sorted(OPS))


def _base(n: Any) -> str:
    return n.name or (n.output[0] if n.output else n.op_type)


def _pads(b: Builder, a: dict[str, Any], nd: int) -> tuple[int, ...]:
    if a.get("auto_pad", "NOTSET") not in ("NOTSET", "VALID"):
        b.fail(f"auto_pad={a['auto_pad']}", "explicit symmetric pads or VALID")
    pads = [int(p) for p in a.get("pads", [0] * 2 * nd)]
    if pads[:nd] != pads[nd:]:
        b.fail(f"asymmetric pads {pads}", "symmetric padding")
    return tuple(pads[:nd])


@op("Conv")
def _conv(b: Builder, n: Any, ins: list[Any], a: dict[str, Any]) -> list[Any]:
    x = b.port(ins[0])
    w = b.const(ins[1], "weight")
    nd = w.ndim - 2
    if nd not in (1, 2) or len(x.shape) != nd + 1:
        b.fail(f"{nd}-d convolution on per-sample shape {x.shape}", "Conv1d and Conv2d")
    bias = 0.0 if len(ins) < 3 or ins[2] is None else b.const(ins[2], "bias")
    cls = Conv1d if nd == 1 else Conv2d
    node = cls(input_shape=x.shape, weight=w, bias=bias,
               stride=tuple(int(s) for s in a.get("strides", [1] * nd)),
               padding=_pads(b, a, nd),
               dilation=tuple(int(d) for d in a.get("dilations", [1] * nd)),
               groups=int(a.get("group", 1)))
    return [b.add(_base(n), node, [x])]


@op("Gemm")
def _gemm(b: Builder, n: Any, ins: list[Any], a: dict[str, Any]) -> list[Any]:
    x = b.port(ins[0])
    if a.get("transA", 0) or len(x.shape) != 1:
        b.fail("Gemm with transA or a non-2-d input", "Gemm(x, W) on flattened features")
    w = b.const(ins[1], "weight").astype(np.float64) * float(a.get("alpha", 1.0))
    w = w if a.get("transB", 0) else w.T
    if len(ins) < 3 or ins[2] is None:
        return [b.add(_base(n), Linear(weight=w), [x])]
    c = b.const(ins[2], "bias") * float(a.get("beta", 1.0))
    bias = np.broadcast_to(np.asarray(c, dtype=np.float64).reshape(-1)[-w.shape[0]:]
                           if c.size != 1 else c, (w.shape[0],))
    return [b.add(_base(n), Affine(weight=w, bias=bias), [x])]


@op("MatMul")
def _matmul(b: Builder, n: Any, ins: list[Any], a: dict[str, Any]) -> list[Any]:
    x = b.port(ins[0])
    w = b.const(ins[1], "weight matrix")
    if w.ndim != 2 or len(x.shape) != 1 or w.shape[0] != x.shape[0]:
        b.fail(f"MatMul of per-sample {x.shape} by {w.shape}", "x @ W on flattened features")
    return [b.add(_base(n), Linear(weight=w.T), [x])]


@op("BatchNormalization")
def _bn(b: Builder, n: Any, ins: list[Any], a: dict[str, Any]) -> list[Any]:
    x = b.port(ins[0])
    if a.get("training_mode", 0):
        b.fail("batch norm in training mode", "an inference-mode export (model.eval())")
    scale, bias, mean, var = (b.const(v, "statistics").astype(np.float64) for v in ins[1:5])
    node = BatchNorm(shape=x.shape, mean=mean, var=var, weight=scale, bias=bias,
                     eps=float(a.get("epsilon", 1e-5)))
    return [b.add(_base(n), node, [x])]


@op("Relu")
def _relu(b: Builder, n: Any, ins: list[Any], a: dict[str, Any]) -> list[Any]:
    x = b.port(ins[0])
    return [b.add(_base(n), ReLU(shape=x.shape), [x])]


@op("Clip")
def _clip(b: Builder, n: Any, ins: list[Any], a: dict[str, Any]) -> list[Any]:
    x = b.port(ins[0])
    lo = ins[1] if len(ins) > 1 and ins[1] is not None else a.get("min", -np.inf)
    hi = ins[2] if len(ins) > 2 and ins[2] is not None else a.get("max", np.inf)
    lo, hi = (np.asarray(b.const(v, "clip bound"), dtype=np.float64) for v in (lo, hi))
    return [b.add(_base(n), Clip(shape=x.shape, lo=lo, hi=hi), [x])]


@op("Floor")
def _floor(b: Builder, n: Any, ins: list[Any], a: dict[str, Any]) -> list[Any]:
    if not isinstance(ins[0], Port):
        return [np.floor(ins[0])]
    return [b.add(_base(n), Floor(shape=ins[0].shape), [ins[0]])]


@op("Round")
def _round(b: Builder, n: Any, ins: list[Any], a: dict[str, Any]) -> list[Any]:
    if not isinstance(ins[0], Port):
        return [np.round(ins[0])]  # halves to even, as ONNX Round
    return [b.add(_base(n), Round(shape=ins[0].shape), [ins[0]])]


def _pool(b: Builder, n: Any, x: Port, a: dict[str, Any], cls: type) -> Port:
    if len(x.shape) != 3:
        b.fail(f"pooling on per-sample shape {x.shape}", "2-d pooling of (C, H, W)")
    if a.get("ceil_mode", 0) or any(int(d) != 1 for d in a.get("dilations", [1, 1])):
        b.fail("pooling with ceil_mode or dilations", "the defaults")
    k = tuple(int(v) for v in a["kernel_shape"])
    pads = _pads(b, a, 2)
    if cls is AvgPool2d and any(pads) and not a.get("count_include_pad", 0):
        b.fail("AveragePool with padding that is not counted (count_include_pad=0)",
               "count_include_pad=1 (PyTorch's default) or no padding")
    node = cls(input_shape=x.shape, kernel_size=k,
               stride=tuple(int(s) for s in a.get("strides", [1, 1])), padding=pads)
    return b.add(_base(n), node, [x])


@op("AveragePool")
def _avgpool(b: Builder, n: Any, ins: list[Any], a: dict[str, Any]) -> list[Any]:
    return [_pool(b, n, b.port(ins[0]), a, AvgPool2d)]


@op("MaxPool")
def _maxpool(b: Builder, n: Any, ins: list[Any], a: dict[str, Any]) -> list[Any]:
    if len(n.output) > 1 and n.output[1]:
        b.fail("MaxPool returning indices", "MaxPool without the Indices output")
    return [_pool(b, n, b.port(ins[0]), a, MaxPool2d)]


@op("GlobalAveragePool")
def _gap(b: Builder, n: Any, ins: list[Any], a: dict[str, Any]) -> list[Any]:
    x = b.port(ins[0])
    if len(x.shape) != 3:
        b.fail(f"global pooling on per-sample shape {x.shape}", "(C, H, W) inputs")
    hw = x.shape[1:]
    node = AvgPool2d(input_shape=x.shape, kernel_size=hw, stride=hw)
    return [b.add(_base(n), node, [x])]


def _reshape_to(b: Builder, n: Any, x: Port, out: tuple[int, ...]) -> Port:
    if out == x.shape:
        return x
    if len(out) == 1 and len(x.shape) > 1:
        return b.add(_base(n), Flatten(input_shape=x.shape), [x])
    return b.add(_base(n), Reshape(input_shape=x.shape, output_shape=out), [x])


@op("Flatten")
def _flatten(b: Builder, n: Any, ins: list[Any], a: dict[str, Any]) -> list[Any]:
    if not isinstance(ins[0], Port):
        return [fold_constant(b, n, ins, a)]
    x = ins[0]
    axis = int(a.get("axis", 1)) % (len(x.shape) + 1)
    if axis != 1 and int(np.prod(x.shape[:axis - 1])) != 1:
        b.fail(f"Flatten(axis={a.get('axis')}) merges the batch axis into the features",
               "Flatten(axis=1)")
    return [_reshape_to(b, n, x, (int(np.prod(x.shape)),))]


@op("Reshape")
def _reshape(b: Builder, n: Any, ins: list[Any], a: dict[str, Any]) -> list[Any]:
    if not isinstance(ins[0], Port):
        return [fold_constant(b, n, ins, a)]
    x = ins[0]
    target = [int(v) for v in b.const(ins[1], "target shape").reshape(-1)]
    if not target or not (target[0] in (BATCH, 0, -1) or target[0] == b.batch):
        b.fail(f"Reshape to {target} changes the batch axis",
               "reshapes that keep axis 0, e.g. x.view(x.size(0), -1)")
    rest = [x.shape[i] if v == 0 and not a.get("allowzero", 0) and i < len(x.shape) else v
            for i, v in enumerate(target[1:])]
    if target[0] == -1 and -1 in rest:
        b.fail(f"Reshape to {target} with two unknown dims", "one -1 at most")
    total = int(np.prod(x.shape))
    if -1 in rest:
        known = int(np.prod([v for v in rest if v != -1]))
        rest[rest.index(-1)] = total // known if known else 0
    if int(np.prod(rest)) != total or any(v <= 0 for v in rest):
        b.fail(f"Reshape of per-sample {x.shape} to {target}", "a reshape of the features")
    return [_reshape_to(b, n, x, tuple(rest))]


def _per_sample(b: Builder, x: Port, c: np.ndarray, what: str) -> np.ndarray:
    c = np.asarray(c, dtype=np.float64)
    while c.ndim > len(x.shape) and c.shape[0] == 1:
        c = c[0]
    if c.ndim > len(x.shape):
        b.fail(f"{what} a constant of shape {c.shape} that spans the batch axis",
               "per-sample constants")
    try:
        np.broadcast_shapes(c.shape, x.shape)
    except ValueError:
        b.fail(f"{what} a constant of shape {c.shape} that does not broadcast to {x.shape}")
    return c


def _add_ports(b: Builder, n: Any, x: Port, y: Port) -> Port:
    if x.shape != y.shape:
        b.fail(f"adds tensors of shapes {x.shape} and {y.shape}", "equal shapes")
    return b.add(_base(n), Add(shape=x.shape), [x, y])


@op("Add")
def _add(b: Builder, n: Any, ins: list[Any], a: dict[str, Any]) -> list[Any]:
    x, y = ins
    if isinstance(x, Port) and isinstance(y, Port):
        return [_add_ports(b, n, x, y)]
    if not isinstance(x, Port) and not isinstance(y, Port):
        return [fold_constant(b, n, ins, a)]
    (port, c), name = ((x, y), n.input[0]) if isinstance(x, Port) else ((y, x), n.input[1])
    c = _per_sample(b, port, c, "adds")
    prod = b.nodes[port.node]
    if (prod.op == "linear" and b.uses.get(name) == 1 and c.size in (1, port.shape[0])
            and not any(s == port.node for s, _ in b.edges)):
        bias = np.broadcast_to(c.reshape(-1), port.shape).astype(np.float64)
        b.nodes[port.node] = Affine(weight=prod.weight, bias=bias)  # MatMul + Add: a layer
        return [port]
    return [b.add(_base(n), Shift(shape=port.shape, offset=c), [port])]


def _scale(b: Builder, n: Any, x: Port, c: np.ndarray) -> Port:
    c = _per_sample(b, x, c, "multiplies by")
    if np.all(c == 1):
        return x
    return b.add(_base(n), Scale(shape=x.shape, scale=c), [x])


@op("Sub")
def _sub(b: Builder, n: Any, ins: list[Any], a: dict[str, Any]) -> list[Any]:
    x, y = ins
    if not isinstance(x, Port) and not isinstance(y, Port):
        return [fold_constant(b, n, ins, a)]
    if isinstance(x, Port) and isinstance(y, Port):
        return [_add_ports(b, n, x, _scale(b, n, y, np.float64(-1)))]
    if not isinstance(x, Port):
        b.fail("subtracts a tensor from a constant", "x - constant")
    c = _per_sample(b, x, y, "subtracts")
    return [b.add(_base(n), Shift(shape=x.shape, offset=-c), [x])]


@op("Mul")
def _mul(b: Builder, n: Any, ins: list[Any], a: dict[str, Any]) -> list[Any]:
    x, y = ins
    if isinstance(x, Port) and isinstance(y, Port):
        b.fail("multiplies two input-dependent tensors", "products with constants")
    if not isinstance(x, Port) and not isinstance(y, Port):
        return [fold_constant(b, n, ins, a)]
    port, c = (x, y) if isinstance(x, Port) else (y, x)
    return [_scale(b, n, port, c)]


@op("Div")
def _div(b: Builder, n: Any, ins: list[Any], a: dict[str, Any]) -> list[Any]:
    x, y = ins
    if not isinstance(x, Port) and not isinstance(y, Port):
        return [fold_constant(b, n, ins, a)]
    if isinstance(y, Port):
        b.fail("divides by an input-dependent tensor", "division by constants")
    return [_scale(b, n, x, 1.0 / np.asarray(y, dtype=np.float64))]


@op("Identity", "Dropout")
def _identity(b: Builder, n: Any, ins: list[Any], a: dict[str, Any]) -> list[Any]:
    return [ins[0]]


@op("Cast")
def _cast(b: Builder, n: Any, ins: list[Any], a: dict[str, Any]) -> list[Any]:
    if isinstance(ins[0], Port):
        return [ins[0]]  # casts between float types: the IR computes in float64
    return [fold_constant(b, n, ins, a)]


@op("Concat")
def _concat(b: Builder, n: Any, ins: list[Any], a: dict[str, Any]) -> list[Any]:
    if not any(isinstance(v, Port) for v in ins):
        return [fold_constant(b, n, ins, a)]
    xs = [b.port(v, "concatenated input") for v in ins]
    nd = len(xs[0].shape)
    dim = int(a["axis"]) % (nd + 1) - 1
    if dim < 0 or any(len(p.shape) != nd for p in xs):
        b.fail("Concat along the batch axis", "concatenation of features (axis >= 1)")
    out = list(xs[0].shape)
    out[dim] = sum(p.shape[dim] for p in xs)
    n_out = int(np.prod(out))
    if n_out * n_out > CAT_LIMIT:
        b.fail(f"Concat with {n_out} output values (snnc builds 0/1 selection matrices, "
               "limited to small tensors)", "smaller concatenations")
    index = np.arange(n_out).reshape(out)
    parts, start = [], 0
    for i, p in enumerate(xs):
        sl = [slice(None)] * nd
        sl[dim] = slice(start, start + p.shape[dim])
        start += p.shape[dim]
        sel = np.zeros((n_out, int(np.prod(p.shape))))
        sel[index[tuple(sl)].ravel(), np.arange(sel.shape[1])] = 1.0
        flat = _reshape_to(b, n, p, (sel.shape[1],))
        parts.append(b.add(f"{_base(n)}_sel{i}", Linear(weight=sel), [flat]))
    total = b.add(_base(n), Add(shape=(n_out,)), parts)
    return [_reshape_to(b, n, total, tuple(out))]


def _fold(b: Builder, n: Any, ins: list[Any], a: dict[str, Any]) -> list[Any]:
    return [fold_constant(b, n, ins, a)]


for _name in SHAPE_OPS:
    OPS.setdefault(_name, _fold)
