# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False, nonecheck=False
"""Ahead-of-time compiled (Cython -> C, built by scripts/build_kernels.py) inner loops of the
event simulator: the same functions, signatures and results as ``kernels_jit`` (numba) and
``kernels_np`` (numpy), without a JIT warm-up at run time.

``_lif_step`` is not written here: scripts/build_kernels.py generates it from
``simulators/loihi_lif.lif_step``, the one definition that numpy runs and numba compiles, and
includes it (``lif_step.pxi``); tests/simulators/event/test_kernels_aot.py checks the three agree
on random and boundary values and on random programs. Integer semantics: all state is int64; ``>>`` of a negative int64
is an arithmetic shift with gcc and clang, as in numpy; the 24-bit wrap of conv sums uses a mask
(``& 0xFFFFFF``), equal to Python's floor ``% 2**24``.

Threads: the loops over samples (b) of the synapse and LIF kernels run in parallel with OpenMP
(``prange``, samples handed out dynamically) when the batch has at least two samples, the call
has at least ``set_batch_work``'s minimum of values, and ``set_threads`` allows it; every
sample owns its rows of every array, so results do not depend on the thread count. A single
sample of a large layer is split over its neurons instead: each thread runs all T steps of the
chunk for its own slice of output columns (dense synapses, with its own sums and counts),
output channels (conv: 8+ per thread, 4096+ outputs) or neurons (LIF), with at least
``set_split``'s minimum (default 2048) per thread; a column's sums and a neuron's state depend
on nothing outside it within a chunk, so this too is bit-identical to one thread. The counter
table comes as ``count_rows.CountRows`` (an int32 head added as a vector, a sparse tail);
a split dense sample's threads add disjoint head columns (thread 0 the tail) and write them
once per step; conv counts are added by one thread, LIF per-core counts after the threads.
``runners`` loads this module with ``OMP_WAIT_POLICY=PASSIVE`` (docs/DESIGN.md).
"""

from cython.parallel cimport parallel, prange
from libc.stdint cimport int8_t, int16_t, int32_t, int64_t, uint8_t
from libc.stdlib cimport calloc, free, malloc
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
cdef Py_ssize_t _min_split = 2048  # fewest columns / neurons per thread when one sample splits
# Fewest values (outputs + inputs, all samples and steps) a call threads over samples for:
# waking a sleeping OpenMP thread costs about 10 us (passive wait policy), a LIF neuron-step
# about 1 ns. Measured: a 2 x 10-neuron LIF step took 2.7 us on 1 thread and 11.8 us on 2.
cdef Py_ssize_t _min_work = 32768
cdef int64_t H31 = 2147483648, M32 = 4294967295  # 2**31, 2**32 - 1


def set_threads(int n):
    """Threads used over the samples of a batch (1: serial); returns the previous value."""
    global _threads
    old = _threads
    _threads = max(1, n)
    return old


def get_threads():
    return _threads


def set_batch_work(Py_ssize_t n):
    """Fewest values (outputs and inputs over all samples and steps of a call) for threads
    over samples (tests lower it to thread small batches); returns the previous value."""
    global _min_work
    old = _min_work
    _min_work = max(0, n)
    return old


def set_split(Py_ssize_t n):
    """Fewest output columns or neurons per thread when a single sample is split (tests lower
    it to split small layers); returns the previous value."""
    global _min_split
    old = _min_split
    _min_split = max(1, n)
    return old


cdef inline int _nsplit(Py_ssize_t B, Py_ssize_t N) noexcept nogil:
    """Threads over the neurons of a single sample (1: no split)."""
    cdef Py_ssize_t k
    if B != 1 or _threads < 2:
        return 1
    k = N // _min_split
    return <int>(k if k < _threads else _threads) if k > 1 else 1


