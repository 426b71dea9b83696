"""``quantize-loihi``: put every layer on Lava's integer grid (still as float ops).

After ``loihi_layers.normalize`` each layer is quantized by ``qlayer`` and rewritten in *Lava
units*: v is measured in units of the synaptic input a (v_int / 64), so the quantized graph holds

- synapses ``linear``/``conv2d`` with ``QTensor(mant, scale = 2**E / input_scale)``,
- neurons with gain 1, threshold = vth (an integer), bias = bias_mant * 2**bias_exp / 64,
  decay_v = (4096 - dv) / 4096, decay_i = (4095 - du) / 4096, comparator ``>``,

which ``lower-loihi`` turns into ``loihi.*`` ops mechanically. Graph metadata ``loihi.inputs``
(how to encode each input: spikes, integers or analog values times a scale, and the message
bits) and ``loihi.layers`` (S, exponents, clipping, exactness per layer) record the decisions.

Options for file formats with fewer degrees of freedom: ``max_weight`` bounds the effective
integer weights m * 2**E (lava-dl netx keeps weights in [-256, 254] and no negative exponent:
``max_weight=254``), ``bias_exp`` fixes the bias exponent (netx: 6).

Lava's LIF has only the ``>`` comparator: ``v >= theta`` becomes ``v > theta - 1`` when v
provably stays an integer number of input units (no leak or full leak, no current decay or none
at all, a bias in whole units, hard reset): exact. Otherwise, on a chip with programmable
neurons (Loihi 2: ``ctx.programmable_neurons``) the layer keeps ``>=`` natively (exact); on
Loihi 1 ``>=`` is approximated by ``>`` and noted. Subtract (soft) reset, immediate or delayed
(snnTorch's ``reset_delay``), is likewise native on programmable neurons and refused on Loihi 1
with a message naming the layer and ``--chip loihi2``. Lava's vth
is unsigned: a memoryless neuron (``threshold`` ops, decay_v = 0) with a threshold below zero
gets the difference as bias instead (exact); a neuron with memory raises ``QuantizationError``.
Reset "none" on spiking neurons, a delayed hard reset, non-zero reset values and initial
potentials on Loihi 1 (Loihi 2's programmable neurons take v_init: rounded to the integer v
grid), and graded spikes have no Loihi equivalent: ``UnsupportedOpError`` naming the
layer. A value that cannot be represented raises ``QuantizationError`` naming the layer;
clipping is reported per layer. A layer the dyadic grid leaves inexact whose weights are
integer multiples of one unit (fake-quantized 4-bit or binary weights), with whole-unit
dynamics and spike or integer input, is put on that unit's lattice instead, exactly
(``qlattice.py``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from ..errors import QuantizationError, SnncError, UnsupportedOpError
from ..ir import Conv2d, Graph, Linear, QTensor, as_float
from ..ir.traits import Trait, has
from .align import align_paths
from .graphutil import input_gain, is_spiking
from .loihi_layers import Layer, layers, normalize
from .manager import Pass, PassContext, Semantics
from .qinputs import InputEncoding, calibration_stats, choose_encodings
from .qlattice import lattice_dynamics, lattice_layer
from .qlayer import (
    VTH_NEVER,
    LayerQ,
    SynapseIn,
    choose_scale,
    decay_codes,
    quantize_bias,
    quantize_synapse,
    scale_limit,
    signed_bits,
)
from .quant_schema import LayerQuant, SynapseQuant, with_quant

SOFT_RESET_LOIHI1 = (
    "layer {name!r}: subtract (soft) reset, as snnTorch's default reset_mechanism='subtract' and "
    "ANN-to-SNN conversions use, runs natively on Loihi 2's programmable neurons: compile with "
    "--chip loihi2. Loihi 1's neurons reset v to 0 only (or retrain the layer with a hard reset "
    "to zero, e.g. snnTorch reset_mechanism='zero').")


def _check_neuron(name: str, node: Any, programmable: bool) -> None:
    if node.op == "threshold":
        return
    if np.any(node.v_init != 0) and not programmable:
        raise UnsupportedOpError(
            f"layer {name!r}: an initial membrane potential (v_init != 0, e.g. OPI or QCFS's "
            "v0 = theta/2 of an ANN-to-SNN conversion) runs on Loihi 2's programmable neurons: "
            "compile with --chip loihi2. Loihi 1 (and Lava's plain LIF) start and reset v at 0.")
    if has(node, Trait.READOUT):
        return
    if node.reset == "subtract":
        if not programmable:
            raise UnsupportedOpError(SOFT_RESET_LOIHI1.format(name=name))
    elif node.reset != "hard" or not node.decay_reset:
        what = f"reset={node.reset!r}" if node.reset != "hard" else "a delayed hard reset"
        raise UnsupportedOpError(
            f"layer {name!r}: {what} has no Loihi equivalent (hard reset to 0, or subtract "
            "reset on --chip loihi2); retrain with another reset, or use the float reference "
            "simulator")
    if np.any(node.v_reset != 0):
        raise UnsupportedOpError(f"layer {name!r}: v_reset != 0; Lava resets v to 0")


def _row_gain(node: Any, syn: Any, name: str) -> np.ndarray:
    """The neuron's input gain per synapse output row (per channel for a conv)."""
    g = np.broadcast_to(input_gain(node) if node.op != "threshold" else 1.0, node.shape)
    g = g.reshape(syn.out_shape)
    if syn.op != "conv2d":
        return g.reshape(-1, 1)
    per_c = g.reshape(g.shape[0], -1)
    if not np.all(per_c == per_c[:, :1]):
        raise UnsupportedOpError(f"layer {name!r}: a per-neuron input gain cannot be folded into "
                                 "shared conv weights; make it per channel")
    return per_c[:, 0].reshape(-1, 1, 1, 1)


