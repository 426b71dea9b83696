"""Pure-numpy versions of ``kernels_jit`` (same signatures, same results), used when numba is not
installed or ``SNNC_NO_NUMBA=1``. Synapse sums use float64 matrix products, exact for integers
below 2**53; the per-step loop runs over time only.
"""

from __future__ import annotations

import numpy as np

from ..kernels_float import conv_nd
from ..loihi_lif import lif_step


def wrap32(x: np.ndarray) -> np.ndarray:
    return ((np.asarray(x, np.int64) + 2**31) % 2**32) - 2**31


def _emit(ring: np.ndarray, slot: int, y: np.ndarray, t: int) -> None:
    y[t] = wrap32(ring[slot])
    ring[slot] = 0


def _vals(x: np.ndarray, graded: bool) -> np.ndarray:
    return x.astype(np.float64) if graded else (x != 0).astype(np.float64)


def dense_run(x, wt, shift, graded, ring, t0, y, acc, emit, F, cnt):
    gather_counts(x, F, cnt)
    z = np.rint(_vals(x, graded) @ wt.astype(np.float64)).astype(np.int64)
    z = (wrap32(z) if graded else z) >> shift
    R = ring.shape[0]
    for t in range(x.shape[0]):
        if emit:
            _emit(ring, (t0 + t) % R, y, t)
        ring[(t0 + t + 1) % R] += z[t]


def delay_dense_run(x, wt, dt, shift, graded, ring, t0, y, acc, emit, F, cnt):
    gather_counts(x, F, cnt)
    R = ring.shape[0]
    xv = _vals(x, graded)
    big = graded and np.abs(x).max(initial=0) * 256 >= 2**31
    parts = [_delay_sum(xv, np.where(dt == d, wt, 0), big) >> shift for d in range(R)]
    for t in range(x.shape[0]):
        if emit:
            _emit(ring, (t0 + t) % R, y, t)
        for d in range(R):
            ring[(t0 + t + 1 + d) % R] += parts[d][t]


def _delay_sum(xv: np.ndarray, w: np.ndarray, big: bool) -> np.ndarray:
    """sum_i x_i w_ij, with each product wrapped to int32 when it may overflow (graded)."""
    if not big:
        return np.rint(xv @ w.astype(np.float64)).astype(np.int64)
    prod = xv.astype(np.int64)[..., :, None] * w.astype(np.int64)
    return wrap32(prod).sum(-2)


def conv_run(x, wt, stride, pad, dil, graded, ring, t0, y, acc, emit, F, cnt):
    gather_counts(x, F, cnt)
    g, cpg, kh, kw, opg = wt.shape
    w = wt.transpose(0, 4, 1, 2, 3).reshape(g * opg, cpg, kh, kw).astype(np.float64)
    T, B = x.shape[:2]
    xs = _vals(x, graded).reshape(T * B, *x.shape[2:])
    a = np.rint(conv_nd(xs, w, tuple(stride), tuple(pad), tuple(dil), g)).astype(np.int64)
    a = (((a + 2**23) % 2**24) - 2**23).reshape(T, B, *a.shape[1:])
    R = ring.shape[0]
    for t in range(T):
        if emit:
            _emit(ring, (t0 + t) % R, y, t)
        ring[(t0 + t + 1) % R] += a[t]


def lif_run(a, u, v, fu, fv, bias, vth, interval, offset, t0, s, act, rec_u, rec_v, record,
            bounds, act_cnt, spk_cnt):
    for t in range(a.shape[0]):
        if interval > 0 and (t0 + t + 1) % interval == offset:
            u[:] = 0
            v[:] = 0
        x = wrap32(a[t])
        act[t] = (x != 0) | (u != 0) | (v != 0) | (bias != 0)
        un, vn, sp = lif_step(x, u, v, fu, fv, bias, vth)
        u[:], v[:] = un, vn
        s[t] = sp
        if record:
            rec_u[t], rec_v[t] = u, v
    if bounds.size:
        act_cnt[:] = np.add.reduceat(act, bounds[:-1], axis=2, dtype=np.int64)
        spk_cnt[:] = np.add.reduceat(s, bounds[:-1], axis=2, dtype=np.int64)


def gather_counts(x, F, out):
    T, B = x.shape[:2]
    M = F.shape[0]
    if F.shape[1] == 0:
        return
    hit = (x.reshape(T * B, M) != 0).astype(np.float64)
    out += np.rint(hit @ F.astype(np.float64)).astype(out.dtype).reshape(T, B, -1)


def count_per_core(flags, core, out):
    T, B, N = flags.shape
    onehot = np.zeros((N, out.shape[2]))
    onehot[np.arange(N), core] = 1.0
    out += np.rint(flags.reshape(T * B, N) @ onehot).astype(out.dtype).reshape(T, B, -1)