cdef inline int _nsplit_conv(Py_ssize_t B, Py_ssize_t OPG, Py_ssize_t outputs) noexcept nogil:
    """Threads over the output channels of a single sample's conv: at least ``_min_split``
    // 32 channels (8 by default) per thread and 16 x ``_min_split`` outputs in all."""
    cdef Py_ssize_t per = _min_split // 32, k
    if B != 1 or _threads < 2 or outputs < 16 * _min_split:
        return 1
    k = OPG // (per if per > 1 else 1)
    return <int>(k if k < _threads else _threads) if k > 1 else 1


cdef inline Py_ssize_t _cut(Py_ssize_t N, int parts, int k) noexcept nogil:
    """Start of slice k of N split in ``parts`` (none empty when parts <= N; multiples of 64,
    for whole vectors, when every slice still gets at least 64)."""
    cdef Py_ssize_t c = N * k // parts
    if k >= parts:
        return N
    return c // 64 * 64 if N >= 64 * parts else c


cdef inline int64_t wrap32(int64_t x) noexcept nogil:
    return ((x + H31) & M32) - H31


#: the synapse kernels take the counter table as ``count_rows.CountRows`` (not ``F``)
COMPACT_COUNTS = True

ctypedef struct crows:  # a CountRows' arrays (alive for the call: the caller holds them)
    const int32_t* head  # (n_in, h)
    Py_ssize_t h
    const int64_t* ptr  # (n_in + 1,)
    const int32_t* col
    const int64_t* val
    Py_ssize_t C
    bint fits32  # a step's head sums fit in int32 (CountRows.fits32)


cdef crows _rows(rows) except *:
    cdef const int32_t[:, ::1] head = rows.head
    cdef const int64_t[::1] ptr = rows.ptr, val = rows.val
    cdef const int32_t[::1] col = rows.col
    cdef crows r
    r.h = head.shape[1]
    r.C = rows.width
    r.fits32 = bool(rows.fits32)
    r.head = <const int32_t*>&head[0, 0] if head.shape[0] * r.h else NULL
    r.ptr = &ptr[0]
    r.col = &col[0] if col.shape[0] else NULL
    r.val = &val[0] if val.shape[0] else NULL
    return r


cdef inline void _count(const crows* F, Py_ssize_t i, int64_t* dst, Py_ssize_t c0,
                        Py_ssize_t c1, bint tail) noexcept nogil:
    """dst += row i of the counter table: head columns c0..c1-1 and, with ``tail``, the rest."""
    cdef Py_ssize_t c, e
    cdef const int32_t* hr
    if c1 > c0:
        hr = F.head + i * F.h
        for c in range(c0, c1):
            dst[c] += hr[c]
    if tail:
        for e in range(F.ptr[i], F.ptr[i + 1]):
            dst[F.col[e]] += F.val[e]


ctypedef struct lif_out:
    int64_t u
    int64_t v
    uint8_t s


# _lif_step(x, u, v, fu, fv, bias, vth) -> lif_out: generated by scripts/build_kernels.py from
# simulators/loihi_lif.lif_step (the one definition), written to the build folder.
include "lif_step.pxi"


def lif_step_scalar(int64_t x, int64_t u, int64_t v, int64_t fu, int64_t fv, int64_t bias,
                    int64_t vth):
    """``_lif_step`` callable from Python (for the identity test against ``lif_step``)."""
    cdef lif_out r = _lif_step(x, u, v, fu, fv, bias, vth)
    return r.u, r.v, r.s


cdef inline int _nthreads(Py_ssize_t B, Py_ssize_t work) noexcept nogil:
    """Threads over the samples of a batch: only with ``work`` (outputs and inputs over all
    samples and steps) of at least ``set_batch_work``'s minimum."""
    return _threads if B > 1 and _threads > 1 and work >= _min_work else 1


