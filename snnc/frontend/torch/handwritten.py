"""Plain-PyTorch neurons, recognised by what they compute rather than by their class name.

A user's LIF/IF module, as tutorials write it::

    v = beta * v + x                 # state in an attribute (None, then zeros_like(x)),
    s = SpikeFn.apply(v - th)        # or threaded: forward(x, v) -> (s, v)
    v = v - s * th                   # subtract reset; or v * (1 - s), torch.where(s > 0, 0, v)

is found in two steps:

1. **Pattern** (``is_candidate``): torch.fx traces the module's own ``forward`` (through a
   surrogate ``torch.autograd.Function``, whose ``forward`` fx runs symbolically). A candidate
   has no submodules, only elementwise ops (arithmetic, comparisons, ``float``, ``where``,
   ``zeros_like``, clamps), and at least one comparison: the threshold. Candidates are kept as
   leaves of the model's trace, like framework neurons.
2. **Parameters** (``fit``): the one-step map (x, v) -> (s, v') of the module is measured on
   probe tensors: below threshold it must be affine, v' = decay * v + gain * x + bias; the
   threshold is the boundary of s (bisection); a spiking probe says the reset (v' = u - th:
   subtract, v' constant: hard reset to it) and a probe exactly at the threshold the comparator.
   Parameters are snapped to the module's own numbers (``beta``, ``threshold`` attributes) when
   within float32 rounding. The fitted IR neuron must then reproduce the module on random
   probes around the threshold (spikes exactly, away from float ties; v' to 1e-5), else the
   module is not a recognised neuron and the error names it and ``register_neuron``.

A module without state (``forward(x)`` returning ``(x > th).float()``) is a ``threshold`` op.
"""

from __future__ import annotations

import copy
import inspect
import operator
import weakref
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import fx, nn

_LIB_PREFIXES = ("torch", "snntorch", "spikingjelly", "norse", "snnc", "lava")

_COMPARE = {operator.gt, operator.ge, operator.lt, operator.le, torch.gt, torch.ge, torch.lt,
            torch.le, torch.greater, torch.greater_equal, torch.heaviside, torch.sign}
_COMPARE_METHODS = {"gt", "ge", "lt", "le", "greater", "greater_equal", "heaviside", "sign"}
_ELEMENTWISE = _COMPARE | {
    operator.add, operator.sub, operator.mul, operator.truediv, operator.neg, operator.iadd,
    operator.isub, operator.imul, torch.add, torch.sub, torch.mul, torch.where, torch.zeros_like,
    torch.ones_like, torch.clamp, torch.clip, torch.relu, torch.abs, getattr}
_ELEMENTWISE_METHODS = _COMPARE_METHODS | {
    "float", "to", "type_as", "add", "sub", "mul", "clamp", "clip", "detach", "clone", "neg",
    "masked_fill", "add_", "sub_", "mul_", "zero_", "relu", "abs", "size"}

# keyed by the module itself, weakly: an ``id()`` key outlives its module and a later module at
# the same address (a new model in the same process) would get the dead one's answer
_CANDIDATES: weakref.WeakKeyDictionary[nn.Module, bool] = weakref.WeakKeyDictionary()


def is_user_module(mod: nn.Module) -> bool:
    return not type(mod).__module__.startswith(_LIB_PREFIXES)


def is_candidate(mod: nn.Module) -> bool:
    """The module's forward looks like a neuron (module docstring, step 1)."""
    if mod not in _CANDIDATES:
        _CANDIDATES[mod] = _looks_like_neuron(mod)
    return _CANDIDATES[mod]


