"""Compiled (numba) inner loops of the event simulator; ``kernels_np`` has the same functions in
plain numpy. Every loop works on exact integers and reproduces ``simulators/kernels_loihi.py``.

Synapse kernels keep a ring buffer ``ring`` (R, B, N) of currents due at future steps (R = largest
delay + 1). Per step t: if ``emit``, ``y[t] = wrap32(ring[t % R])`` (Lava's int32 channel) and
the slot is cleared; then the input ``x[t]`` is absorbed: only non-zero inputs (spikes that
happened) touch weights. Overflow follows ``simulators/kernels_loihi.py`` exactly: graded dense
sums wrap to int32 before the shift, graded delayed products wrap one by one, LIF u and v wrap
to int32 before their 24-bit wrap / clip.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ..loihi_lif import lif_step

_lif_step = njit(cache=True, inline="always")(lif_step)


@njit(cache=True, inline="always")
def wrap32(x):
    """Two's-complement wrap of an int64 to the int32 range."""
    return ((x + 2147483648) & 4294967295) - 2147483648


@njit(cache=True)
def _emit(ring, slot, y, t):
    for b in range(ring.shape[1]):
        for j in range(ring.shape[2]):
            y[t, b, j] = wrap32(ring[slot, b, j])
            ring[slot, b, j] = 0


@njit(cache=True)
def dense_run(x, wt, shift, graded, ring, t0, y, acc, emit, F, cnt):
    """Dense synapses without delays: wt (M, N) pre-shifted when ``shift == 0``.

    Every event also adds its row of the counter table F (M, C) into cnt (T, B, C).
    """
    T, B, M = x.shape
    N = wt.shape[1]
    R = ring.shape[0]
    for t in range(T):
        if emit:
            _emit(ring, (t0 + t) % R, y, t)
        nxt = (t0 + t + 1) % R
        for b in range(B):
            acc[:] = 0
            for i in range(M):
                v = x[t, b, i]
                if v == 0:
                    continue
                for c in range(F.shape[1]):
                    cnt[t, b, c] += F[i, c]
                row = wt[i]
                if graded:
                    for j in range(N):
                        acc[j] += row[j] * v
                else:
                    for j in range(N):
                        acc[j] += row[j]
            if graded:  # Lava's graded W @ s is an int32 dot product
                for j in range(N):
                    ring[nxt, b, j] += wrap32(np.int64(acc[j])) >> shift
            else:
                for j in range(N):
                    ring[nxt, b, j] += acc[j] >> shift


@njit(cache=True)
def delay_dense_run(x, wt, dt, shift, graded, ring, t0, y, acc, emit, F, cnt):
    """DelayDense: per-synapse delays dt (M, N); a spike at t with delay d arrives at t + 1 + d.

    ``acc`` (R, N) collects one step's sum per delay; each is floor-shifted on its own, as Lava
    does before adding it to the delay line.
    """
    T, B, M = x.shape
    N = wt.shape[1]
    R = ring.shape[0]
    used = np.zeros(R, np.bool_)
    for t in range(T):
        if emit:
            _emit(ring, (t0 + t) % R, y, t)
        for b in range(B):
            used[:] = False
            for i in range(M):
                v = x[t, b, i]
                if v == 0:
                    continue
                for c in range(F.shape[1]):
                    cnt[t, b, c] += F[i, c]
                for j in range(N):
                    d = dt[i, j]
                    used[d] = True
                    if graded:  # int32 products, int64 sum
                        acc[d, j] += wrap32(np.int64(wt[i, j]) * v)
                    else:
                        acc[d, j] += wt[i, j]
            for d in range(R):
                if not used[d]:
                    continue
                dst = (t0 + t + 1 + d) % R
                for j in range(N):
                    ring[dst, b, j] += acc[d, j] >> shift
                    acc[d, j] = 0


