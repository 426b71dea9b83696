"""``lower-loihi``: a graph quantized by ``quantize-loihi`` becomes ``loihi.*`` ops.

Mechanical translation of the Lava-unit parameters (``quantize.py``): synapse mantissas and
exponents to Lava's Dense storage (``qlayer.dense_encoding``; Conv stores the integer weights
directly, it applies no exponent), neurons to ``loihi.lif`` (du, dv, vth, bias mantissa and
exponent; non-spiking readouts get vth = 2**17, which never fires, and are read through their
``v``). Inputs keep their names; graded inputs set the synapse's ``num_message_bits``.

The semantic gap and how it is closed (``latency.py``): each synapse adds one step, so layer n's
output at lowered step t + D(n) equals the float output at step t; synapses on shorter paths get
DelayDense delays. Biases integrate during the pipeline fill (a layer adds its bias before its
first input arrives), so when any bias is non-zero every layer gets a staggered one-time reset
of u and v at the start of its first real step (Lava LIFReset, ``reset_offset = D(n) + 1``,
``reset_interval`` = the option, or 2**30 for a single sample). A reset cannot clear a synapse:
a recurrent synapse still delivers spikes of the fill, so such a layer is marked inexact in
``loihi.layers`` (exact again without biases). What remains: Lava truncates the decayed u and
v toward zero each step, wraps u and saturates v at 24 bits.

Metadata: ``loihi.latency`` (D per node), ``loihi.readout`` ({output: {node, var, scale}} with
scale converting v_int back to float units), plus ``loihi.inputs`` and ``loihi.layers``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import PassError, UnsupportedOpError
from ..ir import Graph, LoihiConv, LoihiDense, LoihiLIF, QTensor
from ..ir.traits import Trait, has
from . import quant_schema
from .latency import compute_latency
from .loihi_layers import Layer, back_through_wiring, layers
from .manager import Pass, PassContext, Semantics
from .qinputs import encodings_of
from .qlayer import VTH_NEVER, dense_encoding
from .quant_schema import INPUTS_KEY, LAYERS_KEY, read_layers

AUTO_RESET_INTERVAL = 2**30
#: the largest reset interval accepted (an int32)
MAX_RESET_INTERVAL = 2**31 - 1


def _int(value: Any, what: str, name: str) -> np.ndarray:
    arr = np.asarray(value, dtype=np.float64)
    if not np.array_equal(arr, np.round(arr)):
        raise PassError(f"layer {name!r}: {what} is not on the Loihi grid; run quantize-loihi "
                        "before lower-loihi")
    return np.round(arr).astype(np.int64)


def _exponent(w: QTensor, input_scale: float, name: str) -> int:
    e = float(np.log2(float(w.scale) * input_scale)) if w.scale.ndim == 0 else float("nan")
    if not np.isfinite(e) or e != np.round(e):
        raise PassError(f"synapse {name!r}: weight scale {w.scale} is not a power of two (times "
                        "the input scale); run quantize-loihi before lower-loihi")
    return int(np.round(e))


def lower_synapse(node: Any, name: str, input_scale: float, message_bits: int,
                  delay: int) -> Any:
    w = node.weight
    if not isinstance(w, QTensor):
        raise PassError(f"synapse {name!r} has float weights; run quantize-loihi first")
    exp = _exponent(w, input_scale, name)
    if node.op == "conv2d":
        if exp < 0:
            raise PassError(f"conv synapse {name!r}: Lava's Conv applies no weight exponent; "
                            "its weight scale must be 2**E with E >= 0")
        if delay:
            raise UnsupportedOpError(
                f"conv synapse {name!r} needs a delay of {delay} step(s) to align path latencies "
                "(a residual path skips layers), and Lava's Conv has no delays")
        wide = w.mant.astype(np.int64)  # narrow QTensor storage: widen before the shift
        return LoihiConv(input_shape=node.input_shape, weight=wide << exp, stride=node.stride,
                         padding=node.padding, dilation=node.dilation, groups=node.groups,
                         num_message_bits=message_bits)
    stored, wexp, bits = dense_encoding(w.mant, exp)
    return LoihiDense(weight=stored, weight_exp=wexp, num_weight_bits=bits,
                      num_message_bits=message_bits, delays=np.int64(delay) if delay else None)


def _bias(bias: Any, name: str) -> tuple[np.ndarray, int]:
    b = _int(np.asarray(bias) * 64, "bias * 64", name)
    exp = 0
    while np.abs(b).max(initial=0) > 4095 and exp < 7 and not np.any(b % 2):
        b, exp = b // 2, exp + 1
    if np.abs(b).max(initial=0) > 4095:
        raise PassError(f"layer {name!r}: bias does not fit 13 bits << 7; run quantize-loihi")
    return b, exp


def lower_neuron(node: Any, name: str) -> LoihiLIF:
    if node.op == "threshold":
        vth = _int(node.threshold, "threshold", name)
        return LoihiLIF(shape=node.shape, du=np.int64(4095), dv=np.int64(4096), vth=vth)
    if np.any(input_gain_of(node) != 1):
        raise PassError(f"layer {name!r}: gain != 1; run quantize-loihi first")
    dv = _int(4096 - np.asarray(node.decays()[0]) * 4096, "decay_v * 4096", name)
    du = _int(4095 - np.asarray(node.decays()[1]) * 4096, "decay_i * 4096", name) \
        if node.current else np.int64(4095)
    bias_mant, bias_exp = _bias(node.bias, name)
    model: dict[str, Any] = {}
    if has(node, Trait.READOUT):
        vth = np.int64(VTH_NEVER)
    else:
        if node.reset not in ("hard", "subtract") or np.any(node.v_reset != 0) or (
                node.reset == "hard" and not node.decay_reset):
            raise PassError(f"layer {name!r}: reset not Loihi's; run quantize-loihi")
        vth = _int(node.threshold, "threshold", name)
        # '>=' and subtract reset: Loihi 2 programmable neurons (the chip's rules check)
        model = {"comparator": node.comparator, "reset": node.reset,
                 "decay_reset": bool(node.decay_reset)}
    if np.any(node.v_init != 0):  # Loihi 2 programmable neuron: v at start and periodic reset
        model["v_init"] = _int(np.asarray(node.v_init) * 64, "v_init * 64", name)
    return LoihiLIF(shape=node.shape, du=du, dv=dv, vth=vth, bias_mant=bias_mant,
                    bias_exp=np.int64(bias_exp), **model)


def input_gain_of(node: Any) -> np.ndarray:
    return np.asarray(node.gain) * np.asarray(getattr(node, "gain_i", 1.0))


@dataclass(frozen=True)
class LowerLoihi(Pass):
    name = "lower-loihi"
    summary = ("Lower a quantized graph to loihi.dense/conv/lif with Lava's exact fixed-point "
               "semantics; align path latencies with delays and staggered resets.")
    semantics = Semantics.LOWERING
    reset_interval: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.reset_interval <= MAX_RESET_INTERVAL:
            raise ValueError(f"reset_interval={self.reset_interval} is outside [0, "
                             f"{MAX_RESET_INTERVAL}] (0: a reset every 2**30 steps when a layer "
                             "has a bias, else none)")

    def requires(self, graph: Graph) -> None:
        if INPUTS_KEY not in graph.metadata:
            raise PassError("lower-loihi needs a graph quantized by quantize-loihi (no "
                            "'loihi.inputs' metadata); run quantize-loihi first")
        layers(graph)
        quant_schema.verify(graph)

    def run(self, graph: Graph, ctx: PassContext) -> Graph:
        lays = layers(graph)
        lat = compute_latency(graph, lays)
        enc = encodings_of(graph)
        ed = graph.edit()
        has_bias = False
        for layer in lays:
            self._lower_synapses(graph, ed, layer, lat.delays, enc)
            lif = lower_neuron(graph.nodes[layer.neuron], layer.neuron)
            has_bias |= bool(np.any(lif.bias_mant))
            ed.replace(layer.neuron, lif)
        interval = self.reset_interval or (AUTO_RESET_INTERVAL if has_bias else 0)
        if interval:
            for layer in lays:
                off = (lat.depth[layer.neuron] + 1) % interval
                ed.replace(layer.neuron, ed.nodes[layer.neuron].replace(
                    reset_interval=interval, reset_offset=off))
        delayed = {k: v for k, v in sorted(lat.delays.items()) if v}
        relays = dict(graph.metadata.get("loihi.relays", {}))
        meta = {"loihi.latency": dict(sorted(lat.depth.items())),
                "loihi.readout": _readouts(graph, lays),
                LAYERS_KEY: _fill_notes(graph, lays, lat.recurrent if interval else set())}
        ctx.report(self, latency=max(lat.depth.values(), default=0), reset_interval=interval,
                   delayed_synapses=delayed, relays=relays,
                   recurrent_fill=sorted(lat.recurrent) if interval else [])
        if delayed or relays:  # what was inserted to align paths (fidelity report)
            meta["loihi.alignment"] = {"delays": delayed, "relays": relays}
        return ed.finish().with_metadata(**meta)

    @staticmethod
    def _lower_synapses(g: Graph, ed: Any, layer: Layer, delays: dict[str, int],
                        enc: dict[str, Any]) -> None:
        for s in layer.synapses:
            e = enc.get(s.source) if s.from_input else None
            scale, bits = (e.scale, e.message_bits) if e is not None else (1.0, 0)
            ed.replace(s.name, lower_synapse(g.nodes[s.name], s.name, scale, bits,
                                             delays[s.name]))


FILL_NOTE = ("a recurrent synapse carries spikes of the pipeline fill (biases integrate before "
             "the first input arrives) into the layer's first real step; the reset of u and v "
             "cannot clear a synapse, so the first steps may differ from the float model")


def _fill_notes(g: Graph, lays: list[Layer], recurrent: Any) -> dict[str, Any]:
    """``loihi.layers`` with the layers fed by a recurrent synapse marked inexact."""
    meta = read_layers(g)
    for layer in lays:
        if any(s.name in recurrent for s in layer.synapses) and layer.neuron in meta:
            meta[layer.neuron] = meta[layer.neuron].with_note(FILL_NOTE)
    return {k: q.as_dict() for k, q in meta.items()}


def _readouts(g: Graph, lays: list[Layer]) -> dict[str, dict[str, Any]]:
    layer_meta = read_layers(g)
    names = {layer.neuron for layer in lays if has(g.nodes[layer.neuron], Trait.READOUT)}
    out = {}
    for o in g.outputs:
        for p in g.predecessors(o):
            src = back_through_wiring(g, p) if has(g.nodes[p], Trait.WIRING) else p
            if src in names:
                scale = layer_meta[src].scale if src in layer_meta else 64.0
                out[o] = {"node": src, "var": "v", "scale": 1.0 / scale}
    return out
