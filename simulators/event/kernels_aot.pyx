# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False, nonecheck=False
"""Ahead-of-time compiled (Cython -> C, built by scripts/build_kernels.py) inner loops of the
event simulator: the same functions, signatures and results as ``kernels_jit`` (numba) and
``kernels_np`` (numpy), without a JIT warm-up at run time.

``_lif_step`` mirrors ``simulators/loihi_lif.lif_step`` expression for expression (that file
stays the one definition; tests/simulators/event/test_kernels_aot.py checks the two agree on
random and boundary values). Integer semantics: all state is int64; ``>>`` of a negative int64
is an arithmetic shift with gcc and clang, as in numpy; the 24-bit wrap of conv sums uses a mask
(``& 0xFFFFFF``), equal to Python's floor ``% 2**24``.

Threads: the loops over samples (b) of the synapse and LIF kernels run in parallel with OpenMP
(``prange``) when the batch has at least two samples and ``set_threads`` allows it; every
sample owns its rows of every array, so results do not depend on the thread count.
"""

from cython.parallel cimport parallel, prange
from libc.stdint cimport int8_t, int16_t, int32_t, int64_t, uint8_t
from libc.stdlib cimport calloc, free
from libc.string cimport memset

import numpy as np

ctypedef fused x_t:
    uint8_t
    int64_t

ctypedef fused w_t:
    int8_t
    int16_t
    int32_t
    int64_t

ctypedef fused a_t:
    int16_t
    int32_t
    int64_t

cdef int _threads = 1
cdef int64_t H31 = 2147483648, M32 = 4294967295  # 2**31, 2**32 - 1


def set_threads(int n):
    """Threads used over the samples of a batch (1: serial); returns the previous value."""
    global _threads
    old = _threads
    _threads = max(1, n)
    return old


def get_threads():
    return _threads


cdef inline int64_t wrap32(int64_t x) noexcept nogil:
    return ((x + H31) & M32) - H31


ctypedef struct lif_out:
    int64_t u
    int64_t v
    uint8_t s


cdef inline lif_out _lif_step(int64_t x, int64_t u, int64_t v, int64_t fu, int64_t fv,
                              int64_t bias, int64_t vth) noexcept nogil:
    cdef int64_t p, un, q, vn, s
    cdef lif_out r
    x = ((x + H31) & M32) - H31
    p = u * fu
    un = ((p + ((p >> 63) & 4095)) >> 12) + x * 64
    un = ((un + H31) & M32) - H31
    un = un - 16777216 * (un > 8388608) + 16777216 * (un <= -8388608)
    q = v * fv
    vn = ((q + ((q >> 63) & 4095)) >> 12) + un + bias
    vn = ((vn + H31) & M32) - H31
    vn = vn + (vn < -8388607) * (-8388607 - vn) - (vn > 8388607) * (vn - 8388607)
    s = vn > vth
    r.u = un
    r.v = vn * (1 - s)
    r.s = <uint8_t>s
    return r


def lif_step_scalar(int64_t x, int64_t u, int64_t v, int64_t fu, int64_t fv, int64_t bias,
                    int64_t vth):
    """``_lif_step`` callable from Python (for the identity test against ``lif_step``)."""
    cdef lif_out r = _lif_step(x, u, v, fu, fv, bias, vth)
    return r.u, r.v, r.s


cdef inline int _nthreads(Py_ssize_t B) noexcept nogil:
    return _threads if B > 1 and _threads > 1 else 1


cdef void _dense_sample(const x_t[:, :, :] x, const w_t[:, ::1] wt, int shift, bint graded,
                        int64_t[:, :, ::1] ring, Py_ssize_t t0, int64_t[:, :, ::1] y,
                        a_t* ac, bint emit, const int64_t[:, ::1] F, int64_t[:, :, ::1] cnt,
                        Py_ssize_t b) noexcept nogil:
    cdef Py_ssize_t T = x.shape[0], M = x.shape[2], N = wt.shape[1]
    cdef Py_ssize_t R = ring.shape[0], C = F.shape[1], t, i, j, c, slot, nxt
    cdef int64_t v
    cdef const w_t* row
    cdef int64_t* rg
    for t in range(T):
        slot = (t0 + t) % R
        nxt = (t0 + t + 1) % R
        if emit:
            rg = &ring[slot, b, 0]
            for j in range(N):
                y[t, b, j] = wrap32(rg[j])
                rg[j] = 0
        memset(ac, 0, N * sizeof(a_t))
        for i in range(M):
            v = x[t, b, i]
            if v == 0:
                continue
            for c in range(C):
                cnt[t, b, c] += F[i, c]
            row = &wt[i, 0]
            if graded:
                for j in range(N):
                    ac[j] += row[j] * v
            else:
                for j in range(N):
                    ac[j] += row[j]
        rg = &ring[nxt, b, 0]
        if graded:  # Lava's graded W @ s is an int32 dot product
            for j in range(N):
                rg[j] += wrap32(<int64_t>ac[j]) >> shift
        else:
            for j in range(N):
                rg[j] += (<int64_t>ac[j]) >> shift


