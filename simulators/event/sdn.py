"""Sigma-delta neuron layers in the event simulator (Loihi 2's graded spikes).

``SdnRunner`` advances a ``loihi.delta`` / ``loihi.sigma_delta`` / ``loihi.sigma`` layer over a
chunk of steps with the same exact-integer step as the reference (``simulators/kernels_sdn.py``,
Lava's ``sdn`` fixed_pt models, checked against Lava in tests/lava/test_sdn_vs_lava.py), and
counts, per core and step, what the chip's neurons do:

- ``active``: neurons whose input, or any state the model keeps (sigma, act, residue, error), is
  non-zero as the step starts, or that have a bias: their state can change;
- ``spiking``: neurons that send a graded spike (a non-zero payload) this step.

The payload itself is the layer's output value; the synapses after it read it as a graded
message (``num_message_bits`` > 0) and the counter plan charges each message its payload bits.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from ..kernels import kernel_for

SDN_OPS = ("loihi.delta", "loihi.sigma_delta", "loihi.sigma")
#: the state variables a probe may read, per op (Lava's Var names)
SDN_VARS = {"loihi.delta": ("act", "residue", "error"),
            "loihi.sigma_delta": ("sigma", "act", "residue", "error"),
            "loihi.sigma": ("sigma",)}


class SdnStep(NamedTuple):
    """A sigma-delta layer's chunk: payloads (T, B, *shape) int64; neurons active and sending per
    core (T, B, K); the recorded state variables, name -> (T, B, *shape)."""

    spikes: np.ndarray
    active: np.ndarray
    spiking: np.ndarray
    state: dict[str, np.ndarray]

    def var(self, name: str) -> np.ndarray:
        return self.state[name]


class SdnRunner:
    """One sigma-delta layer: state per sample, advanced step after step within a chunk."""

    def __init__(self, node: Any, batch: int, kern: Any, core_local: np.ndarray,
                 n_cores: int) -> None:
        self.node, self.batch, self.k = node, batch, kern
        self.shape = tuple(node.shape)
        self.step_kernel = kernel_for(node.op, "event simulator")
        self.core = np.ascontiguousarray(core_local, np.int64)
        self.n_cores = n_cores
        bias = np.asarray(getattr(node, "bias", 0))
        self.biased = np.broadcast_to(bias != 0, self.shape).reshape(-1)
        self.st = self.step_kernel.init(node, batch)

    def reset(self) -> None:
        self.st = self.step_kernel.init(self.node, self.batch)

    def run(self, a: np.ndarray, t0: int, record: bool = False) -> SdnStep:
        """a (T, B, *shape) int64 -> payloads, per-core counts and (``record``) the state."""
        T = a.shape[0]
        a = np.asarray(a, np.int64).reshape(T, self.batch, *self.shape)
        out = np.empty((T, self.batch, *self.shape), np.int64)
        act = np.empty((T, self.batch, int(np.prod(self.shape))), np.uint8)
        names = SDN_VARS[self.node.op] if record else ()
        rec: dict[str, list[np.ndarray]] = {v: [] for v in names}
        for i in range(T):
            busy = (a[i] != 0).reshape(self.batch, -1) | self.biased
            for v in self.st.values():
                busy |= (np.asarray(v) != 0).reshape(self.batch, -1)
            act[i] = busy
            out[i], self.st = self.step_kernel.step(self.node, a[i], self.st, t0 + i)
            for v in names:
                rec[v].append(np.array(self.st[v], np.int64))
        sending = (out != 0).reshape(T, self.batch, -1)
        state = {v: np.stack(r) if r else np.zeros((0, self.batch, *self.shape), np.int64)
                 for v, r in rec.items()}
        return SdnStep(out, self._per_core(act), self._per_core(sending.astype(np.uint8)), state)

    def _per_core(self, flags: np.ndarray) -> np.ndarray:
        out = np.zeros((*flags.shape[:2], self.n_cores), np.int64)
        self.k.count_per_core(np.ascontiguousarray(flags, np.uint8), self.core, out)
        return out