cdef void _dense_sample(const x_t[:, :, :] x, const w_t[:, ::1] wt, int shift, bint graded,
                        int64_t[:, :, ::1] ring, Py_ssize_t t0, int64_t[:, :, ::1] y,
                        a_t* a, bint emit, const crows* F, int64_t[:, :, ::1] cnt,
                        Py_ssize_t b, Py_ssize_t j0, Py_ssize_t j1, Py_ssize_t c0,
                        Py_ssize_t c1, bint tail, int64_t* cb) noexcept nogil:
    """Sample b, output columns j0..j1-1 (``a``: their sums, from index 0), all T steps; each
    event also adds the counter table's head columns c0..c1-1 and, with ``tail``, its tail.
    ``cb``: NULL (counts go to ``cnt``) or a private row of C counts, added to ``cnt`` at the
    end of each step (a split sample: its threads never write one cache line per event)."""
    cdef Py_ssize_t T = x.shape[0], M = x.shape[2], n = j1 - j0
    cdef Py_ssize_t R = ring.shape[0], t, i, j, c, slot, nxt
    cdef bint counting = c1 > c0 or (tail and F.C > F.h)
    cdef int64_t v
    cdef const w_t* row
    cdef const int32_t* hr
    cdef int64_t* rg
    cdef int64_t* dst
    cdef int32_t* s32 = NULL  # a step's head sums in int32 lanes (twice as many per vector)
    cdef Py_ssize_t nh = c1 - c0
    if F.fits32 and nh > 0:
        s32 = <int32_t*>malloc(nh * sizeof(int32_t))
    for t in range(T):
        slot = (t0 + t) % R
        nxt = (t0 + t + 1) % R
        if emit:
            rg = &ring[slot, b, j0]
            for j in range(n):
                y[t, b, j0 + j] = wrap32(rg[j])
                rg[j] = 0
        memset(a, 0, n * sizeof(a_t))
        if cb != NULL:
            memset(cb, 0, F.C * sizeof(int64_t))
            dst = cb
        else:
            dst = &cnt[t, b, 0]
        if s32 != NULL:
            memset(s32, 0, nh * sizeof(int32_t))
        for i in range(M):
            v = x[t, b, i]
            if v == 0:
                continue
            if s32 != NULL:
                hr = F.head + i * F.h + c0
                for c in range(nh):
                    s32[c] += hr[c]
                if tail:
                    _count(F, i, dst, c0, c0, True)
            elif counting:
                _count(F, i, dst, c0, c1, tail)
            row = &wt[i, j0]
            if graded:
                for j in range(n):
                    a[j] += row[j] * v
            else:
                for j in range(n):
                    a[j] += row[j]
        if s32 != NULL:
            for c in range(nh):
                dst[c0 + c] += s32[c]
        if cb != NULL and counting:
            for c in range(c0, c1):
                cnt[t, b, c] += cb[c]
            if tail:
                for c in range(F.h, F.C):
                    cnt[t, b, c] += cb[c]
        rg = &ring[nxt, b, j0]
        if graded:  # Lava's graded W @ s is an int32 dot product
            for j in range(n):
                rg[j] += wrap32(<int64_t>a[j]) >> shift
        else:
            for j in range(n):
                rg[j] += (<int64_t>a[j]) >> shift
    free(s32)


