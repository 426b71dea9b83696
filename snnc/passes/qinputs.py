"""How graph inputs reach the chip, and calibration statistics for the quantizer.

Loihi synapses carry binary spikes (``num_message_bits = 0``) or graded integer payloads. The
first layer of a directly-encoded model sees analog values, so each input gets an encoding:

- ``spikes``: values are 0/1, sent as spikes, scale 1 (exact);
- ``integer``: values are integers (event counts), sent as graded payloads, scale 1 (exact);
- ``analog``: sent as ``round(x * scale)`` in ``input_bits`` bits (signed if x can be negative),
  with scale = 2**k the largest power of two such that max|x| * scale <= 2**bits - 1 (or
  2**(bits-1) - 1 for signed). A power of two keeps the weights of the first layer dyadic (they
  are divided by the scale), so an input on the grid 2**-k (e.g. 8-bit images divided by 256,
  or digits divided by 16) reaches the chip exactly; any other value is rounded to the nearest
  multiple of 2**-k, which is the only error. The price against scale = levels / max|x| is at
  most one bit of resolution.

``auto`` picks the first that fits the calibration data (analog without calibration, with
max|x| = ``input_max``). The choice is stored in ``graph.metadata["loihi.inputs"]`` and applied
by ``encode_inputs`` whenever a lowered graph is simulated.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..errors import QuantizationError
from ..ir import Graph
from .loihi_layers import Layer
from .quant_schema import INPUTS_KEY, InputEncoding, read_inputs

__all__ = ["METADATA_KEY", "InputEncoding", "calibration_stats", "chip_stimulus",
           "choose_encodings", "encode_inputs", "encodings_of"]

METADATA_KEY = INPUTS_KEY


def _bits_for(vmax: float, signed: bool) -> int:
    return max(1, int(np.ceil(np.log2(vmax + 1)))) + int(signed)


def _encoding(x: np.ndarray | None, mode: str, bits: int, input_max: float) -> InputEncoding:
    if mode == "auto":
        if x is None:
            mode = "analog"
        elif np.isin(x, (0, 1)).all():
            mode = "spikes"
        elif np.array_equal(x, np.round(x)):
            mode = "integer"
        else:
            mode = "analog"
    if mode == "spikes":
        return InputEncoding("spikes", 1.0, 0, 1.0)
    amax = float(np.abs(x).max(initial=0.0)) if x is not None else float(input_max)
    signed = x is not None and bool(np.any(x < 0))
    if mode == "integer":
        return InputEncoding("integer", 1.0, _bits_for(max(amax, 1.0), signed), max(amax, 1.0))
    levels = 2 ** (bits - 1) - 1 if signed else 2**bits - 1
    if bits > 24:
        raise QuantizationError(f"input_bits={bits}: graded payloads hold at most 24 bits")
    scale = 2.0 ** math.floor(math.log2(levels / amax)) if amax > 0 else 1.0
    return InputEncoding("analog", scale, bits, float(levels))


def choose_encodings(g: Graph, calibration: Mapping[str, np.ndarray] | None, mode: str,
                     bits: int, input_max: float) -> dict[str, InputEncoding]:
    out = {}
    for name in g.inputs:
        x = None if calibration is None or name not in calibration else np.asarray(
            calibration[name], dtype=np.float64)
        out[name] = _encoding(x, mode, bits, input_max)
    return out


def encodings_of(g: Graph) -> dict[str, InputEncoding]:
    """The verified ``loihi.inputs`` of ``g`` (``quant_schema.read_inputs``)."""
    return read_inputs(g)


def encode_inputs(g: Graph, inputs: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Stimuli for a lowered graph: each input encoded as its metadata says (spikes: x != 0)."""
    enc = encodings_of(g)
    out = {}
    for name, x in inputs.items():
        e = enc.get(name)
        x = np.asarray(x, dtype=np.float64)
        if e is None or e.kind == "spikes":
            out[name] = (x != 0).astype(np.float64) if e is not None else x
        else:
            out[name] = np.clip(np.round(x * e.scale), -e.x_max, e.x_max)
    return out


def chip_stimulus(g: Graph, x: np.ndarray) -> np.ndarray:
    """The user's input to a lowered single-input graph as the chip receives it: analog values
    encoded as ``round(x * scale)`` (``encode_inputs``), spikes and integer payloads checked.

    Input of another kind than the program was compiled for is refused: binarising analog
    values or rounding fractional counts would run a different model without saying so."""
    enc = encodings_of(g).get(g.inputs[0]) if len(g.inputs) == 1 else None
    x = np.asarray(x)
    if enc is None:
        return x
    if enc.kind == "spikes" and not np.isin(x, (0, 1)).all():
        raise QuantizationError(
            "the program was compiled for binary spike input (detected from its calibration "
            "input), but this input has values other than 0 and 1; bin event files with "
            "--bin-mode binary, or compile again with --calibration holding input like this "
            "one (analog input needs --chip loihi2)")
    if enc.kind == "integer" and not np.array_equal(x, np.round(x)):
        raise QuantizationError(
            "the program was compiled for integer input (event counts, detected from its "
            "calibration input), but this input has fractional values; compile again with "
            "--calibration holding input like this one")
    if enc.kind != "analog":
        return x
    return encode_inputs(g, {g.inputs[0]: x})[g.inputs[0]]


def calibration_stats(g: Graph, lays: list[Layer], ctx: Any) -> dict[str, dict[str, float]]:
    """Per layer: the largest |input current| (after gain) and |v| seen on the calibration data."""
    from ..simulators.reference import run_steps

    probes = []
    for layer in lays:
        probes += [f"{s.name}.s" for s in layer.synapses]
        neuron: Any = g.nodes[layer.neuron]
        if neuron.op != "threshold":
            probes.append(f"{layer.neuron}.v")
            if neuron.current:
                probes.append(f"{layer.neuron}.i")
    ctx.say("quantize-loihi: calibration run on the reference simulator")
    stats = {layer.neuron: {"u": 0.0, "v": 0.0} for layer in lays}
    gains = {}
    for layer in lays:
        node: Any = g.nodes[layer.neuron]
        gain = np.broadcast_to(getattr(node, "gain", 1.0), node.shape).reshape(-1)
        if node.op == "threshold" or not node.current:
            gain = gain * np.broadcast_to(getattr(node, "gain_i", 1.0), node.shape).reshape(-1)
        gains[layer.neuron] = gain
    # one step at a time: the maxima need no (T, B, N) traces (max does not depend on order)
    _, frames = run_steps(g, dict(ctx.calibration), ctx.steps, probes)
    for _, _, probed in frames:
        for layer in lays:
            node = g.nodes[layer.neuron]
            gain = gains[layer.neuron]
            if node.op != "threshold" and node.current:
                cur = probed[f"{layer.neuron}.i"]
                cur = cur.reshape(cur.shape[0], -1) * gain
            else:
                flat = [probed[f"{s.name}.s"] for s in layer.synapses]
                cur = sum(f.reshape(f.shape[0], -1) for f in flat) * gain
            v = probed.get(f"{layer.neuron}.v")
            st = stats[layer.neuron]
            st["u"] = float(np.maximum(st["u"], np.abs(cur).max(initial=0.0)))  # NaN stays NaN
            if v is not None:
                st["v"] = float(np.maximum(st["v"], np.abs(v).max(initial=0.0)))
    return stats
