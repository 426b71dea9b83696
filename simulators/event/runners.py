"""Per-node runners: the state of one synapse node or neuron layer and how to advance it.

A runner advances a whole layer (all its cores) over a chunk of T steps at once; cores of one layer
never interact within a step, so this equals running each core separately. ``run(x, t0)`` takes
the node's input for steps t0..t0+T-1, shape (T, B, *in_shape), and returns its output.
Synapses have one step of latency (DelayDense: d + 1): their ``emit(t)`` / ``absorb(x, t0)``
halves serve graphs with cycles, which advance one step at a time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from ...ir.weights import effective_dense_weights
from . import kernel_sets, kernels_np
from .count_rows import CountRows, table_for
from .kernel_sets import KERNEL_SETS, available, kernels, threads

__all__ = ["KERNEL_SETS", "LifRunner", "LifStep", "SynapseRunner", "SynapseStatic",
           "available", "kernels", "threads"]

#: Dense synapses use a float BLAS product instead of the event loop when at least this
#: fraction of their inputs is non-zero over the chunk and the batch is at least BLAS_MIN_BATCH.
#: Measured on the 784-512-256-10 benchmark with a batch of 64 (2-core machine): the event loop
#: was 3.6x faster than float32 BLAS at 10 % input activity and 4.4x at 30 %.
BLAS_MIN_DENSITY = 0.6
BLAS_MIN_BATCH = 8


def __getattr__(name: str) -> Any:
    if name == "HAVE_JIT":  # kernel_sets.HAVE_JIT: whether the numba kernels import
        return kernel_sets.HAVE_JIT
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _smallest_int(a: np.ndarray) -> np.ndarray:
    for dt in (np.int8, np.int16, np.int32):
        info = np.iinfo(dt)
        if a.size == 0 or (a.min() >= info.min and a.max() <= info.max):
            return np.ascontiguousarray(a, dtype=dt)
    return np.ascontiguousarray(a, dtype=np.int64)


def _delays(node: Any) -> np.ndarray | None:
    d = None if node.op == "loihi.conv" else getattr(node, "delays", None)
    return None if d is None or d.size == 0 else d


@dataclass(frozen=True)
class SynapseStatic:
    """What a synapse runner derives from its node once: the weights in kernel layout and the
    accumulator it needs. Depends on the node (and weights) only, so a ``ProgramCache`` keeps it.

    ``wt``: conv (g, cpg, kh, kw, opg); dense (in, out), both in the smallest integer type that
    holds them. ``shift``: right shift of the sums (negative weight exponent). ``dt``: per-synapse
    delays (in, out) for ``DelayDense``, else None. ``acc_shape`` / ``acc_dtype``: the kernel's
    scratch accumulator (dense binary sums use the narrowest type their bound allows).
    """

    wt: np.ndarray
    acc_shape: tuple[int, ...]
    acc_dtype: type
    shift: int = 0
    dt: np.ndarray | None = None

    @classmethod
    def of(cls, node: Any, weights: np.ndarray | None = None) -> SynapseStatic:
        """From the node; dense ``weights`` (effective, (out, in)) if the caller has them."""
        if node.op == "loihi.conv":
            w = np.asarray(node.weight, np.int64)
            g = node.groups
            opg, cpg, kh, kw = w.shape[0] // g, *w.shape[1:]
            out = tuple(node.out_shape)
            return cls(_smallest_int(w.reshape(g, opg, cpg, kh, kw).transpose(0, 2, 3, 4, 1)),
                       (out[1], out[2], out[0]), np.int64)
        w = effective_dense_weights(node.weight, node.num_weight_bits) if weights is None \
            else weights
        shift = 0 if node.weight_exp >= 0 else -int(node.weight_exp)
        if node.weight_exp > 0:
            w = w << int(node.weight_exp)
        n_out = int(np.prod(node.out_shape))
        delays = _delays(node)
        bound = np.abs(w).sum(1).max(initial=0)  # largest possible |sum| of binary inputs
        acc_dtype = (np.int64 if node.num_message_bits > 0 or bound >= 2**31 else
                     np.int32 if bound >= 2**15 else np.int16)
        if delays is None:
            return cls(_smallest_int(w.T), (n_out,), acc_dtype, shift)
        depth = int(delays.max()) + 1
        dt = np.ascontiguousarray(np.broadcast_to(delays, w.shape).T, np.uint8)
        return cls(_smallest_int(w.T), (depth, n_out) if depth > 1 else (n_out,), acc_dtype,
                   shift, dt if depth > 1 else None)


class SynapseRunner:
    """``loihi.dense`` (with or without delays) and ``loihi.conv``."""

    def __init__(self, node: Any, batch: int, kern: Any,
                 static: SynapseStatic | None = None) -> None:
        self.node, self.batch, self.k = node, batch, kern
        self.graded = node.num_message_bits > 0
        self.out_shape = tuple(node.out_shape)
        self.n_out = int(np.prod(self.out_shape))
        self.is_conv = node.op == "loihi.conv"
        delays = _delays(node)
        depth = 1 if delays is None else int(delays.max()) + 1
        self.ring = np.zeros((depth, batch, *self.ring_shape()), np.int64)
        st = SynapseStatic.of(node) if static is None else static
        self.wt, self.shift, self.dt = st.wt, st.shift, st.dt
        self.acc = np.zeros(st.acc_shape, st.acc_dtype)
        self.wf: np.ndarray | None = None  # float copy of wt for the BLAS path, made on first use
        self.F = np.zeros((0, 0), np.int64)  # counter table (counting.py): bind_counters
        self.Fk: Any = table_for(kern, self.F, None)  # the same, as the kernels take it
        self.counts = np.zeros((0, batch, 0), np.int64)  # per-event counters of the last run

    def bind_counters(self, table: np.ndarray, rows: CountRows | None = None) -> None:
        """Count with ``table`` (``counting.SynCount.F``: one row of costs per input) from now;
        ``rows``: the same as ``CountRows`` (made here if the kernels need it and it is not
        given)."""
        self.F = table
        self.Fk = table_for(self.k, table, rows)

    def ring_shape(self) -> tuple[int, ...]:
        return self.out_shape if self.is_conv else (self.n_out,)

    def reset(self) -> None:
        self.ring[:] = 0

    def _input(self, x: np.ndarray) -> np.ndarray:
        T, B = x.shape[:2]
        x = x.reshape(T, B, *self.node.in_shape) if self.is_conv else x.reshape(T, B, -1)
        if self.graded:
            return np.ascontiguousarray(x, np.int64)
        return np.ascontiguousarray(x != 0, np.uint8) if x.dtype != np.uint8 else x

    def run(self, x: np.ndarray, t0: int, emit: bool = True) -> np.ndarray:
        """Absorb x (T, B, *in_shape); with ``emit``, return outputs (T, B, *out_shape)."""
        x = self._input(x)
        T = x.shape[0]
        y = np.empty((T if emit else 0, self.batch, *self.ring_shape()), np.int64)
        self.counts = cnt = np.zeros((T, self.batch, self.F.shape[1]), np.int64)
        F = self.Fk
        if self.is_conv:
            n = self.node
            self.k.conv_run(x, self.wt, np.asarray(n.stride), np.asarray(n.padding),
                            np.asarray(n.dilation), self.graded, self.ring, t0, y, self.acc, emit,
                            F, cnt)
        elif self.dt is not None:
            self.k.delay_dense_run(x, self.wt, self.dt, self.shift, self.graded, self.ring, t0, y,
                                   self.acc, emit, F, cnt)
        elif emit and self._use_blas(x):
            self._blas(x, t0, y)
            self.k.gather_counts(x, F, cnt)
        else:
            self.k.dense_run(x, self.wt, self.shift, self.graded, self.ring, t0, y, self.acc, emit,
                             F, cnt)
        return y.reshape(T, self.batch, *self.out_shape) if emit else y

    def _use_blas(self, x: np.ndarray) -> bool:
        if self.k is kernels_np or self.graded or self.acc.dtype == np.int64:
            return False
        return self.batch >= BLAS_MIN_BATCH and np.count_nonzero(x) >= BLAS_MIN_DENSITY * x.size

    def _blas(self, x: np.ndarray, t0: int, y: np.ndarray) -> None:
        """Batch path: one float matrix product, exact because |sums| stay below the mantissa."""
        if self.wf is None:
            bound = np.abs(self.wt.astype(np.int64)).sum(0).max(initial=0)
            self.wf = self.wt.astype(np.float32 if bound < 2**24 else np.float64)
        T, B, M = x.shape
        z = np.rint(x.reshape(T * B, M).astype(self.wf.dtype) @ self.wf).astype(np.int64)
        z = (z >> self.shift).reshape(T, B, -1)
        y[0] = self.ring[0]  # binary sums stay below 2**31 (see acc_dtype): no int32 wrap
        y[1:] = z[:-1]
        self.ring[0] = z[-1]

    def emit(self, t: int) -> np.ndarray:
        slot = t % self.ring.shape[0]
        y = kernels_np.wrap32(self.ring[slot])
        self.ring[slot] = 0
        return y.reshape(self.batch, *self.out_shape)


class LifStep(NamedTuple):
    """A LIF layer's chunk: spikes (T, B, *shape) uint8; neurons active and spiking per core
    (T, B, K); with recording, u and v after each step (T, B, *shape), else empty."""

    spikes: np.ndarray
    active: np.ndarray
    spiking: np.ndarray
    u: np.ndarray
    v: np.ndarray

    def var(self, name: str) -> np.ndarray:
        """A recorded state variable: ``u`` or ``v``."""
        return self.u if name == "u" else self.v


class LifRunner:
    """``loihi.lif`` (and LIFReset): u, v state in 24-bit Lava arithmetic."""

    def __init__(self, node: Any, batch: int, kern: Any, core_local: np.ndarray, n_cores: int):
        self.node, self.batch, self.k = node, batch, kern
        self.shape = tuple(node.shape)
        n = int(np.prod(self.shape))

        def full(a: Any) -> np.ndarray:
            return np.ascontiguousarray(np.broadcast_to(np.asarray(a, np.int64), self.shape)
                                        .ravel())

        self.fu = full(4096 - (node.du + 1))
        self.fv = full(4096 - node.dv)
        be = full(node.bias_exp)
        bm = full(node.bias_mant)
        self.bias = np.where(be >= 0, bm << np.maximum(be, 0), bm >> np.maximum(-be, 0))
        self.vth = full(node.vth) << 6
        self.interval = int(node.reset_interval)
        self.offset = node.reset_offset % self.interval if self.interval > 0 else 0
        self.core = np.ascontiguousarray(core_local, np.int64)
        self.n_cores = n_cores
        contiguous = bool(np.all(np.diff(self.core) >= 0))
        self.bounds = (np.searchsorted(self.core, np.arange(n_cores + 1)).astype(np.int64)
                       if contiguous else np.zeros(0, np.int64))
        self.v_init = full(getattr(node, "v_init", 0))  # programmable: v at start and reset
        self.u = np.zeros((batch, n), np.int64)
        self.v = np.zeros((batch, n), np.int64) + self.v_init
        self.r = np.zeros((batch, n), np.int64)  # programmable delayed subtract: last spikes

    def reset(self) -> None:
        self.u[:] = 0
        self.v[:] = self.v_init
        self.r[:] = 0

    def run(self, a: np.ndarray, t0: int, record: bool = False) -> LifStep:
        """a (T, B, *shape) -> spikes (T, B, *shape) uint8, active and spike counts per core
        (T, B, K) and, with ``record``, u and v after each step."""
        T = a.shape[0]
        a = np.ascontiguousarray(a.reshape(T, self.batch, -1), dtype=np.int64)
        s = np.empty(a.shape, np.uint8)
        act = np.empty(a.shape, np.uint8)
        rec_u = np.empty(a.shape if record else (0, 0, 0), np.int64)
        rec_v = np.empty_like(rec_u)
        act_cnt = np.zeros((T, self.batch, self.n_cores), np.int64)
        spk_cnt = np.zeros_like(act_cnt)
        prog = bool(getattr(self.node, "programmable", False))
        if prog:
            from .prog_lif import prog_lif_run

            prog_lif_run(self.node, a, self.u, self.v, self.r, self.fu, self.fv, self.bias,
                         self.vth, self.interval, self.offset, t0, s, act, rec_u, rec_v, record,
                         self.v_init)
        else:
            self.k.lif_run(a, self.u, self.v, self.fu, self.fv, self.bias, self.vth,
                           self.interval, self.offset, t0, s, act, rec_u, rec_v, record,
                           self.bounds, act_cnt, spk_cnt)
        if prog or not self.bounds.size:
            act_cnt, spk_cnt = self._per_core(act), self._per_core(s)
        shp = (T, self.batch, *self.shape)
        if record:
            rec_u, rec_v = rec_u.reshape(shp), rec_v.reshape(shp)
        return LifStep(s.reshape(shp), act_cnt, spk_cnt, rec_u, rec_v)

    def _per_core(self, flags: np.ndarray) -> np.ndarray:
        """(T, B, N) 0/1 flags -> (T, B, K) counts per core."""
        out = np.zeros((*flags.shape[:2], self.n_cores), np.int64)
        self.k.count_per_core(flags, self.core, out)
        return out
