"""Fixed linear maps as matrices, for rewrites that fold them into synapses.

``chain_matrix`` applies a map op (``permute``, ``broadcast``, ``axis_sum``, reshapes, ``scale``)
to the columns of a matrix; ``conv_matrix`` is a convolution's dense matrix (exact, without weight
sharing); ``dense_of`` a synapse's (W, b) on flat vectors.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from ..ir import Affine, Linear, as_float


def push(node: Any, x: np.ndarray) -> np.ndarray:
    from .spike_products import push as _push

    return _push(node, x)


def chain_matrix(node: Any, m: np.ndarray, in_shape: tuple[int, ...]) -> np.ndarray:
    """The map ``node`` applied to the columns of ``m`` (rows = flat values of shape in_shape)."""
    k = m.shape[1]
    x = m.T.reshape(k, *in_shape)
    return np.ascontiguousarray(push(node, x).reshape(k, -1).T)


def weight_of(node: Any) -> np.ndarray:
    w = as_float(node.weight)
    assert w is not None  # every synapse has a weight
    return np.asarray(w)


def conv_matrix(node: Any) -> np.ndarray:
    """The dense matrix (out, in) of a conv1d/conv2d without its bias (exact)."""
    w = weight_of(node)
    nd = w.ndim - 2
    cin, sp_in = node.input_shape[0], tuple(node.input_shape[1:])
    out = node.out_shape
    mat = np.zeros((int(np.prod(out)), int(np.prod(node.input_shape))))
    g = node.groups
    og, ig = w.shape[0] // g, cin // g
    pad, st, dil = (tuple(getattr(node, a)) for a in ("padding", "stride", "dilation"))
    in_idx = np.arange(mat.shape[1]).reshape(node.input_shape)
    out_idx = np.arange(mat.shape[0]).reshape(out)
    for o in range(w.shape[0]):
        grp = o // og
        for pos in itertools.product(*(range(n) for n in out[1:])):
            for ci in range(ig):
                for kp in itertools.product(*(range(n) for n in w.shape[2:])):
                    src = tuple(pos[d] * st[d] - pad[d] + kp[d] * dil[d] for d in range(nd))
                    if all(0 <= src[d] < sp_in[d] for d in range(nd)):
                        c = grp * ig + ci
                        mat[out_idx[tuple([o, *pos])], in_idx[tuple([c, *src])]] += \
                            w[tuple([o, ci, *kp])]
    return mat


def dense_of(node: Any) -> tuple[np.ndarray, np.ndarray]:
    """(W, b) of a synapse as a dense map of flat vectors."""
    if node.op in ("conv1d", "conv2d"):
        b = np.broadcast_to(np.asarray(node.bias, np.float64).reshape(
            (-1,) + (1,) * (len(node.out_shape) - 1)), node.out_shape).reshape(-1)
        return conv_matrix(node), b
    w = weight_of(node)
    return w, np.broadcast_to(np.asarray(getattr(node, "bias", 0.0), np.float64), (w.shape[0],))


def synapse_of(w: np.ndarray, b: np.ndarray | None) -> Any:
    if b is not None and np.any(b != 0):
        return Affine(weight=w, bias=np.array(b, dtype=np.float64))
    return Linear(weight=w)


def per_channel(step: np.ndarray) -> np.ndarray | None:
    per_c = step.reshape(step.shape[0], -1)
    return per_c[:, 0] if np.all(per_c == per_c[:, :1]) else None