@njit(cache=True)
def conv_run(x, wt, stride, pad, dil, graded, ring, t0, y, acc, emit, F, cnt):
    """Integer convolution, PyTorch cross-correlation; wt (G, C_in/G, kH, kW, C_out/G).

    Each non-zero input pixel scatters its kernel into ``acc`` (oH, oW, C_out); the step's sum
    wraps to 24 bits (Lava's ``signed_clamp``). ``y`` and ``ring`` are (.., C_out, oH, oW).
    Which (kernel row, output row) pairs an input row reaches (and likewise for columns) is
    worked out once per call, not per spike.
    """
    T, B, C, H, W = x.shape
    _, CPG, KH, KW, OPG = wt.shape
    OH, OW = acc.shape[0], acc.shape[1]
    R = ring.shape[0]
    ny, ky_of, oy_of = _reach(H, KH, OH, stride[0], pad[0], dil[0])
    nx, kx_of, ox_of = _reach(W, KW, OW, stride[1], pad[1], dil[1])
    for t in range(T):
        slot = (t0 + t) % R
        if emit:
            for b in range(B):
                y[t, b] = ring[slot, b]  # already 24-bit
                ring[slot, b] = 0
        nxt = (t0 + t + 1) % R
        for b in range(B):
            acc[:] = 0
            for ci in range(C):
                g = ci // CPG
                cl = ci - g * CPG
                for iy in range(H):
                    for ix in range(W):
                        v = x[t, b, ci, iy, ix]
                        if v == 0:
                            continue
                        i = (ci * H + iy) * W + ix
                        for c in range(F.shape[1]):
                            cnt[t, b, c] += F[i, c]
                        if not graded:
                            v = 1
                        for a in range(ny[iy]):
                            ky, oy = ky_of[iy, a], oy_of[iy, a]
                            for e in range(nx[ix]):
                                kx, ox = kx_of[ix, e], ox_of[ix, e]
                                for o in range(OPG):
                                    acc[oy, ox, g * OPG + o] += wt[g, cl, ky, kx, o] * v
            for oy in range(OH):
                for ox in range(OW):
                    for co in range(acc.shape[2]):
                        a = acc[oy, ox, co]
                        ring[nxt, b, co, oy, ox] += ((a + 8388608) % 16777216) - 8388608


@njit(cache=True)
def _reach(n_in, k, n_out, stride, pad, dil):
    """Per input index: how many (kernel index, output index) pairs it feeds, and which."""
    count = np.zeros(n_in, np.int64)
    k_of = np.zeros((n_in, k), np.int64)
    o_of = np.zeros((n_in, k), np.int64)
    for i in range(n_in):
        for kk in range(k):
            num = i + pad - kk * dil
            if num < 0 or num % stride != 0 or num // stride >= n_out:
                continue
            k_of[i, count[i]] = kk
            o_of[i, count[i]] = num // stride
            count[i] += 1
    return count, k_of, o_of


@njit(cache=True)
def lif_run(a, u, v, fu, fv, bias, vth, interval, offset, t0, s, act, rec_u, rec_v, record,
            bounds, act_cnt, spk_cnt):
    """Lava's PyLifModelBitAcc over T steps (shared/reference/loihi.md §3.2).

    a (T, B, N) input; u, v (B, N) state, updated in place; fu = 4096 - (du + 1), fv = 4096 - dv,
    bias = bias_mant shifted by bias_exp, vth = vth << 6, all (N,). ``act[t, b, n]`` is 1 when
    the update is *active*: input, u, v or bias non-zero as the step starts (after a periodic
    reset). The step itself is ``simulators/loihi_lif.lif_step``, compiled here. When the
    layer's cores hold contiguous flat ranges ``bounds[k]:bounds[k+1]``, active neurons and
    spikes are also counted per core into act_cnt, spk_cnt (T, B, K).
    """
    T, B, N = a.shape
    for t in range(T):
        reset = interval > 0 and (t0 + t + 1) % interval == offset
        for b in range(B):
            if reset:
                u[b, :] = 0
                v[b, :] = 0
            ub = u[b]
            vb = v[b]
            for n in range(N):
                x = wrap32(a[t, b, n])
                act[t, b, n] = (x | ub[n] | vb[n] | bias[n]) != 0
                ub[n], vb[n], s[t, b, n] = _lif_step(x, ub[n], vb[n], fu[n], fv[n], bias[n],
                                                     vth[n])
            if record:
                rec_u[t, b, :] = ub
                rec_v[t, b, :] = vb
            for k in range(bounds.shape[0] - 1):
                na = 0
                ns = 0
                for n in range(bounds[k], bounds[k + 1]):
                    na += act[t, b, n]
                    ns += s[t, b, n]
                act_cnt[t, b, k] = na
                spk_cnt[t, b, k] = ns


@njit(cache=True)
def gather_counts(x, F, out):
    """out[t, b] += F[i] for every non-zero x[t, b, i]: counters touched only by events."""
    T, B, M = x.shape
    C = F.shape[1]
    for t in range(T):
        for b in range(B):
            for i in range(M):
                if x[t, b, i] != 0:
                    for c in range(C):
                        out[t, b, c] += F[i, c]


@njit(cache=True)
def count_per_core(flags, core, out):
    """out[t, b, core[n]] += flags[t, b, n]."""
    T, B, N = flags.shape
    for t in range(T):
        for b in range(B):
            for n in range(N):
                out[t, b, core[n]] += flags[t, b, n]