def _synapse_inputs(g: Graph, layer: Layer, enc: dict[str, InputEncoding]) -> list[SynapseIn]:
    node: Any = g.nodes[layer.neuron]
    out = []
    for ref in layer.synapses:
        syn: Any = g.nodes[ref.name]
        conv = syn.op == "conv2d"
        w = as_float(syn.weight) * _row_gain(node, syn, layer.neuron)
        e = enc[ref.source] if ref.from_input else None
        out.append(SynapseIn(ref.name, w / (e.scale if e else 1.0), conv, e.x_max if e else 1.0))
    return out


def _worst_current(syns: list[SynapseIn]) -> float:
    total = 0.0
    for s in syns:
        rows = s.weight.reshape(s.weight.shape[0], -1)
        pos, neg = np.maximum(rows, 0).sum(1), -np.minimum(rows, 0).sum(1)
        total += float(np.maximum(pos, neg).max(initial=0.0)) * s.x_max
    return total


@dataclass(frozen=True)
class QuantizeLoihi(Pass):
    name = "quantize-loihi"
    summary = ("Quantize weights to 8-bit mantissas with a per-layer exponent, thresholds to "
               "vth, decays to 12-bit du/dv, biases to mantissa/exponent (Lava's grid).")
    semantics = Semantics.APPROXIMATE
    headroom_bits: int = 6
    frac_bits: int = 6
    weight_search: Literal["max", "mse"] = "max"
    input: Literal["auto", "spikes", "integer", "analog"] = "auto"
    input_bits: int = 8
    input_max: float = 1.0
    max_weight: int = 0
    bias_exp: int | None = None

    def __post_init__(self) -> None:
        """Options out of range are refused here (``make_pass`` reports the ValueError)."""
        for key, lo, hi in (("headroom_bits", 0, 23), ("frac_bits", 0, 23),
                            ("input_bits", 1, 24), ("max_weight", 0, 32767)):
            v = getattr(self, key)
            if not lo <= v <= hi:
                raise ValueError(f"{key}={v} is outside [{lo}, {hi}]")
        if self.bias_exp is not None and not 0 <= self.bias_exp <= 7:
            raise ValueError(f"bias_exp={self.bias_exp} is outside [0, 7] (Lava's bias "
                             "exponent)")
        if not (np.isfinite(self.input_max) and self.input_max > 0):
            raise ValueError(f"input_max={self.input_max} must be a finite number > 0")

    def requires(self, graph: Graph) -> None:
        """NaN or infinite parameters cannot be put on an integer grid: say which and where."""
        for name, node in graph.nodes.items():
            for key, value in node.params().items():
                arr = np.asarray(value) if not hasattr(value, "mant") else None
                if arr is None or arr.dtype.kind != "f":
                    continue
                broken = np.isnan(arr) | (np.isinf(arr) & ("threshold" not in key))
                if not broken.any():
                    continue
                bad = int(np.count_nonzero(broken))
                raise QuantizationError(
                    f"node {name!r} ({node.op}): field {key!r} holds {bad} NaN or infinite "
                    f"value(s) of {arr.size}; snnc cannot quantize them. The model's weights "
                    "are broken (a diverged training run, or a damaged file): retrain or "
                    "re-export it.")

    def run(self, graph: Graph, ctx: PassContext) -> Graph:
        programmable = bool(ctx.programmable_neurons)
        g = normalize(graph)
        layers(g)  # the structure check names the offending node before anything else
        enc = choose_encodings(g, ctx.calibration, self.input, self.input_bits, self.input_max)
        aligned = align_paths(g, binary_sources=frozenset(
            k for k, e in enc.items() if e.kind == "spikes"))
        g = aligned.graph
        lays = layers(g)
        stats = calibration_stats(g, lays, ctx) if ctx.calibration else {}
        ed = g.edit()
        meta: dict[str, LayerQuant] = {}
        for i, layer in enumerate(lays):
            ctx.say(f"quantize-loihi: layer {i + 1}/{len(lays)} {layer.neuron}")
            try:
                q = self._layer(g, layer, enc, stats.get(layer.neuron), programmable)
            except SnncError as exc:
                if f"{layer.neuron!r}" in str(exc):
                    raise
                raise type(exc)(f"layer {layer.neuron!r}: {exc}") from None
            self._rewrite(g, ed, layer, q, enc)
            meta[layer.neuron] = _layer_meta(layer, q)
        relays = {k: list(v) for k, v in aligned.relays.items()}
        out = with_quant(ed.finish(), inputs=enc, layers=meta)
        if relays:
            out = out.with_metadata(**{"loihi.relays": relays})
        ctx.report(self, inputs={k: v.as_dict() for k, v in enc.items()},
                   layers={k: m.as_dict() for k, m in meta.items()}, relays=relays,
                   clipped={k: m.clipped for k, m in meta.items()},
                   exact=all(m.exact for m in meta.values()))
        return out

    def _layer(self, g: Graph, layer: Layer, enc: dict[str, InputEncoding],
               stat: dict[str, float] | None, programmable: bool = False) -> LayerQ:
        node: Any = g.nodes[layer.neuron]
        _check_neuron(layer.neuron, node, programmable)
        shape = node.shape
        syns = _synapse_inputs(g, layer, enc)
        readout = has(node, Trait.READOUT)
        theta = None if readout else np.broadcast_to(node.threshold, shape).astype(float)
        bias = np.broadcast_to(getattr(node, "bias", 0.0), shape).astype(float)
        d_v = np.broadcast_to(0.0 if node.op == "threshold" else node.decays()[0], shape)
        d_i = np.broadcast_to(node.decay_i if getattr(node, "current", False) else 0.0, shape)
        du, dv, decay_exact = decay_codes(np.asarray(d_v, float), np.asarray(d_i, float))
        notes: list[str] = []
        u_bound, v_bound = self._bounds(syns, bias, d_v, d_i, readout, stat)
        lim = scale_limit(syns, theta, bias, self.headroom_bits, u_bound, v_bound, notes,
                          calibrated=stat is not None, max_weight=self.max_weight)
        whole = bool(np.isin(dv, (0, 4096)).all() and np.isin(du, (4095, -1)).all())
        s_scale, on_grid = choose_scale(syns, theta, bias, lim, whole, self.frac_bits,
                                        np.asarray(getattr(node, "v_init", 0.0), float))
        f = s_scale / 64
        e_min = 0 if self.max_weight else -7
        qs = {s.name: quantize_synapse(s, f, self.weight_search == "mse", e_min) for s in syns}
        bias_mant, bias_exp, bias_exact = quantize_bias(bias * s_scale, self.bias_exp)
        vth, vth_exact, comparator = self._threshold(layer.neuron, node, theta, f, du, dv,
                                                     bias_mant, bias_exp, notes, programmable)
        if np.any(vth < 0):  # only memoryless neurons can trade threshold for bias
            if not (np.all(dv == 4096) and np.all(du == 4095)):
                raise QuantizationError(
                    f"layer {layer.neuron!r}: threshold below one input unit ('>=' 0 or a "
                    "negative threshold) on a neuron with memory; Lava's vth is unsigned")
            shift = np.maximum(-vth, 0)
            bias_mant, bias_exp, shifted_exact = quantize_bias(
                bias_mant * 2.0**bias_exp + 64.0 * shift, self.bias_exp)
            bias_exact = bias_exact and shifted_exact
            vth = vth + shift
        v_init, v_init_exact = _v_init(layer.neuron, node, s_scale)
        exact = on_grid and decay_exact and bias_exact and vth_exact and v_init_exact and all(
            q.exact for q in qs.values())
        if not exact and theta is not None and self._lattice_sources(g, layer, enc) \
                and lattice_dynamics(node, du, dv):
            lat = lattice_layer(syns, theta, bias, getattr(node, "comparator", ">"), lim.hard,
                                du, dv, e_min, self.bias_exp)
            if lat is not None:
                return lat
        return LayerQ(s_scale, qs, vth, bias_mant, bias_exp, du, dv, exact, notes, comparator,
                      v_init)

    @staticmethod
    def _lattice_sources(g: Graph, layer: Layer, enc: dict[str, InputEncoding]) -> bool:
        """Every input of the layer is a binary spike or an integer (qlattice.py)."""
        return all(enc[ref.source].kind in ("spikes", "integer") if ref.from_input
                   else is_spiking(g.nodes[ref.source]) for ref in layer.synapses)

    def _bounds(self, syns: list[SynapseIn], bias: np.ndarray, d_v: np.ndarray,
                d_i: np.ndarray, readout: bool,
                stat: dict[str, float] | None) -> tuple[float | None, float | None]:
        if stat is not None:
            return 2 * stat["u"] or None, (2 * stat["v"] or None) if readout else None
        di = float(np.max(d_i))
        u: float | None = _worst_current(syns) / (1 - di) if di < 1 else None
        v: float | None = None
        if readout and u is not None and float(np.max(d_v)) < 1:
            v = (u + float(np.abs(bias).max(initial=0))) / (1 - float(np.max(d_v)))
        return u or None, v or None

    @staticmethod
    def _threshold(name: str, node: Any, theta: np.ndarray | None, f: float, du: np.ndarray,
                   dv: np.ndarray, bias_mant: np.ndarray, bias_exp: int, notes: list[str],
                   programmable: bool = False) -> tuple[np.ndarray, bool, str]:
        if theta is None:
            return np.full(node.shape, VTH_NEVER, dtype=np.int64), True, ">"
        real = theta * f
        vth = np.round(real).astype(np.int64)
        exact = bool(np.array_equal(vth, real))
        comparator = ">"
        if node.comparator == ">=":
            whole = (np.isin(dv, (0, 4096)).all() and np.isin(du, (4095, -1)).all()
                     and not np.any((bias_mant << bias_exp) % 64)
                     and getattr(node, "reset", "hard") == "hard"
                     and not np.any(getattr(node, "v_init", 0)))
            if whole:
                vth = vth - 1
            elif programmable:
                comparator = ">="
            else:
                exact = False
                notes.append("comparator '>=' approximated by '>' (v is not an integer "
                             "number of input units, so no exact rewrite exists; Loihi 2's "
                             "programmable neurons compare with '>=' natively: --chip loihi2)")
        if np.any(vth > 2**17 - 1):
            raise QuantizationError(f"layer {name!r}: threshold {int(vth.max())} exceeds 17 bits")
        return vth, exact, comparator

    @staticmethod
    def _rewrite(g: Graph, ed: Any, layer: Layer, q: LayerQ,
                 enc: dict[str, InputEncoding]) -> None:
        for ref in layer.synapses:
            syn: Any = g.nodes[ref.name]
            sq = q.synapses[ref.name]
            scale = 2.0**sq.exp / (enc[ref.source].scale if ref.from_input else 1.0)
            w = QTensor(sq.mant, np.float64(scale), signed_bits(sq.mant))
            ed.replace(ref.name, syn.replace(weight=w, bias=np.float64(0.0))
                       if isinstance(syn, Conv2d) else Linear(weight=w))
        ed.replace(layer.neuron, lava_units_neuron(g.nodes[layer.neuron], q))