def dense_run(const x_t[:, :, :] x, const w_t[:, ::1] wt, int shift, bint graded,
              int64_t[:, :, ::1] ring, Py_ssize_t t0, int64_t[:, :, ::1] y, a_t[::1] acc,
              bint emit, const int64_t[:, ::1] F, int64_t[:, :, ::1] cnt):
    """Dense synapses without delays; see ``kernels_jit.dense_run``. ``acc`` gives the sum's
    dtype (one buffer per thread). Samples are independent: each runs all T steps on its own."""
    cdef Py_ssize_t B = x.shape[1], N = wt.shape[1], b
    cdef int nt = _nthreads(B)
    cdef a_t* ac
    if N == 0:
        return
    if nt == 1:
        for b in range(B):
            _dense_sample(x, wt, shift, graded, ring, t0, y, &acc[0], emit, F, cnt, b)
        return
    with nogil, parallel(num_threads=nt):
        ac = <a_t*>calloc(N, sizeof(a_t))
        for b in prange(B, schedule="static"):
            _dense_sample(x, wt, shift, graded, ring, t0, y, ac, emit, F, cnt, b)
        free(ac)


def delay_dense_run(const x_t[:, :, :] x, const w_t[:, ::1] wt, const uint8_t[:, ::1] dt, int shift,
                    bint graded, int64_t[:, :, ::1] ring, Py_ssize_t t0,
                    int64_t[:, :, ::1] y, a_t[:, ::1] acc, bint emit, const int64_t[:, ::1] F,
                    int64_t[:, :, ::1] cnt):
    """DelayDense; see ``kernels_jit.delay_dense_run`` (serial: delays are rare and small)."""
    cdef Py_ssize_t T = x.shape[0], B = x.shape[1], M = x.shape[2], N = wt.shape[1]
    cdef Py_ssize_t R = ring.shape[0], C = F.shape[1], t, b, i, j, c, d, dst
    cdef int64_t v
    used = np.zeros(R, np.uint8)
    cdef uint8_t[::1] u = used
    for t in range(T):
        if emit:
            d = (t0 + t) % R
            for b in range(B):
                for j in range(N):
                    y[t, b, j] = wrap32(ring[d, b, j])
                    ring[d, b, j] = 0
        for b in range(B):
            u[:] = 0
            for i in range(M):
                v = x[t, b, i]
                if v == 0:
                    continue
                for c in range(C):
                    cnt[t, b, c] += F[i, c]
                for j in range(N):
                    d = dt[i, j]
                    u[d] = 1
                    if graded:
                        acc[d, j] += wrap32(<int64_t>wt[i, j] * v)
                    else:
                        acc[d, j] += wt[i, j]
            for d in range(R):
                if not u[d]:
                    continue
                dst = (t0 + t + 1 + d) % R
                for j in range(N):
                    ring[dst, b, j] += (<int64_t>acc[d, j]) >> shift
                    acc[d, j] = 0


def _reach(Py_ssize_t n_in, Py_ssize_t k, Py_ssize_t n_out, Py_ssize_t stride, Py_ssize_t pad,
           Py_ssize_t dil):
    """Per input index: how many (kernel index, output index) pairs it feeds, and which."""
    count = np.zeros(n_in, np.int64)
    k_of = np.zeros((n_in, max(k, 1)), np.int64)
    o_of = np.zeros((n_in, max(k, 1)), np.int64)
    cdef int64_t[::1] cn = count
    cdef int64_t[:, ::1] ko = k_of, oo = o_of
    cdef Py_ssize_t i, kk, num
    for i in range(n_in):
        for kk in range(k):
            num = i + pad - kk * dil
            if num < 0 or num % stride != 0 or num // stride >= n_out:
                continue
            ko[i, cn[i]] = kk
            oo[i, cn[i]] = num // stride
            cn[i] += 1
    return count, k_of, o_of


