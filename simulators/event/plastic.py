"""Plastic synapses (``loihi.plastic_dense``) in the event simulator.

A ``PlasticSynapseRunner`` owns one ``PlasticDense`` block (``simulators/learning/engine.py``,
built by ``simulators/learning/kernel.py``'s ``block_from_node``): the learning arithmetic lives
there only. The block persists across samples: ``reset`` (a new sample) clears its output buffer
``a_buf`` and keeps weights, tags and traces, as the reference kernel's ``new_sample`` does.

- Learning on (batch 1): the runner advances one step at a time, as the reference executor does:
  ``emit(t)`` sends ``a_buf``; ``run(x, t, emit=False)`` takes the step's input (and counts its
  synaptic events); ``after_step(post, t, third)`` runs the spike phase with the post layer's
  spikes of the same step (and the third factor, if any), then the learning phase when the step
  ends an epoch, and returns that step's learning counters per core.
- Learning off: a static dense ``SynapseRunner`` with the block's current weights, any batch,
  chunked like every other synapse. Its sums wrap to int32 like ``loihi.dense`` (the block does
  not wrap); the two differ only for graded sums beyond 2**31, which binary spikes never reach.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from ...errors import SnncError
from .count_rows import CountRows, table_for
from .runners import SynapseRunner, SynapseStatic

if TYPE_CHECKING:  # the learning engine is imported only when a plastic synapse runs
    from ..learning.engine import PlasticDense

#: probe variables of a plastic synapse (the reference kernel's names)
PLASTIC_VARS = ("w", "t", "d", "x1", "y1")

Third = Callable[[np.ndarray, int], dict[int, np.ndarray] | None]


class LearnCounts(NamedTuple):
    """A plastic synapse's learning counters per core of its post layer (K,) for one step, or
    (T, K) stacked over a chunk: synapses updated, learning epochs run."""

    updates: np.ndarray
    epochs: np.ndarray


def check_batch(name: str, batch: int) -> None:
    if batch != 1:
        raise SnncError(
            f"plastic synapse {name!r} learns online, one sample at a time, but the input has a "
            f"batch of {batch}: run samples one after another (batch 1), or switch learning off "
            f"(learning=LearningOptions(learn=False)) to run a batch with the current weights.")


class PlasticSynapseRunner:
    """One ``loihi.plastic_dense`` node: its ``PlasticDense`` block and, when learning is off, a
    static dense runner with the block's weights."""

    def __init__(self, name: str, node: Any, batch: int, kern: Any, core_local: np.ndarray,
                 n_cores: int, learn: bool, block: PlasticDense | None = None) -> None:
        if learn:
            check_batch(name, batch)
        self.name, self.node, self.batch, self.k, self.learn = name, node, batch, kern, learn
        if block is None:
            from ..learning.kernel import block_from_node

            block = block_from_node(node)
        self.block = block
        self.n_out = int(node.out_shape[0])
        self.core = np.asarray(core_local, np.int64)
        self.core_size = np.bincount(self.core, minlength=n_cores).astype(np.int64)
        self.F = np.zeros((0, 0), np.int64)  # counter table (counting.py): bind_counters
        self.Fk: Any = table_for(kern, self.F, None)  # the same, as the kernels take it
        self.counts = np.zeros((0, batch, 0), np.int64)
        self.x = np.zeros(self.block.tx.shape, np.int64)
        self._static: SynapseRunner | None = None
        self._static_w: np.ndarray | None = None

    # ---- both modes ---------------------------------------------------------------------------

    def bind_counters(self, table: np.ndarray, rows: CountRows | None = None) -> None:
        """Count with ``table`` (``counting.SynCount.F``: one row of costs per input) from now
        (``rows``: the same as ``CountRows``, if the caller has it)."""
        self.F = table
        self.Fk = table_for(self.k, table, rows)
        if self._static is not None:
            self._static.bind_counters(table, rows)

    def reset(self) -> None:
        """A new sample: clear the pending output; weights, tags and traces stay."""
        self.block.a_buf[:] = 0
        if self._static is not None:
            self._static.reset()

    def probe(self, var: str, T: int) -> np.ndarray:
        """(T, B, ...) copies of a block variable (constant over a chunk without learning)."""
        b = self.block
        val = np.asarray({"w": b.weights, "t": b.tag_1, "d": b.tag_2, "x1": b.x[0],
                          "y1": b.y[0]}[var], np.int64)
        return np.broadcast_to(val, (T, self.batch, *val.shape)).copy()

    # ---- learning off: a static dense runner --------------------------------------------------

    def static(self) -> SynapseRunner:
        """The static runner, rebuilt when the block's weights changed since it was made."""
        w = self.block.weights
        if self._static is None or self._static_w is not w:
            old = self._static
            self._static = SynapseRunner(self.node, self.batch, self.k,
                                         SynapseStatic.of(self.node, w))
            if old is not None:
                self._static.ring[:] = old.ring
            self._static_w = w
            self._static.bind_counters(self.F, self.Fk if isinstance(self.Fk, CountRows)
                                       else None)
        return self._static

    def run(self, x: np.ndarray, t0: int, emit: bool = True) -> np.ndarray:
        """Learning off: as ``SynapseRunner.run``. Learning on: absorb one step (``emit=False``)."""
        if not self.learn:
            st = self.static()
            y = st.run(x, t0, emit)
            self.counts = st.counts
            return y
        if emit or x.shape[0] != 1:
            raise AssertionError("a learning synapse advances one step at a time")
        x = np.asarray(x).reshape(1, self.batch, -1)
        self.counts = np.zeros((1, self.batch, self.F.shape[1]), np.int64)
        self.k.gather_counts(np.ascontiguousarray(x, np.int64), self.Fk, self.counts)
        self.x = x[0, 0].astype(np.int64)
        return np.empty((0, self.batch, self.n_out), np.int64)

    # ---- learning on: one step at a time ------------------------------------------------------

    def emit(self, t: int) -> np.ndarray:
        if not self.learn:
            return self.static().emit(t)
        return self.block.a_buf[None].copy()

    def after_step(self, post: np.ndarray, t: int, third: Third | None) -> LearnCounts:
        """Spike phase with the post layer's spikes ``post`` (n_out,) of step ``t``, then the
        learning phase at an epoch's end. Returns (synapses updated, epochs) per core."""
        block = self.block
        delivered = third(post, t) if third is not None else None
        block.spike_phase(self.x, post, t, delivered)
        if not block.is_learning_step(t):
            return LearnCounts(np.zeros_like(self.core_size), np.zeros_like(self.core_size))
        n_x = int(np.count_nonzero(block.tx > 0))
        y_core = np.bincount(self.core[block.ty > 0], minlength=len(self.core_size))
        before = block.counts["updates"]
        block.learning_phase(t)
        done = block.counts["updates"] - before
        n_pre = block.tx.size
        upd = n_x * self.core_size + y_core * n_pre - n_x * y_core
        if int(upd.sum()) != done:  # an epoch with an active u<k>: every synapse of the block
            upd = self.core_size * n_pre
        return LearnCounts(upd.astype(np.int64), np.ones_like(self.core_size))
