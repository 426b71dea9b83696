"""The fidelity report's statistics, accumulated step by step (bounded memory).

``fidelity.fidelity_report`` used to record every probed neuron's float and fixed trace for
every step and sample, (T, B, N) arrays per variable, and reduce them at the end: for a 64 ->
10^6 layer over 16 steps x 8 samples that is 1 GB per trace. Here the float graph and the
lowered graph run side by side on two reference ``Executor``s and each step's values are
folded into running statistics at once, so memory holds the simulators' state (B x N per
array) and at most L + 1 (the lowered graph's latency + 1) steps of the aligned values, never T
steps.

The statistics are the ones the report states (``fidelity.py``'s docstring), and equal to the
full-trace reductions bit for bit: counts are integers (a fraction is count / size, which is
what ``np.mean`` of a boolean array computes), maxima do not depend on order, and the
time-summed outputs for the classification agreement are summed step after step, which is
the order ``np.sum(axis=0)`` adds a time-major array in. ``tests/test_fidelity_bounded.py``
checks them against the full-trace definitions on random models.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..ir import Graph, flatten_subgraphs
from ..simulators.reference import Executor
from ..simulators.stimulus import stimuli
from .quant_schema import read_layers


def _frame(stim: Mapping[str, np.ndarray], t: int) -> dict[str, np.ndarray]:
    return {k: (x[t] if t < x.shape[0] else np.zeros_like(x[0])) for k, x in stim.items()}


def _sum_dtype(a: np.ndarray) -> np.dtype:
    return np.zeros((0,), a.dtype).sum(0).dtype


class _Layer:
    """Running spike counts, agreement and near-threshold flags of one spiking layer."""

    def __init__(self, node: Any, lsb: float) -> None:
        self.node, self.lsb = node, lsb
        self.f_sum = self.x_sum = 0.0
        self.x_nonzero = self.agree = self.size = 0
        self.near: np.ndarray | None = None  # (B, ...) any step within one LSB of threshold
        self.prev_v: np.ndarray | None = None

    def float_step(self, v: np.ndarray | None, i: np.ndarray | None) -> None:
        if v is None or i is None:
            return
        node = self.node
        prev = np.broadcast_to(node.v_init, v.shape) if self.prev_v is None else self.prev_v
        v_pre = node.decays()[0] * prev + node.gain * i + node.bias
        close = np.abs(v_pre - node.threshold) <= self.lsb
        self.near = close if self.near is None else (self.near | close)
        self.prev_v = v

    def compare(self, fs: np.ndarray, xs: np.ndarray) -> None:
        fired = xs != 0
        self.f_sum += float(fs.sum())
        self.x_sum += float(xs.sum())
        self.x_nonzero += int(np.count_nonzero(fired))
        self.agree += int(np.count_nonzero(fs == fired))
        self.size += fired.size


class _Output:
    """Running error, equality and time-summed values (for the argmax) of one output."""

    def __init__(self) -> None:
        self.max_err = np.float64(0.0)
        self.max_abs = np.float64(0.0)
        self.equal = self.size = 0
        self.f_acc: np.ndarray | None = None
        self.x_acc: np.ndarray | None = None

    def compare(self, f: np.ndarray, x: np.ndarray) -> None:
        self.max_err = np.maximum(self.max_err, np.abs(f - x).max(initial=0.0))
        self.max_abs = np.maximum(self.max_abs, np.abs(f).max(initial=0.0))
        self.equal += int(np.count_nonzero(f == x))
        self.size += np.broadcast(f, x).size
        if self.f_acc is None:
            self.f_acc = np.array(f, dtype=_sum_dtype(f))
            self.x_acc = np.array(x, dtype=_sum_dtype(x))
        else:
            self.f_acc += f
            self.x_acc += x


def _classes(acc: np.ndarray) -> np.ndarray:
    return acc.reshape(acc.shape[0], -1).argmax(1)


def bounded_report(float_graph: Graph, lowered: Graph, stim: dict[str, np.ndarray],
                   enc: dict[str, np.ndarray], t: int, names: list[str]
                   ) -> tuple[list[dict[str, Any]], dict[str, dict[str, Any]], int]:
    """(layer rows, output rows, batch) of the fidelity report for layers ``names`` on float
    stimuli ``stim`` and their chip encoding ``enc``, over ``t`` float steps."""
    fg, lg = flatten_subgraphs(float_graph), flatten_subgraphs(lowered)
    fstim, lstim = stimuli(fg, stim), stimuli(lg, enc)
    batch = next(iter(fstim.values())).shape[1] if fstim else 1
    lbatch = next(iter(lstim.values())).shape[1] if lstim else 1
    depth = dict(lowered.metadata.get("loihi.latency", {}))
    lat = max(depth.values(), default=0)
    readout = dict(lowered.metadata.get("loihi.readout", {}))
    meta = read_layers(lowered)
    layers = {n: _Layer(fg.nodes[n], meta[n].vth_lsb if n in meta else 0.0) for n in names}
    outputs = {o: _Output() for o in float_graph.outputs}
    fex, lex = Executor(fg, batch), Executor(lg, lbatch)
    pending: dict[tuple[str, int], np.ndarray] = {}  # float values waiting for the fixed step
    for u in range(t + lat):
        if u < t:
            cur = fex.step(u, _frame(fstim, u))
            for n, acc in layers.items():
                pending[(f"{n}.s", u)] = np.array(cur[n])
                if fg.nodes[n].op != "threshold":
                    acc.float_step(fex.probe(n, "v", cur), fex.probe(n, "i", cur))
            for o in outputs:
                pending[(o, u)] = np.array(cur[o])
        lcur = lex.step(u, _frame(lstim, u))
        for n, acc in layers.items():
            k = u - depth.get(n, 0)
            if 0 <= k < t:
                acc.compare(pending.pop((f"{n}.s", k)), np.array(lcur[n]))
        for o, acc in outputs.items():
            k = u - depth.get(o, lat)
            if not 0 <= k < t:
                continue
            x = lcur[o]
            if o in readout:
                r = readout[o]
                x = lex.probe(r["node"], "v", lcur) * r["scale"]
                x = x.reshape((x.shape[0], *fg.nodes[o].out_shape))
            acc.compare(pending.pop((o, k)), np.array(x))
    return ([_layer_row(n, acc, meta.get(n), t) for n, acc in layers.items()],
            {o: _output_row(acc, fg.nodes[o].out_shape) for o, acc in outputs.items()},
            batch if (outputs or layers) else 0)


def _layer_row(name: str, acc: _Layer, m: Any, t: int) -> dict[str, Any]:
    near = None
    if acc.node.op != "threshold":
        per_neuron = acc.near
        near = (float(np.count_nonzero(per_neuron)) / per_neuron.size
                if per_neuron is not None and per_neuron.size else 0.0)
    return {"layer": name, "neurons": int(np.prod(acc.node.out_shape)) if t else 1,
            "float_spikes": int(acc.f_sum), "fixed_spikes": int(acc.x_sum),
            "fixed_rate": acc.x_nonzero / acc.size if acc.size else 0.0,
            "spike_agreement": acc.agree / acc.size if acc.size else 1.0,
            "near_threshold": near, "clipped_weights": m.clipped if m is not None else 0,
            "exact": m is not None and m.exact,
            "notes": list(m.notes) if m is not None else []}


def _output_row(acc: _Output, shape: tuple[int, ...]) -> dict[str, Any]:
    row: dict[str, Any] = {"max_abs_error": float(acc.max_err), "max_abs": float(acc.max_abs),
                           "equal_fraction": acc.equal / acc.size if acc.size else 1.0}
    if acc.size and int(np.prod(shape)) > 1 and acc.f_acc is not None:
        row["classification_agreement"] = float(
            (_classes(acc.f_acc) == _classes(acc.x_acc)).mean())
    return row