def dense_run(const x_t[:, :, :] x, const w_t[:, ::1] wt, int shift, bint graded,
              int64_t[:, :, ::1] ring, Py_ssize_t t0, int64_t[:, :, ::1] y, a_t[::1] acc,
              bint emit, rows, int64_t[:, :, ::1] cnt):
    """Dense synapses without delays; see ``kernels_jit.dense_run`` (``rows``: the counter
    table as ``CountRows``). ``acc`` gives the sum's dtype. Samples are independent: each runs
    all T steps on its own; a single sample splits its columns (and the counter table's head
    columns) over threads, each with private sums and counts."""
    cdef Py_ssize_t B = x.shape[1], N = wt.shape[1], b
    cdef int nt = _nthreads(B, B * x.shape[0] * (N + x.shape[2])), ns = _nsplit(B, N), k
    cdef crows F = _rows(rows)
    cdef a_t* ac
    cdef int64_t* cb
    if N == 0:
        return
    if ns > 1:  # one sample: threads over slices of the output columns
        with nogil, parallel(num_threads=ns):
            ac = <a_t*>calloc(N, sizeof(a_t))
            cb = <int64_t*>calloc(F.C + 1, sizeof(int64_t))
            for k in prange(ns, schedule="static", chunksize=1):
                _dense_sample(x, wt, shift, graded, ring, t0, y, ac, emit, &F, cnt, 0,
                              _cut(N, ns, k), _cut(N, ns, k + 1), F.h * k // ns,
                              F.h * (k + 1) // ns, k == 0, cb)
            free(cb)
            free(ac)
        return
    if nt == 1:
        for b in range(B):
            _dense_sample(x, wt, shift, graded, ring, t0, y, &acc[0], emit, &F, cnt, b, 0, N,
                          0, F.h, True, NULL)
        return
    with nogil, parallel(num_threads=nt):
        ac = <a_t*>calloc(N, sizeof(a_t))
        for b in prange(B, schedule="dynamic"):
            _dense_sample(x, wt, shift, graded, ring, t0, y, ac, emit, &F, cnt, b, 0, N, 0,
                          F.h, True, NULL)
        free(ac)


def delay_dense_run(const x_t[:, :, :] x, const w_t[:, ::1] wt, const uint8_t[:, ::1] dt, int shift,
                    bint graded, int64_t[:, :, ::1] ring, Py_ssize_t t0,
                    int64_t[:, :, ::1] y, a_t[:, ::1] acc, bint emit, rows,
                    int64_t[:, :, ::1] cnt):
    """DelayDense; see ``kernels_jit.delay_dense_run`` (serial: delays are rare and small)."""
    cdef Py_ssize_t T = x.shape[0], B = x.shape[1], M = x.shape[2], N = wt.shape[1]
    cdef Py_ssize_t R = ring.shape[0], t, b, i, j, d, dst
    cdef int64_t v
    cdef crows F = _rows(rows)
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
                _count(&F, i, &cnt[t, b, 0], 0, F.h, True)
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
                       const crows* F, int64_t[:, :, ::1] cnt, int64_t[::1] ny,
                       int64_t[:, ::1] ky_of, int64_t[:, ::1] oy_of, int64_t[::1] nx,
                       int64_t[:, ::1] kx_of, int64_t[:, ::1] ox_of, Py_ssize_t OH,
                       Py_ssize_t OW, Py_ssize_t CO, Py_ssize_t b, Py_ssize_t o0,
                       Py_ssize_t o1, bint count) noexcept nogil:
    """Sample b, output channels o0..o1-1 of every group, all T steps; ``count``: also add
    the inputs' counter rows."""
    cdef Py_ssize_t T = x.shape[0], Cin = x.shape[2], H = x.shape[3], W = x.shape[4]
    cdef Py_ssize_t CPG = wt.shape[1], OPG = wt.shape[4], R = ring.shape[0]
    cdef Py_ssize_t t, ci, g, cl, iy, ix, i, a, e, ky, oy, kx, ox, o, co, slot, nxt
    cdef int64_t v, s
    cdef int64_t* dst
    cdef const w_t* wk
    for t in range(T):
        slot = (t0 + t) % R
        nxt = (t0 + t + 1) % R
        if emit:
            for co in range(CO):
                if co % OPG < o0 or co % OPG >= o1:
                    continue
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
                    if count:
                        _count(F, i, &cnt[t, b, 0], 0, F.h, True)
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
                            for o in range(o0, o1):
                                dst[o] += wk[o] * v
        for oy in range(OH):
            for ox in range(OW):
                for co in range(CO):
                    if co % OPG < o0 or co % OPG >= o1:
                        continue
                    s = ac[(oy * OW + ox) * CO + co]
                    ring[nxt, b, co, oy, ox] += ((s + 8388608) & 16777215) - 8388608


