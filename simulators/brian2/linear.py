"""The stateless linear IR ops as delayed sparse maps over flat indices (see ``sparse.py``).

``LINEAR_OPS[op](node) -> (Coo, bias)`` gives the map from the node's flat input to its flat
output, and a dense bias vector over the output (or None). Reshapes are identities in C order;
convolutions and pools are expanded into one connection per (input, output, kernel tap).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ...ir import as_float
from .sparse import Coo

LinearMap = tuple[Coo, np.ndarray | None]


def _size(shape: tuple[int, ...]) -> int:
    return int(np.prod(shape, dtype=np.int64))


def _dense(node: Any) -> LinearMap:
    w = as_float(node.weight)
    post, pre = np.nonzero(w)
    bias = getattr(node, "bias", None)
    return Coo.make(pre, post, w[post, pre]), None if bias is None else np.asarray(bias)


def _identity(node: Any) -> LinearMap:
    return Coo.identity(_size(node.in_shape)), None


def _scale(node: Any) -> LinearMap:
    n = _size(node.shape)
    s = np.broadcast_to(node.scale, node.shape).ravel()
    return Coo.make(np.arange(n), np.arange(n), s), None


def _batchnorm(node: Any) -> LinearMap:
    a, b = node.channel_affine()
    per = _size(node.shape[1:])
    n = _size(node.shape)
    return Coo.make(np.arange(n), np.arange(n), np.repeat(a, per)), np.repeat(b, per)


def _delay(node: Any) -> LinearMap:
    n = _size(node.shape)
    d = np.broadcast_to(node.delay, node.shape).ravel()
    return Coo.make(np.arange(n), np.arange(n), 1.0, d), None


def conv_map(w: np.ndarray, in_shape: tuple[int, ...], out_shape: tuple[int, ...],
             stride: tuple[int, ...], padding: tuple[int, ...], dilation: tuple[int, ...],
             groups: int) -> Coo:
    """Cross-correlation (PyTorch convention) as connections; w (C_out, C_in/g, *K)."""
    nd = w.ndim - 2
    taps = np.nonzero(w)
    wv = w[taps]
    cig, cog = w.shape[1], w.shape[0] // groups
    ci = (taps[0] // cog) * cig + taps[1]
    opos = np.indices(out_shape[1:]).reshape(nd, -1)
    n_out = opos.shape[1]
    valid = np.ones((wv.size, n_out), dtype=bool)
    pre = np.broadcast_to(ci[:, None], valid.shape)
    for d in range(nd):
        p = opos[d][None, :] * stride[d] - padding[d] + taps[2 + d][:, None] * dilation[d]
        valid &= (p >= 0) & (p < in_shape[1 + d])
        pre = pre * in_shape[1 + d] + p
    post = taps[0][:, None] * n_out + np.arange(n_out)[None, :]
    return Coo.make(pre[valid], post[valid], np.broadcast_to(wv[:, None], valid.shape)[valid])


def _conv(node: Any) -> LinearMap:
    coo = conv_map(as_float(node.weight), node.in_shape, node.out_shape, node.stride,
                   node.padding, node.dilation, node.groups)
    per = _size(node.out_shape[1:])
    bias = np.broadcast_to(node.bias, (node.out_shape[0],))
    return coo, np.repeat(bias, per)


def _pool(scale: Callable[[int], float]) -> Callable[[Any], LinearMap]:
    def build(node: Any) -> LinearMap:
        c = node.in_shape[0]
        kh, kw = node.kernel_size
        w = np.full((c, 1, kh, kw), scale(kh * kw))
        return conv_map(w, node.in_shape, node.out_shape, node.stride, node.padding, (1, 1),
                        c), None

    return build


LINEAR_OPS: dict[str, Callable[[Any], LinearMap]] = {
    "linear": _dense,
    "affine": _dense,
    "scale": _scale,
    "conv1d": _conv,
    "conv2d": _conv,
    "sumpool2d": _pool(lambda k: 1.0),
    "avgpool2d": _pool(lambda k: 1.0 / k),
    "flatten": _identity,
    "reshape": _identity,
    "add": _identity,
    "batchnorm": _batchnorm,
    "delay": _delay,
}