cdef void _conv_sample(const x_t[:, :, :, :, :] x, const w_t[:, :, :, :, ::1] wt, bint graded,
                       int64_t[:, :, :, :, ::1] ring, Py_ssize_t t0,
                       int64_t[:, :, :, :, ::1] y, int64_t* ac, bint emit,
                       const int64_t[:, ::1] F, int64_t[:, :, ::1] cnt, int64_t[::1] ny,
                       int64_t[:, ::1] ky_of, int64_t[:, ::1] oy_of, int64_t[::1] nx,
                       int64_t[:, ::1] kx_of, int64_t[:, ::1] ox_of, Py_ssize_t OH,
                       Py_ssize_t OW, Py_ssize_t CO, Py_ssize_t b) noexcept nogil:
    cdef Py_ssize_t T = x.shape[0], Cin = x.shape[2], H = x.shape[3], W = x.shape[4]
    cdef Py_ssize_t CPG = wt.shape[1], OPG = wt.shape[4], R = ring.shape[0], C = F.shape[1]
    cdef Py_ssize_t t, ci, g, cl, iy, ix, i, c, a, e, ky, oy, kx, ox, o, co, slot, nxt
    cdef int64_t v, s
    cdef int64_t* dst
    cdef const w_t* wk
    for t in range(T):
        slot = (t0 + t) % R
        nxt = (t0 + t + 1) % R
        if emit:
            for co in range(CO):
                for oy in range(OH):
                    for ox in range(OW):
                        y[t, b, co, oy, ox] = ring[slot, b, co, oy, ox]  # already 24-bit
                        ring[slot, b, co, oy, ox] = 0
        memset(ac, 0, OH * OW * CO * sizeof(int64_t))
        for ci in range(Cin):
            g = ci // CPG
            cl = ci - g * CPG
            for iy in range(H):
                for ix in range(W):
                    v = x[t, b, ci, iy, ix]
                    if v == 0:
                        continue
                    i = (ci * H + iy) * W + ix
                    for c in range(C):
                        cnt[t, b, c] += F[i, c]
                    if not graded:
                        v = 1
                    for a in range(ny[iy]):
                        ky = ky_of[iy, a]
                        oy = oy_of[iy, a]
                        for e in range(nx[ix]):
                            kx = kx_of[ix, e]
                            ox = ox_of[ix, e]
                            dst = &ac[(oy * OW + ox) * CO + g * OPG]
                            wk = &wt[g, cl, ky, kx, 0]
                            for o in range(OPG):
                                dst[o] += wk[o] * v
        for oy in range(OH):
            for ox in range(OW):
                for co in range(CO):
                    s = ac[(oy * OW + ox) * CO + co]
                    ring[nxt, b, co, oy, ox] += ((s + 8388608) & 16777215) - 8388608


def conv_run(const x_t[:, :, :, :, :] x, const w_t[:, :, :, :, ::1] wt, stride, pad, dil, bint graded,
             int64_t[:, :, :, :, ::1] ring, Py_ssize_t t0, int64_t[:, :, :, :, ::1] y,
             int64_t[:, :, ::1] acc, bint emit, const int64_t[:, ::1] F,
             int64_t[:, :, ::1] cnt):
    """Integer convolution; see ``kernels_jit.conv_run``. Threads over samples."""
    cdef Py_ssize_t B = x.shape[1], H = x.shape[3], W = x.shape[4]
    cdef Py_ssize_t KH = wt.shape[2], KW = wt.shape[3]
    cdef Py_ssize_t OH = acc.shape[0], OW = acc.shape[1], CO = acc.shape[2], b
    cdef int nt = _nthreads(B)
    cdef int64_t* ac
    if OH * OW * CO == 0:
        return
    ny_, kyo_, oyo_ = _reach(H, KH, OH, int(stride[0]), int(pad[0]), int(dil[0]))
    nx_, kxo_, oxo_ = _reach(W, KW, OW, int(stride[1]), int(pad[1]), int(dil[1]))
    cdef int64_t[::1] ny = ny_, nx = nx_
    cdef int64_t[:, ::1] ky_of = kyo_, oy_of = oyo_, kx_of = kxo_, ox_of = oxo_
    if nt == 1:
        for b in range(B):
            _conv_sample(x, wt, graded, ring, t0, y, &acc[0, 0, 0], emit, F, cnt, ny, ky_of,
                         oy_of, nx, kx_of, ox_of, OH, OW, CO, b)
        return
    with nogil, parallel(num_threads=nt):
        ac = <int64_t*>calloc(OH * OW * CO, sizeof(int64_t))
        for b in prange(B, schedule="static"):
            _conv_sample(x, wt, graded, ring, t0, y, ac, emit, F, cnt, ny, ky_of, oy_of, nx,
                         kx_of, ox_of, OH, OW, CO, b)
        free(ac)


