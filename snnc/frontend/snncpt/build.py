"""The IR of a Sequential of snnc.nn modules, built without torch, equal to the torch.fx trace.

``build_graph(record, shape)`` walks the (possibly nested) Sequential read by ``unpickle`` and
adds, for each layer, the node the torch front end adds for it: ``Flatten`` -> ``flatten`` /
``reshape`` (or nothing), ``QuantLinear`` / ``BinaryLinear`` -> ``linear`` (``affine`` with a
bias), ``QuantConv2d`` / ``BinaryConv2d`` -> ``conv2d``, whose weight is the fake-quantised
weight computed here in numpy with torch's float32 operations in torch's order (then
``recognise_grid``, as ``quantgrid.weight_value``); ``LIF`` / ``IF`` -> ``lif`` / ``if`` with the
converter's parameter handling. Node names, edges, node order and metadata follow the tracer.

Where numpy might round differently from torch (a binary layer's float32 mean: without ``pow2``,
or with its alpha within a few ulps of the boundary where it rounds to another power), and for
anything not listed above, ``NotSnncModel`` is raised and the caller uses the torch loader.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from ...errors import IRError
from ...ir import IF, LIF, Affine, Conv2d, Flatten, Graph, Input, Linear, Output, Reshape, qtensor
from ...ir.qtensor import recognise_grid
from ...ir.staircase import fuse_staircases
from .unpickle import FLATTEN, SEQUENTIAL, ModuleRecord, NotSnncModel

MAX_BITS = 8  # quantgrid.MAX_BITS
_RESETS = ("hard", "subtract", "none")
_COMPARATORS = (">", ">=")


def build_graph(root: Any, input_shape: tuple[int, ...]) -> Graph:
    if not isinstance(root, ModuleRecord) or root.cls != SEQUENTIAL:
        raise NotSnncModel("not a Sequential")
    nodes: dict[str, Any] = {"input": Input(shape=tuple(input_shape))}
    edges: list[tuple[str, str]] = []
    port = ("input", tuple(input_shape))
    count = [0]
    port = _walk(root, "", port, nodes, edges, count)
    if count[0] == 0:
        raise NotSnncModel("no snnc.nn layer")
    nodes["output"] = Output(shape=port[1])
    edges.append((port[0], "output"))
    meta = {"source": "snnc.nn", "time_axis": "single-step"}
    return fuse_staircases(Graph(nodes, tuple(edges), None, meta))


def _walk(rec: ModuleRecord, path: str, port: tuple[str, tuple[int, ...]],
          nodes: dict[str, Any], edges: list, count: list[int]) -> tuple[str, tuple[int, ...]]:
    _check_plain(rec)
    if rec.cls == SEQUENTIAL:
        if rec.state.get("_parameters") or rec.state.get("_buffers"):
            raise NotSnncModel("a Sequential with its own tensors")
        for name, child in rec.state["_modules"].items():
            if not isinstance(child, ModuleRecord):
                raise NotSnncModel("a Sequential with a non-module entry")
            port = _walk(child, f"{path}.{name}" if path else str(name), port, nodes, edges,
                         count)
        return port
    if rec.cls == FLATTEN:
        node = _flatten(rec, port[1])
        if node is None:
            return port
    else:
        count[0] += 1
        if rec.cls.endswith("Conv2d"):
            node = _conv(rec, port[1])
        elif rec.cls.startswith("snnc.nn.quant."):
            node = _linear(rec, port[1])
        else:
            node = _neuron(rec, port[1])
    name = _fresh(nodes, path)
    nodes[name] = node
    edges.append((port[0], name))
    return name, tuple(node.out_shape)


def _check_plain(rec: ModuleRecord) -> None:
    """No hooks, the dicts every nn.Module has, nothing that changes what forward does."""
    st = rec.state
    for key in ("_parameters", "_buffers", "_modules"):
        if not isinstance(st.get(key), dict):
            raise NotSnncModel(f"{rec.cls} without {key}")
    for key, value in st.items():
        if "hook" in key and value not in (None, False) and len(value):
            raise NotSnncModel(f"{rec.cls} with {key}")
    if rec.cls != SEQUENTIAL and st["_modules"]:
        raise NotSnncModel(f"{rec.cls} with submodules")


def _fresh(nodes: dict[str, Any], base: str) -> str:
    base = re.sub(r"[^A-Za-z0-9_.]", "_", base) or "node"  # context.sanitize
    if base not in nodes:
        return base
    i = 1
    while f"{base}_{i}" in nodes:
        i += 1
    return f"{base}_{i}"


def _tensor(rec: ModuleRecord, name: str) -> np.ndarray | None:
    for where in ("_parameters", "_buffers"):
        if name in rec.state[where]:
            v = rec.state[where][name]
            if v is not None and not isinstance(v, np.ndarray):
                raise NotSnncModel(f"{rec.cls}.{name} is not a tensor")
            return v
    return None


def _float(a: np.ndarray | None, what: str) -> np.ndarray:
    if a is None or a.dtype != np.float32:  # torch traces with a float32 input
        raise NotSnncModel(f"{what} is not a float32 tensor")
    return a


# ---- QuantLinear / BinaryLinear: snnc.nn.quant's forward in numpy ----

def _pow2(x: np.ndarray, mode: str) -> np.ndarray:
    """``snnc.nn.quant._pow2`` (2^ceil|round(log2 x), from the binary exponent) in numpy.

    The uniform scale ``max |w| / qmax`` is one correctly rounded float32 division, the same in
    torch; a binary layer's alpha is a mean, whose float32 order may differ from torch's by an
    ulp: such a layer is refused when its alpha lies within 8 ulps of the 2^-1/2 boundary where
    round changes power."""
    if not np.all(np.isfinite(x)) or np.any(x <= 0):
        raise NotSnncModel("a scale that is not a positive finite number")
    m, e = np.frexp(x)
    if mode == "ceil":
        below = m == 0.5
    else:
        m64 = m.astype(np.float64)
        if np.any(np.abs(m64 - np.sqrt(0.5)) <= 8 * np.spacing(np.float32(0.7)).astype(np.float64)):
            raise NotSnncModel("a binary scale at the power-of-two rounding boundary")
        below = m64 * m64 < 0.5
    k = e.astype(np.int64) - below
    bias, shift, ity = (127, 23, np.int32) if x.dtype == np.float32 else (1023, 52, np.int64)
    return (np.clip(k + bias, 1, 2 * bias) << shift).astype(ity).view(x.dtype)


def _settings(rec: ModuleRecord) -> tuple[int, bool, bool, int, np.ndarray]:
    st = rec.state
    bits, per_channel, pow2, bias_bits = (st.get(k) for k in
                                          ("bits", "per_channel", "pow2", "bias_bits"))
    if not (isinstance(bits, int) and isinstance(bias_bits, int) and isinstance(pow2, bool)
            and isinstance(per_channel, bool)) or bits < 1:
        raise NotSnncModel("quantiser settings of an unexpected type")
    w = _float(_tensor(rec, "weight"), "weight")
    if w.ndim != (4 if rec.cls.endswith("Conv2d") else 2):
        raise NotSnncModel("a weight of an unexpected rank")
    return bits, per_channel, pow2, bias_bits, w


def _uniform_scale(w: np.ndarray, bits: int, per_channel: bool, pow2: bool) -> np.ndarray:
    """``uniform_scale``: max |w| per row (or of the tensor) in blocks of rows (a maximum does not
    depend on the order), / qmax in float32, rounded up to 2^k."""
    f = w.dtype.type
    rows = w.reshape(w.shape[0], -1)
    step = max(1, ROW_BLOCK // max(1, rows.shape[1]))
    m = np.concatenate([np.abs(rows[a:a + step]).max(axis=1)
                        for a in range(0, rows.shape[0], step)])
    m = m.reshape((-1,) + (1,) * (w.ndim - 1)) if per_channel else \
        m.max().reshape((1,) * w.ndim)
    s = np.maximum(m, f(1e-8)) / f(2 ** (bits - 1) - 1)
    return _pow2(s, "ceil") if pow2 else s


def _fake_uniform_rows(w: np.ndarray, s: np.ndarray, bits: int, a: int, b: int) -> np.ndarray:
    """Rows a..b-1 of ``w + (clip(round(w / s)) * s - w)`` in float32 (``_fake_uniform``)."""
    f = w.dtype.type
    wr = w[a:b]
    sr = s[a:b] if s.shape[0] > 1 else s
    mant = np.clip(np.round(wr / sr), -(2 ** (bits - 1)), 2 ** (bits - 1) - 1).astype(f)
    return wr + (mant * sr - wr)


def quant_params(rec: ModuleRecord) -> tuple[np.ndarray, np.ndarray | None]:
    """(fake-quantised weight, quantised bias or None), as ``_QuantMixin.quant_params``."""
    bits, per_channel, pow2, bias_bits, w = _settings(rec)
    f = w.dtype.type
    dims = tuple(range(1, w.ndim)) if per_channel else tuple(range(w.ndim))
    if bits == 1:
        if not pow2:
            raise NotSnncModel("a binary scale without pow2 (float32 mean order)")
        alpha = np.mean(np.abs(w).astype(np.float64), axis=dims, keepdims=True)
        alpha = np.maximum(alpha, 1e-8).astype(w.dtype)
        s = _pow2(alpha, "round")
        sign = np.where(w >= 0, f(1), f(-1))
        w_q = w + (sign * s - w)
    else:
        s = _uniform_scale(w, bits, per_channel, pow2)
        w_q = _fake_uniform_rows(w, s, bits, 0, w.shape[0])
    return w_q, _bias(rec, s, per_channel, bias_bits)


def _bias(rec: ModuleRecord, s: np.ndarray, per_channel: bool,
          bias_bits: int) -> np.ndarray | None:
    b = _tensor(rec, "bias")
    if b is None:
        return None
    b = _float(b, "bias")
    sb = s.reshape(-1) if per_channel else s.reshape(())
    lim = 2.0 ** (bias_bits - 1)
    q = (np.clip(np.round(b / sb), -lim, lim - 1).astype(b.dtype) * sb).astype(b.dtype)
    return b + (q - b)


ROW_BLOCK = 2**18  # elements per block of rows for large weights


def _weight(w_q: np.ndarray) -> Any:
    """quantgrid.weight_value: the grid it lies on (a QTensor), else float64."""
    w64 = np.asarray(w_q, dtype=np.float64)
    q = recognise_grid(w64, max_bits=MAX_BITS, channel_axis=0)
    return w64 if q is None else q


def _params(rec: ModuleRecord) -> tuple[Any, np.ndarray | None]:
    """(the weight as ``_weight`` gives it, the quantised bias or None). A large k-bit weight
    (``qtensor.LARGE`` elements or more) is fake-quantised and recognised block by block of
    rows, never as a whole float32 or float64 copy: the same floats element by element, so the
    same QTensor (tests/frontend/test_snncpt_blocks.py)."""
    bits, per_channel, pow2, bias_bits, w = _settings(rec)
    if bits == 1 or w.size < qtensor.LARGE:
        w_q, b_q = quant_params(rec)
        return _weight(w_q), b_q
    s = _uniform_scale(w, bits, per_channel, pow2)
    rows = w.shape[0]

    def rows_of(a: int, b: int) -> np.ndarray:
        return _fake_uniform_rows(w, s, bits, a, b).reshape(b - a, -1).astype(np.float64)

    q = qtensor.recognise_grid_rows(rows_of, rows, w.shape[1:], MAX_BITS)
    if q is NotImplemented:
        q = _weight(_fake_uniform_rows(w, s, bits, 0, rows))
    elif q is None:
        q = np.asarray(_fake_uniform_rows(w, s, bits, 0, rows), dtype=np.float64)
    return q, _bias(rec, s, per_channel, bias_bits)


def _linear(rec: ModuleRecord, shape: tuple[int, ...]) -> Any:
    w, b_q = _params(rec)
    if len(shape) != 1 or w.shape[1] != shape[0]:
        raise NotSnncModel("a linear layer that does not fit its input")
    if b_q is None:
        return Linear(weight=w)
    return Affine(weight=w, bias=np.asarray(b_q, dtype=np.float64))


def _pair(v: Any) -> tuple[int, int]:
    t = tuple(v) if isinstance(v, tuple | list) else (v, v)
    if len(t) != 2 or any(type(x) is not int for x in t):
        raise NotSnncModel("a conv setting that is not a pair of integers")
    return t  # type: ignore[return-value]


def _conv(rec: ModuleRecord, shape: tuple[int, ...]) -> Any:
    """converters/torch_nn.conv for ``F.conv2d(x, w_q, b_q, stride, padding, dilation, groups)``."""
    w, b_q = _params(rec)
    w_q = w
    st = rec.state
    groups, padding = st.get("groups"), st.get("padding")
    if len(shape) != 3 or type(groups) is not int or groups < 1 or \
            w_q.shape[1] * groups != shape[0] or w_q.shape[0] % groups:
        raise NotSnncModel("a conv layer that does not fit its input")
    k, dil = tuple(int(d) for d in w_q.shape[2:]), _pair(st.get("dilation"))
    if padding == "valid":
        padding = (0, 0)
    elif padding == "same":
        if any((d * (kk - 1)) % 2 for d, kk in zip(dil, k, strict=True)):
            raise NotSnncModel("padding='same' with an even kernel")
        padding = tuple(d * (kk - 1) // 2 for d, kk in zip(dil, k, strict=True))
    try:
        return Conv2d(input_shape=shape, weight=w,
                      bias=0.0 if b_q is None else np.asarray(b_q, dtype=np.float64),
                      stride=_pair(st.get("stride")), padding=_pair(padding), dilation=dil,
                      groups=groups)
    except IRError:
        raise NotSnncModel("a conv layer the IR refuses") from None


# ---- nn.Flatten: converters/torch_nn.py (flatten_dims, reshape), one lead (batch) axis ----

def _flatten(rec: ModuleRecord, shape: tuple[int, ...]) -> Any:
    start, end = rec.state.get("start_dim"), rec.state.get("end_dim")
    if type(start) is not int or type(end) is not int:
        raise NotSnncModel("Flatten with non-integer dims")
    nd = len(shape) + 1
    s, e = start % nd, end % nd
    if s < 1:
        raise NotSnncModel("Flatten of the batch axis (the torch path reports it)")
    s, e = s - 1, e - 1
    out = (*shape[:s], int(np.prod(shape[s:e + 1])), *shape[e + 1:])
    if int(np.prod(out)) != int(np.prod(shape)):
        raise NotSnncModel("Flatten that changes the size")
    if out == shape:
        return None
    if len(out) == 1 and len(shape) > 1:
        return Flatten(input_shape=shape, start_dim=0, end_dim=-1)
    return Reshape(input_shape=shape, output_shape=out)


# ---- LIF / IF: converters/snnc_nn.py ----

def _param(value: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    arr = np.asarray(value, dtype=np.float64)
    while arr.ndim > len(shape) and arr.shape[0] == 1:
        arr = arr[0]
    try:
        np.broadcast_to(arr, shape)
    except ValueError:
        raise NotSnncModel("a neuron parameter that does not broadcast") from None
    return arr


def _neuron(rec: ModuleRecord, shape: tuple[int, ...]) -> Any:
    reset, comparator = rec.state.get("_reset"), rec.state.get("_comparator")
    if reset not in _RESETS or comparator not in _COMPARATORS:
        raise NotSnncModel("a neuron with an unknown reset or comparator")
    fields = {"threshold": _param(_float(_tensor(rec, "threshold"), "threshold"), shape),
              "comparator": comparator, "reset": reset}
    try:
        if rec.cls == "snnc.nn.neurons.IF":
            return IF(shape=shape, **fields)
        beta = _float(_tensor(rec, "beta"), "beta")
        return LIF(shape=shape, decay_v=_param(np.clip(beta, 0, 1), shape), **fields)
    except IRError:
        raise NotSnncModel("neuron parameters the IR refuses") from None