def conv_run(const x_t[:, :, :, :, :] x, const w_t[:, :, :, :, ::1] wt, stride, pad, dil, bint graded,
             int64_t[:, :, :, :, ::1] ring, Py_ssize_t t0, int64_t[:, :, :, :, ::1] y,
             int64_t[:, :, ::1] acc, bint emit, rows, int64_t[:, :, ::1] cnt):
    """Integer convolution; see ``kernels_jit.conv_run`` (``rows``: the counter table as
    ``CountRows``). Threads over samples."""
    cdef Py_ssize_t B = x.shape[1], H = x.shape[3], W = x.shape[4]
    cdef Py_ssize_t KH = wt.shape[2], KW = wt.shape[3]
    cdef Py_ssize_t OH = acc.shape[0], OW = acc.shape[1], CO = acc.shape[2], b
    cdef Py_ssize_t OPG = wt.shape[4]
    cdef int nt = _nthreads(B, B * x.shape[0] * (OH * OW * CO + x.shape[2] * H * W))
    cdef int ns = _nsplit_conv(B, OPG, OH * OW * CO), k
    cdef crows F = _rows(rows)
    cdef int64_t* ac
    if OH * OW * CO == 0:
        return
    ny_, kyo_, oyo_ = _reach(H, KH, OH, int(stride[0]), int(pad[0]), int(dil[0]))
    nx_, kxo_, oxo_ = _reach(W, KW, OW, int(stride[1]), int(pad[1]), int(dil[1]))
    cdef int64_t[::1] ny = ny_, nx = nx_
    cdef int64_t[:, ::1] ky_of = kyo_, oy_of = oyo_, kx_of = kxo_, ox_of = oxo_
    if ns > 1:  # one sample: threads over slices of each group's output channels
        with nogil, parallel(num_threads=ns):
            ac = <int64_t*>calloc(OH * OW * CO, sizeof(int64_t))  # own rows: no false sharing
            for k in prange(ns, schedule="static", chunksize=1):
                _conv_sample(x, wt, graded, ring, t0, y, ac, emit, &F, cnt, ny, ky_of, oy_of,
                             nx, kx_of, ox_of, OH, OW, CO, 0, OPG * k // ns,
                             OPG * (k + 1) // ns, k == 0)
            free(ac)
        return
    if nt == 1:
        for b in range(B):
            _conv_sample(x, wt, graded, ring, t0, y, &acc[0, 0, 0], emit, &F, cnt, ny, ky_of,
                         oy_of, nx, kx_of, ox_of, OH, OW, CO, b, 0, OPG, True)
        return
    with nogil, parallel(num_threads=nt):
        ac = <int64_t*>calloc(OH * OW * CO, sizeof(int64_t))
        for b in prange(B, schedule="dynamic"):
            _conv_sample(x, wt, graded, ring, t0, y, ac, emit, &F, cnt, ny, ky_of, oy_of, nx,
                         kx_of, ox_of, OH, OW, CO, b, 0, OPG, True)
        free(ac)


cdef void _lif_sample(const int64_t[:, :, :] a, int64_t[:, ::1] u, int64_t[:, ::1] v,
                      const int64_t[::1] fu, const int64_t[::1] fv, const int64_t[::1] bias, const int64_t[::1] vth,
                      Py_ssize_t interval, Py_ssize_t offset, Py_ssize_t t0,
                      uint8_t[:, :, ::1] s, uint8_t[:, :, ::1] act, int64_t[:, :, ::1] rec_u,
                      int64_t[:, :, ::1] rec_v, bint record, const int64_t[::1] bounds,
                      int64_t[:, :, ::1] act_cnt, int64_t[:, :, ::1] spk_cnt,
                      Py_ssize_t b, Py_ssize_t n0, Py_ssize_t n1, bint count) noexcept nogil:
    """Sample b, neurons n0..n1-1, all T steps; ``count``: also the per-core counts."""
    cdef Py_ssize_t T = a.shape[0], t, n
    cdef int64_t x
    cdef lif_out r
    cdef int64_t* ub = &u[b, 0]
    cdef int64_t* vb = &v[b, 0]
    for t in range(T):
        if interval > 0 and (t0 + t + 1) % interval == offset:
            for n in range(n0, n1):
                ub[n] = 0
                vb[n] = 0
        for n in range(n0, n1):
            x = wrap32(a[t, b, n])
            act[t, b, n] = (x | ub[n] | vb[n] | bias[n]) != 0
            r = _lif_step(x, ub[n], vb[n], fu[n], fv[n], bias[n], vth[n])
            ub[n] = r.u
            vb[n] = r.v
            s[t, b, n] = r.s
        if record:
            for n in range(n0, n1):
                rec_u[t, b, n] = ub[n]
                rec_v[t, b, n] = vb[n]
        if count:
            _core_counts(s, act, bounds, act_cnt, spk_cnt, t, b)


cdef void _core_counts(uint8_t[:, :, ::1] s, uint8_t[:, :, ::1] act, const int64_t[::1] bounds,
                       int64_t[:, :, ::1] act_cnt, int64_t[:, :, ::1] spk_cnt, Py_ssize_t t,
                       Py_ssize_t b) noexcept nogil:
    cdef Py_ssize_t K = bounds.shape[0] - 1, k, n
    cdef int64_t na, ns
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
    cdef Py_ssize_t B = a.shape[1], N = a.shape[2], T = a.shape[0], b, t
    cdef int nt = _nthreads(B, B * T * N), ns = _nsplit(B, N), k
    if N == 0:
        return
    if ns > 1:  # one sample: threads over slices of the neurons, per-core counts after
        for k in prange(ns, nogil=True, num_threads=ns, schedule="static", chunksize=1):
            _lif_sample(a, u, v, fu, fv, bias, vth, interval, offset, t0, s, act, rec_u,
                        rec_v, record, bounds, act_cnt, spk_cnt, 0, _cut(N, ns, k),
                        _cut(N, ns, k + 1), False)
        for t in range(T):
            _core_counts(s, act, bounds, act_cnt, spk_cnt, t, 0)
        return
    if nt == 1:
        for b in range(B):
            _lif_sample(a, u, v, fu, fv, bias, vth, interval, offset, t0, s, act, rec_u, rec_v,
                        record, bounds, act_cnt, spk_cnt, b, 0, N, True)
        return
    for b in prange(B, nogil=True, num_threads=nt, schedule="dynamic"):
        _lif_sample(a, u, v, fu, fv, bias, vth, interval, offset, t0, s, act, rec_u, rec_v,
                    record, bounds, act_cnt, spk_cnt, b, 0, N, True)


def gather_counts(const x_t[:, :, :] x, rows, int64_t[:, :, ::1] out):
    """out[t, b] += row i of the counter table (``CountRows``) for every non-zero x[t, b, i];
    threads over samples."""
    cdef Py_ssize_t T = x.shape[0], B = x.shape[1], M = x.shape[2], t, b, i
    cdef crows F = _rows(rows)
    cdef int nt = _nthreads(B, B * T * (M + F.C))
    if F.C == 0:
        return
    for b in prange(B, nogil=True, num_threads=nt, schedule="dynamic"):
        for t in range(T):
            for i in range(M):
                if x[t, b, i] != 0:
                    _count(&F, i, &out[t, b, 0], 0, F.h, True)


def count_per_core(const uint8_t[:, :, :] flags, const int64_t[::1] core, int64_t[:, :, ::1] out):
    """out[t, b, core[n]] += flags[t, b, n]."""
    cdef Py_ssize_t T = flags.shape[0], B = flags.shape[1], N = flags.shape[2], t, b, n
    for t in range(T):
        for b in range(B):
            for n in range(N):
                out[t, b, core[n]] += flags[t, b, n]