cdef void _lif_sample(const int64_t[:, :, :] a, int64_t[:, ::1] u, int64_t[:, ::1] v,
                      const int64_t[::1] fu, const int64_t[::1] fv, const int64_t[::1] bias, const int64_t[::1] vth,
                      Py_ssize_t interval, Py_ssize_t offset, Py_ssize_t t0,
                      uint8_t[:, :, ::1] s, uint8_t[:, :, ::1] act, int64_t[:, :, ::1] rec_u,
                      int64_t[:, :, ::1] rec_v, bint record, const int64_t[::1] bounds,
                      int64_t[:, :, ::1] act_cnt, int64_t[:, :, ::1] spk_cnt,
                      Py_ssize_t b) noexcept nogil:
    cdef Py_ssize_t T = a.shape[0], N = a.shape[2], K = bounds.shape[0] - 1, t, n, k
    cdef int64_t x, na, ns
    cdef lif_out r
    cdef int64_t* ub = &u[b, 0]
    cdef int64_t* vb = &v[b, 0]
    for t in range(T):
        if interval > 0 and (t0 + t + 1) % interval == offset:
            for n in range(N):
                ub[n] = 0
                vb[n] = 0
        for n in range(N):
            x = wrap32(a[t, b, n])
            act[t, b, n] = (x | ub[n] | vb[n] | bias[n]) != 0
            r = _lif_step(x, ub[n], vb[n], fu[n], fv[n], bias[n], vth[n])
            ub[n] = r.u
            vb[n] = r.v
            s[t, b, n] = r.s
        if record:
            for n in range(N):
                rec_u[t, b, n] = ub[n]
                rec_v[t, b, n] = vb[n]
        for k in range(K):
            na = 0
            ns = 0
            for n in range(bounds[k], bounds[k + 1]):
                na += act[t, b, n]
                ns += s[t, b, n]
            act_cnt[t, b, k] = na
            spk_cnt[t, b, k] = ns


def lif_run(const int64_t[:, :, :] a, int64_t[:, ::1] u, int64_t[:, ::1] v, const int64_t[::1] fu,
            const int64_t[::1] fv, const int64_t[::1] bias, const int64_t[::1] vth, Py_ssize_t interval,
            Py_ssize_t offset, Py_ssize_t t0, uint8_t[:, :, ::1] s, uint8_t[:, :, ::1] act,
            int64_t[:, :, ::1] rec_u, int64_t[:, :, ::1] rec_v, bint record,
            const int64_t[::1] bounds, int64_t[:, :, ::1] act_cnt, int64_t[:, :, ::1] spk_cnt):
    """Lava's PyLifModelBitAcc over T steps; see ``kernels_jit.lif_run``. Threads over
    samples."""
    cdef Py_ssize_t B = a.shape[1], b
    cdef int nt = _nthreads(B)
    if a.shape[2] == 0:
        return
    if nt == 1:
        for b in range(B):
            _lif_sample(a, u, v, fu, fv, bias, vth, interval, offset, t0, s, act, rec_u, rec_v,
                        record, bounds, act_cnt, spk_cnt, b)
        return
    for b in prange(B, nogil=True, num_threads=nt, schedule="static"):
        _lif_sample(a, u, v, fu, fv, bias, vth, interval, offset, t0, s, act, rec_u, rec_v,
                    record, bounds, act_cnt, spk_cnt, b)


def gather_counts(const x_t[:, :, :] x, const int64_t[:, ::1] F, int64_t[:, :, ::1] out):
    """out[t, b] += F[i] for every non-zero x[t, b, i]."""
    cdef Py_ssize_t T = x.shape[0], B = x.shape[1], M = x.shape[2], C = F.shape[1]
    cdef Py_ssize_t t, b, i, c
    for t in range(T):
        for b in range(B):
            for i in range(M):
                if x[t, b, i] != 0:
                    for c in range(C):
                        out[t, b, c] += F[i, c]


def count_per_core(const uint8_t[:, :, :] flags, const int64_t[::1] core, int64_t[:, :, ::1] out):
    """out[t, b, core[n]] += flags[t, b, n]."""
    cdef Py_ssize_t T = flags.shape[0], B = flags.shape[1], N = flags.shape[2], t, b, n
    for t in range(T):
        for b in range(B):
            for n in range(N):
                out[t, b, core[n]] += flags[t, b, n]