def _v_init(name: str, node: Any, s_scale: float) -> tuple[np.ndarray, bool]:
    """(integer v_init = round(v_init * S), exact); within the 24-bit v."""
    real = np.asarray(getattr(node, "v_init", 0.0), dtype=np.float64) * s_scale
    v0 = np.round(real).astype(np.int64)
    if np.any(np.abs(v0) > 2**23 - 1):
        raise QuantizationError(f"layer {name!r}: the initial potential {float(np.abs(real).max())}"
                                " (integer v units) exceeds the 24-bit membrane potential")
    return v0, bool(np.array_equal(v0, real))


def lava_units_neuron(node: Any, q: LayerQ) -> Any:
    """The neuron in Lava units: integer threshold, bias / 64, decays on the 12-bit grid."""
    if node.op == "threshold":
        return node.replace(threshold=_compact(q.vth.astype(float)), comparator=">")
    changes: dict[str, Any] = {
        "gain": np.float64(1.0), "bias": _compact(q.bias_mant * 2.0**q.bias_exp / 64),
        "v_init": _compact(np.asarray(q.v_init, np.float64) / 64)}
    if node.leaky:
        changes["decay_v"] = _compact((4096 - q.dv) / 4096)
    if node.current:
        changes["decay_i"] = _compact((4095 - q.du) / 4096)
        changes["gain_i"] = np.float64(1.0)
    if node.spiking:
        changes.update(threshold=_compact(q.vth.astype(float)), comparator=q.comparator,
                       v_reset=np.float64(0.0))
    return node.replace(**changes)


def _compact(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a)
    return np.asarray(a.flat[0]) if a.size and np.all(a == a.flat[0]) else a


def _layer_meta(layer: Layer, q: LayerQ) -> LayerQuant:
    return LayerQuant(
        float(q.scale), 64.0 / float(q.scale), bool(q.exact), tuple(q.notes),
        {ref.name: SynapseQuant(int(s.exp), int(s.clipped), float(s.max_error), bool(s.exact),
                                ref.from_input, ref.source)
         for ref in layer.synapses for s in [q.synapses[ref.name]]})
