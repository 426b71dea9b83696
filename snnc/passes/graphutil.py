"""Small graph and parameter helpers shared by the passes.

The central rewrite is ``scale_input``: a neuron fed with ``a * x`` (a > 0 per channel) spikes
exactly like the same neuron fed with ``x`` whose threshold, bias, reset value and initial
potential are divided by ``a`` (its membrane potential is simply measured in units of ``a``).
Non-spiking and graded neurons output their potential, so for them ``a`` goes into ``gain``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..ir import CodebookTensor, Graph, Node, QTensor, Threshold, weight_shape
from ..ir.access import as_op, field_of
from ..ir.traits import Trait, has


def preds(g: Graph, name: str) -> list[str]:
    return g.predecessors(name)


def succs(g: Graph, name: str) -> list[str]:
    return g.successors(name)


def only_pred(g: Graph, name: str) -> str | None:
    p = g.predecessors(name)
    return p[0] if len(p) == 1 else None


def only_succ(g: Graph, name: str) -> str | None:
    s = g.successors(name)
    return s[0] if len(s) == 1 else None


def is_spiking(node: Node) -> bool:
    """Outputs binary spikes: spiking neurons without graded output, ``threshold``."""
    if node.op == "threshold":
        return True
    return has(node, Trait.NEURON, Trait.SPIKING) and not field_of(node, "graded")


def channel_array(values: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """A per-channel vector (C,) as an array that broadcasts over ``shape`` = (C, ...)."""
    v = np.asarray(values, dtype=np.float64)
    if v.ndim == 0:
        return v
    return v.reshape((-1,) + (1,) * (len(shape) - 1))


def compact(arr: np.ndarray) -> np.ndarray:
    """A scalar when every element is equal (keeps node fields small and readable)."""
    arr = np.asarray(arr)
    if arr.size and np.all(arr == arr.flat[0]):
        return np.asarray(arr.flat[0], dtype=arr.dtype)
    return arr


def scale_input(node: Node, a: Any) -> Node:
    """The node that behaves on ``x`` as ``node`` does on ``a * x`` (see the module docstring).

    ``a`` broadcasts to ``node.shape``; spiking non-graded neurons and ``threshold`` need a > 0.
    """
    a = np.asarray(a, dtype=np.float64)
    if node.op == "threshold":
        return node.replace(threshold=compact(as_op(node, Threshold).threshold / a))
    if is_spiking(node):
        p: Any = node
        return node.replace(threshold=compact(p.threshold / a), bias=compact(p.bias / a),
                            v_reset=compact(p.v_reset / a), v_init=compact(p.v_init / a))
    return node.replace(gain=compact(field_of(node, "gain") * a))


def input_gain(node: Node) -> np.ndarray:
    """The factor by which a neuron multiplies its input on the way into v (gain * gain_i)."""
    g = np.asarray(getattr(node, "gain", 1.0), dtype=np.float64)
    return g * np.asarray(getattr(node, "gain_i", 1.0), dtype=np.float64)


def unit_gain(node: Node) -> Node:
    """``node`` with gain (and gain_i) set to 1."""
    changes: dict[str, Any] = {"gain": np.float64(1.0)}
    if hasattr(node, "gain_i"):
        changes["gain_i"] = np.float64(1.0)
    return node.replace(**changes)


# ---- weights -------------------------------------------------------------------------------------


def out_scale_weight(w: Any, s: np.ndarray) -> Any:
    """Weight with output channel o multiplied by s[o] (s scalar or (C_out,)); grids are kept
    when the weight is quantized (the scale absorbs s)."""
    s = np.asarray(s, dtype=np.float64)
    nd = len(weight_shape(w))
    s_full = s if s.ndim == 0 else s.reshape((-1,) + (1,) * (nd - 1))
    if isinstance(w, QTensor):
        return QTensor(w.mant, np.asarray(w.scale * s_full), w.bits, w.signed, w.kind)
    if isinstance(w, CodebookTensor):
        return CodebookTensor(w.codebook, w.indices, w.alpha * np.broadcast_to(s, w.alpha.shape))
    return np.asarray(w, dtype=np.float64) * s_full


_WIDER = {np.int8: np.int16, np.int16: np.int32, np.int32: np.int64}


def negate_rows(w: Any, neg: np.ndarray) -> Any:
    """Weight with the output rows where ``neg`` is True negated, staying on its grid."""
    neg = np.asarray(neg, dtype=bool)
    nd = len(weight_shape(w))
    sign = np.where(neg, -1, 1).reshape((-1,) + (1,) * (nd - 1))
    if isinstance(w, QTensor):
        if w.signed and not neg.any():  # the same tensor (no copy of a large weight)
            return w
        # one integer type wider than the storage: -(-2^(b-1)) needs a bit more
        wide = _WIDER.get(w.mant.dtype.type, np.int64)
        mant = np.where(np.broadcast_to(sign < 0, w.mant.shape), -w.mant.astype(wide),
                        w.mant.astype(wide))
        if w.kind == "binary":
            return QTensor(mant, w.scale, 1, True, "binary")
        hi, lo = int(mant.max(initial=0)), int(mant.min(initial=0))
        need = max(hi.bit_length(), (-lo - 1).bit_length() if lo < 0 else 0) + 1
        return QTensor(mant, w.scale, max(need, w.bits if w.signed else 1), True, "uniform")
    if isinstance(w, CodebookTensor):
        return CodebookTensor(w.codebook, w.indices, w.alpha * sign.reshape(-1))
    return np.asarray(w, dtype=np.float64) * sign


def channel_scale(w: Any) -> np.ndarray | None:
    """Per-output-channel scale (C_out,) of a quantized weight, or None for float weights."""
    c = weight_shape(w)[0]
    if isinstance(w, QTensor):
        return np.broadcast_to(w.scale.reshape(-1) if w.per_channel else w.scale, (c,)).copy()
    if isinstance(w, CodebookTensor):
        return w.alpha.copy()
    return None


def strip_scale(w: Any) -> QTensor:
    """The integer part of a quantized weight (scale 1), codebooks expanded to binary."""
    if isinstance(w, QTensor):
        return QTensor(w.mant, np.float64(1.0), w.bits, w.signed, w.kind)
    mant = w.codebook[w.indices]
    return QTensor(mant, np.float64(1.0), 1, True, "binary")