def _looks_like_neuron(mod: nn.Module) -> bool:
    if not is_user_module(mod) or any(True for _ in mod.children()):
        return False
    try:
        gm = fx.symbolic_trace(copy.deepcopy(mod))
    except Exception:  # data-dependent control flow, unsupported calls: not this pattern
        return False
    compares = 0
    for n in gm.graph.nodes:
        if n.op in ("placeholder", "output", "get_attr"):
            continue
        if n.op == "call_module":
            return False
        if n.op == "call_function" and n.target not in _ELEMENTWISE:
            return False
        if n.op == "call_method" and n.target not in _ELEMENTWISE_METHODS:
            return False
        compares += (n.op == "call_function" and n.target in _COMPARE) or \
            (n.op == "call_method" and n.target in _COMPARE_METHODS)
    return compares > 0


@dataclass(frozen=True)
class Fit:
    node: Any                  # the IR neuron
    threaded: bool             # forward(x, v) -> tuple; else state in an attribute (or none)
    spike_index: int | None    # position of the spikes in the returned tuple (threaded)


class NotANeuron(Exception):
    """The module does not compute the recognised LIF/IF pattern (the message says where)."""


def _dtype(mod: nn.Module) -> torch.dtype:
    for t in list(mod.parameters()) + list(mod.buffers()):
        if t.is_floating_point():
            return t.dtype
    return torch.get_default_dtype()


def _tensor_attrs(mod: nn.Module) -> dict[str, Any]:
    out = {k: v for k, v in vars(mod).items() if not k.startswith("_")}
    out.update(dict(mod._buffers))
    return out


def reset_user_neuron(mod: nn.Module) -> None:
    """Clear a hand-written neuron's state before tracing (a saved model keeps the last batch's
    potential): its own ``reset``/``reset_state``/``reset_states`` method when it has one
    without arguments, else every plain tensor attribute (not a parameter or buffer) -> None,
    the ``if self.v is None`` idiom."""
    for name in ("reset", "reset_state", "reset_states"):
        fn = getattr(mod, name, None)
        if callable(fn) and not [p for p in inspect.signature(fn).parameters.values()
                                 if p.default is p.empty]:
            fn()
            return
    for k, v in list(vars(mod).items()):
        if not k.startswith("_") and isinstance(v, torch.Tensor):
            setattr(mod, k, None)


