"""Per-op mapping between NIR nodes and snnc IR nodes, with an explicit time step ``dt``.

NIR neurons are continuous-time ODEs; snnc's are discrete (``ir/neurons.py``). Forward Euler
with step ``dt`` gives, for NIR's ``tau dv/dt = (v_leak - v) + r i`` and
``tau_syn di/dt = -i + w_in x``::

    decay_v = 1 - dt/tau      gain = dt*r/tau      bias = dt*v_leak/tau
    decay_i = 1 - dt/tau_syn  gain_i = dt*w_in/tau_syn          (CubaLI, CubaLIF)
    gain = dt*r  (I, IF: dv/dt = r i)         delay steps = round(delay/dt)   (Delay)

Export inverts these. A leak-free LI / LIF (decay_v == 1 everywhere) is written as NIR I / IF;
a decay of exactly 1 anywhere else has no finite NIR time constant and is refused. Ops without a
NIR primitive: ``add`` is written as a Scale of ones (NIR sums incoming edges), ``batchnorm`` as
the equivalent per-channel Affine / depthwise 1x1 Conv, a ``reshape`` that is a flatten as
Flatten; ``or``, ``maxpool2d``, other reshapes and ``loihi.*`` raise ``UnsupportedOpError``.
Importers return ``None`` while they need the input shape and it is not known yet.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..errors import FormatError, UnsupportedOpError
from . import neurons as nrn
from . import ops
from .node import Node, as_float

Shape = tuple[int, ...]
# NIR types whose parameters depend on dt
DT_TYPES = frozenset({"I", "IF", "LI", "LIF", "CubaLI", "CubaLIF", "Delay"})


def f64(value: Any) -> np.ndarray:
    return np.asarray(value, dtype=np.float64)


def full(value: Any, shape: Shape) -> np.ndarray:
    return np.array(np.broadcast_to(f64(value), shape), dtype=np.float64)


def compact(value: Any) -> np.ndarray:
    """A uniform array as a 0-d array, anything else unchanged."""
    arr = f64(value)
    if arr.ndim and arr.size and np.all(arr == arr.flat[0]):
        return np.asarray(arr.flat[0])
    return arr


def _shape(value: Any) -> Shape | None:
    if value is None:
        return None
    if not np.size(value):
        return ()
    return tuple(int(x) for x in np.atleast_1d(np.asarray(value)).tolist())


def _ints(value: Any, n: int) -> tuple[int, ...]:
    arr = np.atleast_1d(np.asarray(value)).astype(np.int64)
    return tuple(int(x) for x in np.broadcast_to(arr, (n,)))


# ---- export ----------------------------------------------------------------------------------


def export_node(name: str, node: Node, dt: float, nir: Any) -> Any:
    """The NIR node for ``node``; ``UnsupportedOpError`` naming the node when NIR cannot say it."""
    fn = _EXPORT.get(node.op)
    if fn is None:
        raise UnsupportedOpError(
            f"node {name!r}: NIR has no primitive for op {node.op!r}; export the graph before "
            "lowering and without or / maxpool2d, or save it as .snnc, which holds every op")
    return fn(name, node, dt, nir)


def _no_leak(name: str, node: Node, field: str) -> np.ndarray:
    """``1 - decay`` for a decay field; refuse a decay of exactly 1 (NIR's tau would be inf)."""
    one_minus = 1.0 - getattr(node, field)
    if np.any(one_minus == 0):
        raise UnsupportedOpError(
            f"node {name!r} ({node.op}): {field} = 1 (no leak) has no finite NIR time constant")
    return one_minus


def _neuron(name: str, node: Any, dt: float, nir: Any) -> Any:
    s = node.shape
    spike = {"v_threshold": full(node.threshold, s), "v_reset": full(node.v_reset, s)} \
        if node.spiking else {}
    if not node.leaky or (not node.current and np.all(node.decay_v == 1)):
        cls = nir.IF if node.spiking else nir.I
        return cls(r=full(node.gain / dt, s), **spike)
    k = _no_leak(name, node, "decay_v")
    mem = {"r": full(node.gain / k, s), "v_leak": full(node.bias / k, s)}
    if not node.current:
        cls = nir.LIF if node.spiking else nir.LI
        return cls(tau=full(dt / k, s), **mem, **spike)
    ki = _no_leak(name, node, "decay_i")
    cls = nir.CubaLIF if node.spiking else nir.CubaLI
    return cls(tau_mem=full(dt / k, s), tau_syn=full(dt / ki, s), w_in=full(node.gain_i / ki, s),
               **mem, **spike)


def _conv(name: str, node: Any, dt: float, nir: Any) -> Any:
    bias = full(node.bias, (node.out_shape[0],))
    if node.op == "conv1d":
        return nir.Conv1d(input_shape=node.input_shape[1], weight=as_float(node.weight),
                          stride=node.stride[0], padding=node.padding[0],
                          dilation=node.dilation[0], groups=node.groups, bias=bias)
    return nir.Conv2d(input_shape=node.input_shape[1:], weight=as_float(node.weight),
                      stride=node.stride, padding=node.padding, dilation=node.dilation,
                      groups=node.groups, bias=bias)


def _pool(name: str, node: Any, dt: float, nir: Any) -> Any:
    cls = nir.SumPool2d if node.op == "sumpool2d" else nir.AvgPool2d
    return cls(kernel_size=np.array(node.kernel_size), stride=np.array(node.stride),
               padding=np.array(node.padding))


def _flatten_dims(src: Shape, dst: Shape) -> tuple[int, int] | None:
    for s in range(len(src)):
        for e in range(s, len(src)):
            if (*src[:s], int(np.prod(src[s:e + 1])), *src[e + 1:]) == tuple(dst):
                return s, e
    return None


def _reshape(name: str, node: Any, dt: float, nir: Any) -> Any:
    dims = _flatten_dims(node.input_shape, node.output_shape)
    if dims is None:
        raise UnsupportedOpError(f"node {name!r}: reshape {node.input_shape} -> "
                                 f"{node.output_shape} is not a flatten, and NIR has no reshape")
    return nir.Flatten(input_type={"input": np.array(node.input_shape)}, start_dim=dims[0],
                       end_dim=dims[1])


def _batchnorm(name: str, node: Any, dt: float, nir: Any) -> Any:
    a, b = node.channel_affine()
    c = len(a)
    if len(node.shape) == 1:
        return nir.Affine(weight=np.diag(a), bias=b)
    if len(node.shape) == 2:
        return nir.Conv1d(input_shape=node.shape[1], weight=a.reshape(c, 1, 1), stride=1,
                          padding=0, dilation=1, groups=c, bias=b)
    return nir.Conv2d(input_shape=node.shape[1:], weight=a.reshape(c, 1, 1, 1), stride=(1, 1),
                      padding=(0, 0), dilation=(1, 1), groups=c, bias=b)


def _flatten(name: str, node: Any, dt: float, nir: Any) -> Any:
    s, e = node._dims()
    return nir.Flatten(input_type={"input": np.array(node.input_shape)}, start_dim=s, end_dim=e)


_EXPORT: dict[str, Callable[[str, Any, float, Any], Any]] = {
    "input": lambda _, n, dt, nir: nir.Input(input_type=np.array(n.shape, dtype=np.int64)),
    "output": lambda _, n, dt, nir: nir.Output(output_type=np.array(n.shape, dtype=np.int64)),
    "affine": lambda _, n, dt, nir: nir.Affine(weight=as_float(n.weight), bias=f64(n.bias)),
    "linear": lambda _, n, dt, nir: nir.Linear(weight=as_float(n.weight)),
    "scale": lambda _, n, dt, nir: nir.Scale(scale=full(n.scale, n.shape)),
    "add": lambda _, n, dt, nir: nir.Scale(scale=np.ones(n.shape)),
    "delay": lambda _, n, dt, nir: nir.Delay(delay=full(n.delay * dt, n.shape)),
    "threshold": lambda _, n, dt, nir: nir.Threshold(threshold=full(n.threshold, n.shape)),
    "conv1d": _conv, "conv2d": _conv, "sumpool2d": _pool, "avgpool2d": _pool,
    "flatten": _flatten, "reshape": _reshape, "batchnorm": _batchnorm,
    **{op: _neuron for op in ("i", "if", "li", "lif", "cubali", "cubalif")},
}


# ---- import ----------------------------------------------------------------------------------


def import_node(name: str, n: Any, in_shape: Shape | None, dt: float | None) -> Node | None:
    """The IR node for NIR node ``n`` (not NIRGraph), or ``None`` until ``in_shape`` is known."""
    kind = type(n).__name__
    fn = _IMPORT.get(kind)
    if fn is None:
        raise UnsupportedOpError(f"NIR node {name!r}: snnc does not support NIR type {kind!r}")
    if kind in DT_TYPES and dt is None:
        raise FormatError(f"NIR node {name!r} ({kind}) is continuous-time; give the time step "
                          "with --dt (Python: dt=)")
    return fn(n, in_shape, dt)


def _own_or(in_shape: Shape | None, own: Shape | None) -> Shape | None:
    return in_shape if in_shape is not None else (own or None)


def _import_neuron(n: Any, in_shape: Shape | None, dt: float) -> Node | None:
    kind = type(n).__name__
    shape = _own_or(in_shape, f64(n.r).shape)
    if shape is None:
        return None
    p: dict[str, Any] = {"shape": shape}
    if kind in ("IF", "LIF", "CubaLIF"):
        p |= {"threshold": compact(n.v_threshold), "v_reset": compact(
            n.v_reset if n.v_reset is not None else 0.0)}
    if kind in ("I", "IF"):
        integrator: type[nrn.NeuronBase] = nrn.I if kind == "I" else nrn.IF
        return integrator(gain=compact(dt * f64(n.r)), **p)
    tau = f64(n.tau if kind in ("LI", "LIF") else n.tau_mem)
    p |= {"decay_v": compact(1 - dt / tau), "gain": compact(dt * f64(n.r) / tau),
          "bias": compact(dt * f64(n.v_leak) / tau)}
    if kind in ("CubaLI", "CubaLIF"):
        tau_syn = f64(n.tau_syn)
        p |= {"decay_i": compact(1 - dt / tau_syn), "gain_i": compact(dt * f64(n.w_in) / tau_syn)}
    leaky: dict[str, type[Node]] = {"LI": nrn.LI, "LIF": nrn.LIF, "CubaLI": nrn.CubaLI,
                                     "CubaLIF": nrn.CubaLIF}
    return leaky[kind](**p)


def _pad(padding: Any, weight: np.ndarray, dilation: tuple[int, ...], nd: int) -> tuple[int, ...]:
    if isinstance(padding, str | bytes):
        mode = padding.decode() if isinstance(padding, bytes) else padding
        if mode == "valid":
            return (0,) * nd
        total = [d * (k - 1) for d, k in zip(dilation, weight.shape[2:], strict=True)]
        if any(t % 2 for t in total):
            raise UnsupportedOpError(f"padding='same' with kernel {weight.shape[2:]} needs "
                                     "asymmetric padding, which snnc does not support")
        return tuple(t // 2 for t in total)
    return _ints(padding, nd)


def _import_conv(n: Any, in_shape: Shape | None, dt: float | None) -> Node | None:
    nd = 1 if type(n).__name__ == "Conv1d" else 2
    weight = f64(n.weight)
    spatial = _shape(n.input_shape) if n.input_shape is not None else None
    if in_shape is None and spatial is None:
        return None
    groups = int(n.groups)
    in_full = in_shape or (weight.shape[1] * groups, *spatial)  # type: ignore[misc]
    dilation = _ints(n.dilation, nd)
    cls = ops.Conv1d if nd == 1 else ops.Conv2d
    return cls(input_shape=in_full, weight=weight, bias=f64(n.bias), stride=_ints(n.stride, nd),
               padding=_pad(n.padding, weight, dilation, nd), dilation=dilation, groups=groups)


def _import_pool(n: Any, in_shape: Shape | None, dt: float | None) -> Node | None:
    if in_shape is None:
        return None
    cls = ops.SumPool2d if type(n).__name__ == "SumPool2d" else ops.AvgPool2d
    return cls(input_shape=in_shape, kernel_size=_ints(n.kernel_size, 2),
               stride=_ints(n.stride, 2), padding=_ints(n.padding, 2))


def _import_flatten(n: Any, in_shape: Shape | None, dt: float | None) -> Node | None:
    shape = _own_or(in_shape, _shape((n.input_type or {}).get("input")))
    if shape is None:
        return None
    return ops.Flatten(input_shape=shape, start_dim=int(n.start_dim), end_dim=int(n.end_dim))


def _import_io(n: Any, in_shape: Shape | None, dt: float | None) -> Node | None:
    if type(n).__name__ == "Input":
        return ops.Input(shape=_shape(n.input_type["input"]) or ())
    shape = _own_or(in_shape, _shape((n.output_type or {}).get("output")))
    return None if shape is None else ops.Output(shape=shape)


def _import_elementwise(n: Any, in_shape: Shape | None, dt: float | None) -> Node | None:
    kind = type(n).__name__
    value = f64(getattr(n, kind.lower()))
    shape = _own_or(in_shape, value.shape)
    if shape is None:
        return None
    if kind == "Scale":
        return ops.Scale(shape=shape, scale=compact(value))
    if kind == "Threshold":
        return ops.Threshold(shape=shape, threshold=compact(value))
    return ops.Delay(shape=shape, delay=compact(np.rint(value / dt)))  # type: ignore[operator]


def _import_affine(n: Any, in_shape: Shape | None, dt: float | None) -> Node | None:
    weight = f64(n.weight)
    if type(n).__name__ == "Linear":
        return ops.Linear(weight=weight)
    return ops.Affine(weight=weight, bias=full(n.bias, weight.shape[:1]))


_IMPORT: dict[str, Callable[[Any, Shape | None, Any], Node | None]] = {
    "Input": _import_io, "Output": _import_io, "Affine": _import_affine,
    "Linear": _import_affine, "Scale": _import_elementwise, "Threshold": _import_elementwise,
    "Delay": _import_elementwise, "Conv1d": _import_conv, "Conv2d": _import_conv,
    "SumPool2d": _import_pool, "AvgPool2d": _import_pool, "Flatten": _import_flatten,
    **{k: _import_neuron for k in ("I", "IF", "LI", "LIF", "CubaLI", "CubaLIF")},
}
