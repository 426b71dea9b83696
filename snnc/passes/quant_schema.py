"""What ``quantize-loihi`` hands to ``lower-loihi``: a typed, verified schema.

The quantizer records two decisions in the graph's metadata, where they travel with the graph
through the ``.snnc`` file (JSON inside HDF5) and the text form:

- ``loihi.inputs``: per graph input, an ``InputEncoding`` (how values reach the chip);
- ``loihi.layers``: per neuron of a layer, a ``LayerQuant`` (S, the threshold's LSB in float
  units, exactness, notes) with one ``SynapseQuant`` per synapse feeding it (weight exponent,
  clipped weights, error, where it reads from).

The stored form stays plain JSON values, so serialisation round-trips unchanged; these frozen
dataclasses are the only way code reads or writes it. ``from_dict`` checks every field's type
and range and raises ``QuantizationError`` naming the entry and field (``loihi.layers['l1']
.synapses['fc'].exp``); ``verify`` checks a value built in code; ``read_inputs``,
``read_layers`` and ``with_quant`` are the accessors passes, the fidelity report and the
stages use.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, cast

from ..errors import QuantizationError
from ..ir import Graph

INPUTS_KEY = "loihi.inputs"
LAYERS_KEY = "loihi.layers"
ENCODINGS = ("spikes", "integer", "analog")
#: graded payload bits (the IR's ``num_message_bits`` range; analog inputs use at most 24)
MAX_MESSAGE_BITS = 32
#: a weight exponent: 2**exp must be a finite, non-zero float64
EXP_RANGE = (-1074, 1023)

Encoding = Literal["spikes", "integer", "analog"]


def _fail(where: str, msg: str) -> QuantizationError:
    return QuantizationError(f"graph metadata {where}: {msg}. The graph was not written by this "
                             "version of snnc's quantize-loihi, or the file was edited; "
                             "re-run `snnc compile` on the model.")


def _number(d: Mapping[str, Any], key: str, where: str, *, positive: bool = False,
            minimum: float | None = None) -> float:
    if key not in d:
        raise _fail(f"{where}.{key}", "is missing")
    v = d[key]
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise _fail(f"{where}.{key}", f"must be a number, not {type(v).__name__} {v!r}")
    if not math.isfinite(v):
        raise _fail(f"{where}.{key}", f"must be finite, not {v!r}")
    if positive and v <= 0:
        raise _fail(f"{where}.{key}", f"must be > 0, not {v!r}")
    if minimum is not None and v < minimum:
        raise _fail(f"{where}.{key}", f"must be >= {minimum:g}, not {v!r}")
    return float(v)


def _int(d: Mapping[str, Any], key: str, where: str, lo: int, hi: int) -> int:
    if key not in d:
        raise _fail(f"{where}.{key}", "is missing")
    v = d[key]
    if isinstance(v, bool) or not isinstance(v, int):
        raise _fail(f"{where}.{key}", f"must be an integer, not {type(v).__name__} {v!r}")
    if not lo <= v <= hi:
        raise _fail(f"{where}.{key}", f"must be in [{lo}, {hi}], not {v}")
    return int(v)


def _bool(d: Mapping[str, Any], key: str, where: str) -> bool:
    if key not in d:
        raise _fail(f"{where}.{key}", "is missing")
    v = d[key]
    if not isinstance(v, bool):
        raise _fail(f"{where}.{key}", f"must be true or false, not {type(v).__name__} {v!r}")
    return v


def _str(d: Mapping[str, Any], key: str, where: str) -> str:
    if key not in d:
        raise _fail(f"{where}.{key}", "is missing")
    v = d[key]
    if not isinstance(v, str) or not v:
        raise _fail(f"{where}.{key}", f"must be a non-empty string, not {v!r}")
    return v


def _mapping(v: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(v, Mapping):
        raise _fail(where, f"must be an object, not {type(v).__name__} {v!r}")
    return v


@dataclass(frozen=True)
class InputEncoding:
    """How one graph input reaches the chip (snnc/passes/qinputs.py explains the kinds)."""

    kind: Encoding
    scale: float  # chip value = round(x * scale)
    message_bits: int  # 0: binary spikes; else graded payload bits
    x_max: float  # largest |encoded value|

    def verify(self, where: str = f"{INPUTS_KEY}[?]") -> InputEncoding:
        """This encoding, or ``QuantizationError`` naming the first field out of range."""
        InputEncoding.from_dict(self.as_dict(), where)
        return self

    def as_dict(self) -> dict[str, Any]:
        return {"encoding": self.kind, "scale": float(self.scale),
                "message_bits": int(self.message_bits), "max": float(self.x_max)}

    @classmethod
    def from_dict(cls, d: Any, where: str = f"{INPUTS_KEY}[?]") -> InputEncoding:
        d = _mapping(d, where)
        kind = d.get("encoding")
        if kind not in ENCODINGS:
            raise _fail(f"{where}.encoding", f"must be one of {', '.join(ENCODINGS)}, not "
                                             f"{kind!r}")
        scale = _number(d, "scale", where, positive=True)
        lo = 0 if kind == "spikes" else 1
        hi = 0 if kind == "spikes" else MAX_MESSAGE_BITS
        bits = _int(d, "message_bits", where, lo, hi)
        x_max = _number(d, "max", where, positive=True) if "max" in d else 1.0
        if kind == "spikes" and (scale != 1.0 or x_max != 1.0):
            raise _fail(where, f"spikes have scale 1 and max 1, not scale {scale:g}, "
                               f"max {x_max:g}")
        if kind != "spikes" and x_max >= 2.0**bits:
            raise _fail(f"{where}.max", f"{x_max:g} does not fit {bits} message bits")
        return cls(cast(Encoding, kind), scale, bits, x_max)


@dataclass(frozen=True)
class SynapseQuant:
    """One synapse of a quantized layer."""

    exp: int  # weight exponent: float weight ~ mant * 2**exp / S
    clipped: int  # weights clipped to the mantissa range
    max_error: float  # largest |weight error|, in units of the float weight
    exact: bool
    from_input: bool  # reads a graph input (its encoding's scale applies)
    source: str  # the node it reads (past flatten / reshape)

    def as_dict(self) -> dict[str, Any]:
        return {"exp": int(self.exp), "clipped": int(self.clipped),
                "max_error": float(self.max_error), "exact": bool(self.exact),
                "from_input": bool(self.from_input), "source": str(self.source)}

    @classmethod
    def from_dict(cls, d: Any, where: str) -> SynapseQuant:
        d = _mapping(d, where)
        return cls(_int(d, "exp", where, *EXP_RANGE), _int(d, "clipped", where, 0, 2**62),
                   _number(d, "max_error", where, minimum=0.0), _bool(d, "exact", where),
                   _bool(d, "from_input", where), _str(d, "source", where))


@dataclass(frozen=True)
class LayerQuant:
    """One quantized layer, keyed by its neuron in ``loihi.layers``."""

    scale: float  # S: integer potential = S * float potential
    vth_lsb: float  # one LSB of the threshold (64 / S) in float units
    exact: bool
    notes: tuple[str, ...] = ()
    synapses: Mapping[str, SynapseQuant] = field(default_factory=dict)

    def verify(self, where: str = f"{LAYERS_KEY}[?]") -> LayerQuant:
        LayerQuant.from_dict(self.as_dict(), where)
        return self

    def with_note(self, note: str) -> LayerQuant:
        """Marked inexact, with ``note`` appended."""
        return LayerQuant(self.scale, self.vth_lsb, False, (*self.notes, note), self.synapses)

    @property
    def clipped(self) -> int:
        return sum(s.clipped for s in self.synapses.values())

    def as_dict(self) -> dict[str, Any]:
        return {"scale": float(self.scale), "vth_lsb": float(self.vth_lsb),
                "exact": bool(self.exact), "notes": [str(n) for n in self.notes],
                "synapses": {k: s.as_dict() for k, s in self.synapses.items()}}

    @classmethod
    def from_dict(cls, d: Any, where: str = f"{LAYERS_KEY}[?]") -> LayerQuant:
        d = _mapping(d, where)
        scale = _number(d, "scale", where, positive=True)
        lsb = _number(d, "vth_lsb", where, positive=True)
        if not math.isclose(lsb, 64.0 / scale, rel_tol=1e-9):
            raise _fail(f"{where}.vth_lsb", f"must be 64 / scale = {64.0 / scale:g}, not "
                                            f"{lsb:g}")
        notes = d.get("notes", [])
        if not isinstance(notes, list | tuple) or not all(isinstance(n, str) for n in notes):
            raise _fail(f"{where}.notes", f"must be a list of strings, not {notes!r}")
        syns = _mapping(d.get("synapses", {}), f"{where}.synapses")
        return cls(scale, lsb, _bool(d, "exact", where), tuple(notes),
                   {str(k): SynapseQuant.from_dict(v, f"{where}.synapses[{k!r}]")
                    for k, v in syns.items()})


def read_inputs(g: Graph) -> dict[str, InputEncoding]:
    """``loihi.inputs`` of ``g``, verified ({} when the graph was not quantized)."""
    meta = _mapping(dict(g.metadata).get(INPUTS_KEY, {}), INPUTS_KEY)
    return {str(k): InputEncoding.from_dict(v, f"{INPUTS_KEY}[{k!r}]") for k, v in meta.items()}


def read_layers(g: Graph) -> dict[str, LayerQuant]:
    """``loihi.layers`` of ``g``, verified ({} when the graph was not quantized)."""
    meta = _mapping(dict(g.metadata).get(LAYERS_KEY, {}), LAYERS_KEY)
    return {str(k): LayerQuant.from_dict(v, f"{LAYERS_KEY}[{k!r}]") for k, v in meta.items()}


def verify(g: Graph) -> None:
    """Both entries of ``g`` verified, and every name they use is a node of ``g``."""
    for name in read_inputs(g):
        if name not in g.inputs:
            raise _fail(f"{INPUTS_KEY}[{name!r}]", "names no input of the graph (inputs: "
                                                    f"{', '.join(g.inputs) or 'none'})")
    for name, layer in read_layers(g).items():
        if name not in g.nodes:
            raise _fail(f"{LAYERS_KEY}[{name!r}]", "names no node of the graph")
        for syn, s in layer.synapses.items():
            where = f"{LAYERS_KEY}[{name!r}].synapses[{syn!r}]"
            if syn not in g.nodes:
                raise _fail(where, "names no node of the graph")
            if s.source not in g.nodes:
                raise _fail(f"{where}.source", f"{s.source!r} names no node of the graph")


def with_quant(g: Graph, *, inputs: Mapping[str, InputEncoding] | None = None,
               layers: Mapping[str, LayerQuant] | None = None) -> Graph:
    """``g`` with the given entries (each verified) stored as its metadata."""
    meta: dict[str, Any] = {}
    if inputs is not None:
        meta[INPUTS_KEY] = {k: e.verify(f"{INPUTS_KEY}[{k!r}]").as_dict()
                            for k, e in inputs.items()}
    if layers is not None:
        meta[LAYERS_KEY] = {k: q.verify(f"{LAYERS_KEY}[{k!r}]").as_dict()
                            for k, q in layers.items()}
    return g.with_metadata(**meta)