class _Probe:
    """Runs one step of a deep copy of the module from a chosen state."""

    def __init__(self, mod: nn.Module, shape: tuple[int, ...], threaded: bool) -> None:
        self.mod = copy.deepcopy(mod).eval()
        reset_user_neuron(self.mod)
        self.shape, self.threaded = shape, threaded
        self.dtype = _dtype(mod)
        self.state: str | None = None
        self.spike_index: int | None = None
        if not threaded:
            before = {k: (v if isinstance(v, torch.Tensor) else None)
                      for k, v in _tensor_attrs(self.mod).items()}
            self._call(torch.zeros(2, *shape, dtype=self.dtype), None)
            after = _tensor_attrs(self.mod)
            changed = [k for k, v in after.items() if isinstance(v, torch.Tensor)
                       and not isinstance(v, nn.Parameter) and v is not before.get(k)
                       and tuple(v.shape[-len(shape):]) == shape]
            if len(changed) > 1:
                raise NotANeuron(f"it keeps {len(changed)} state tensors ({', '.join(changed)});"
                                 " the recognised pattern has one (the membrane potential)")
            self.state = changed[0] if changed else None

    def _call(self, x: torch.Tensor, v: torch.Tensor | None) -> Any:
        with torch.no_grad():
            if self.threaded:
                return self.mod(x, v)
            if self.state is not None:
                setattr(self.mod, self.state, v)
            return self.mod(x)

    def run(self, x: np.ndarray, v: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        tx = torch.as_tensor(x, dtype=self.dtype)
        tv = torch.as_tensor(v, dtype=self.dtype)
        out = self._call(tx, tv)
        if self.threaded:
            if not isinstance(out, tuple | list) or len(out) != 2:
                raise NotANeuron("forward(x, v) must return (spikes, v) or (v, spikes)")
            if self.spike_index is None:
                self.spike_index = _spike_position(out)
            s, nv = out[self.spike_index], out[1 - self.spike_index]
        else:
            if isinstance(out, tuple | list):
                raise NotANeuron("forward(x) with the state in an attribute must return the "
                                 "spikes alone")
            s = out
            nv = getattr(self.mod, self.state) if self.state is not None else None
        s_np = s.detach().to(torch.float64).numpy()
        return s_np, (nv.detach().to(torch.float64).numpy() if nv is not None else None)


def _spike_position(out: Any) -> int:
    binary = [bool(torch.all((o == 0) | (o == 1))) for o in out]
    if binary == [True, False]:
        return 0
    if binary == [False, True]:
        return 1
    return 0  # both binary on this probe: spikes first, as snnTorch returns them


def _numbers(mod: nn.Module) -> list[float]:
    """The module's scalar numbers (candidates for snapping fitted parameters)."""
    vals: list[float] = [0.0, 1.0]
    for v in list(vars(mod).values()) + list(mod.parameters()) + list(mod.buffers()):
        if isinstance(v, bool):
            continue
        if isinstance(v, int | float):
            vals.append(float(v))
        elif isinstance(v, torch.Tensor) and v.numel() == 1:
            vals.append(float(v.detach().reshape(())))
    return vals + [1.0 - x for x in vals]


def _snap(values: np.ndarray, candidates: list[float], tol: float = 2e-6) -> np.ndarray:
    out = np.array(values, dtype=np.float64)
    for c in candidates:
        close = np.abs(out - c) <= tol * max(1.0, abs(c))
        out[close] = c
    return out


def _uniform(a: np.ndarray) -> Any:
    flat = a.reshape(-1, *a.shape[2:]) if a.ndim > 1 else a
    first = flat.flat[0]
    return np.float64(first) if np.all(flat == first) else np.asarray(a[0], np.float64)


def fit(mod: nn.Module, shape: tuple[int, ...], threaded: bool) -> Fit:
    """The IR neuron the module computes (module docstring, step 2), or ``NotANeuron``."""
    from ...ir import IF, LIF, Threshold

    pr = _Probe(mod, shape, threaded)
    b = 4
    zeros = np.zeros((b, *shape))
    stateless = not threaded and pr.state is None
    s0, c = pr.run(zeros, zeros)
    if np.any(s0):
        raise NotANeuron("it spikes for zero input and zero state")
    cand = _numbers(mod)
    if stateless:
        c = zeros
        decay = zeros
        gain = np.ones_like(zeros)
    else:
        assert c is not None
        s1, v1 = pr.run(-np.ones_like(zeros), zeros)
        s2, v2 = pr.run(zeros, -np.ones_like(zeros))
        if np.any(s1) or np.any(s2) or v1 is None or v2 is None:
            raise NotANeuron("it spikes on negative input")
        gain, decay = c - v1, c - v2
        rng = np.random.default_rng(0)
        xs, vs = -rng.random(zeros.shape) * 2, -rng.random(zeros.shape) * 2
        s3, v3 = pr.run(xs, vs)
        if np.any(s3) or v3 is None or not np.allclose(v3, decay * vs + gain * xs + c,
                                                       rtol=1e-5, atol=1e-5):
            raise NotANeuron("below threshold its state update is not v = beta * v + x (+ b)")
        decay, gain, c = (_snap(a, cand) for a in (decay, gain, c))
    if np.any(gain <= 0):
        raise NotANeuron("its input gain is not positive")
    # threshold: the boundary of s in u = gain * x + c (v = 0), per element
    hi = np.ones_like(zeros)
    for _ in range(40):
        s, _v = pr.run(hi, zeros)
        if np.all(s):
            break
        hi = np.where(s > 0, hi, hi * 2)
    else:
        raise NotANeuron("it never spikes")
    lo = np.zeros_like(zeros)
    for _ in range(80):
        mid = (lo + hi) / 2
        s, _v = pr.run(mid, zeros)
        lo, hi = np.where(s > 0, lo, mid), np.where(s > 0, mid, hi)
    theta = _snap(gain * hi + c, cand, tol=1e-5)
    # reset: two spiking probes
    reset, v_reset = "none", 0.0
    if not stateless:
        xa, xb = hi * 2 + 1, hi * 3 + 2
        sa, va = pr.run(xa, zeros)
        sb, vb = pr.run(xb, zeros)
        assert va is not None
        assert vb is not None
        if not (np.all(sa) and np.all(sb)):
            raise NotANeuron("it stops spiking for larger input")
        ua, ub = gain * xa + c, gain * xb + c
        tol = 1e-5 * np.maximum(1.0, np.abs(ua))
        if np.all(np.abs(va - (ua - theta)) <= tol) and np.all(np.abs(vb - (ub - theta)) <= tol):
            reset = "subtract"
        elif np.allclose(va, vb, atol=1e-6) and np.all(va == va.flat[0]):
            reset, v_reset = "hard", float(_snap(va.flat[:1], cand)[0])
        else:
            raise NotANeuron("after a spike its state is neither v - threshold nor a constant")
    comparator = ">"
    if np.all(gain == 1) and np.all(c == 0):
        s_eq, _v = pr.run(np.broadcast_to(theta, zeros.shape).copy(), zeros)
        if np.all(s_eq):
            comparator = ">="
        elif np.any(s_eq):
            raise NotANeuron("it spikes at its threshold for some neurons only")
    th, dec, g, bias = (_uniform(a) for a in (theta, decay, gain, c))
    if stateless:
        node: Any = Threshold(shape=shape, threshold=th, comparator=comparator)
    else:
        kw: dict[str, Any] = {"shape": shape, "gain": g, "bias": bias, "threshold": th,
                              "comparator": comparator, "reset": reset,
                              "v_reset": np.float64(v_reset)}
        node = IF(**kw) if np.all(dec == 1) else LIF(decay_v=dec, **kw)
    _verify(pr, node, theta, decay, gain, c, comparator, reset, v_reset, stateless)
    return Fit(node, threaded, pr.spike_index)


def _verify(pr: _Probe, node: Any, theta: np.ndarray, decay: np.ndarray, gain: np.ndarray,
            c: np.ndarray, comparator: str, reset: str, v_reset: float, stateless: bool) -> None:
    rng = np.random.default_rng(1)
    scale = float(np.max(np.abs(theta))) or 1.0
    for _ in range(4):
        x = rng.uniform(-1.5, 2.5, (64, *pr.shape)) * scale
        v = np.zeros_like(x) if stateless else rng.uniform(-1.0, 1.0, x.shape) * scale
        s, nv = pr.run(x, v)
        u = decay[:1] * v + gain[:1] * x + c[:1]
        want = (u >= theta[:1]) if comparator == ">=" else (u > theta[:1])
        tie = np.abs(u - theta[:1]) <= 1e-5 * max(1.0, scale)
        if np.any((s != want) & ~tie):
            raise NotANeuron(f"its spikes differ from the fitted {node.op} neuron")
        if stateless or nv is None:
            continue
        want_v = np.where(want, u - theta[:1] if reset == "subtract" else v_reset, u)
        if np.any((np.abs(nv - want_v) > 1e-5 * max(1.0, scale) * 4) & ~tie):
            raise NotANeuron(f"its state update differs from the fitted {node.op} neuron")


def forward_takes_state(mod: nn.Module, args: list[Any], kwargs: dict[str, Any]) -> bool:
    params = list(inspect.signature(mod.forward).parameters)
    return len(args) + len(kwargs) >= 2 and len(params) >= 2


def describe(mod: nn.Module) -> str:
    cls = type(mod)
    return f"{cls.__module__}.{cls.__qualname__}"


__all__ = ["Fit", "NotANeuron", "describe", "fit", "forward_takes_state", "is_candidate",
           "is_user_module"]
