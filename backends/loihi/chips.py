"""Chip specifications as data: resources, widths, mesh and the per-event cost table.

The built-in chips live in ``chips/<name>.toml`` next to this file (``loihi1``, ``loihi2``); each
number there carries its source tag (shared/reference/loihi.md). A user chip is a TOML file with
the same tables; ``base = "loihi1"`` inherits every field it does not set::

    base = "loihi1"
    name = "tiny"
    [core]
    neurons = 64

Cost-table units: energy in picojoules per event, time in nanoseconds per event. Event names
(``syn_op_dense`` ...) are those of ``snnc.simulators.event.counters.Counters``. ``EVENTS`` must
be in every table; ``LEARNING_EVENTS`` (``syn_update``: one synapse updated by a learning epoch)
are in the built-in tables but optional, so chip files written before on-chip learning still load
(their learning updates then cost nothing).
"""

from __future__ import annotations

import json
import math
from dataclasses import MISSING, asdict, dataclass, fields
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np

from ...errors import FormatError
from ...io import read_toml

CHIP_DIR = Path(__file__).with_name("chips")
EVENTS = ("syn_op_dense", "syn_op_sparse", "syn_op_conv", "neuron_inactive", "neuron_active",
          "spike_out", "axon_out", "axon_in", "hop_ew", "hop_ns", "chip_hop")
LEARNING_EVENTS = ("syn_update",)
# A core's own neurons' work in a step (updates, spikes generated, messages sent); the rest of
# its events (synaptic ops, messages received, learning updates) is its incoming-message work.
# With ``[costs] core_overlap = true`` the two run concurrently: the core's time in the step is
# the larger of the two, not their sum (SANA-FE's Loihi core model, docs/energy-model.md).
OWN_EVENTS = ("neuron_inactive", "neuron_active", "spike_out", "axon_out")


@dataclass(frozen=True)
class MeshSpec:
    cores_per_chip: int
    cores_per_tile: int
    tiles_x: int
    tiles_y: int
    max_chips: int
    chip_links: int


@dataclass(frozen=True)
class CoreSpec:
    neurons: int
    synapse_memory_bits: int  # dedicated synaptic memory (0: synapses use shared memory)
    shared_memory_bits: int  # memory shared by synapses and neuron state (0: none)
    neuron_state_bits: int  # per neuron, counted against shared memory
    input_axons: int
    output_axons: int


@dataclass(frozen=True)
class SynapseSpec:
    max_weight_bits: int
    delay_bits: int
    max_delay: int
    index_bits: int
    axon_header_bits: int
    dense_min_density: float
    conv_weight_sharing: bool


@dataclass(frozen=True)
class NeuronSpec:
    state_bits: int
    vth_bits: int
    decay_bits: int
    bias_mant_bits: int
    bias_exp_bits: int
    max_message_bits: int
    # Programmable neuron models (Loihi 2 microcode): '>=' comparator and subtract reset.
    programmable: bool = False
    # Extra state bits per neuron of a programmable model with a delayed reset (last spike).
    programmable_state_bits: int = 0


@dataclass(frozen=True)
class CostTable:
    """Per-event energy (pJ) and time (ns), the barrier curve, and where the numbers come from."""

    source: str
    estimated: tuple[str, ...]
    energy_pj: dict[str, float]
    time_ns: dict[str, float]
    barrier_tiles: tuple[int, ...]
    barrier_ns: tuple[float, ...]
    core_overlap: bool = False  # own-neuron work concurrent with incoming-message work (OWN_EVENTS)

    def core_time(self, own: Any, incoming: Any) -> Any:
        """A core's time in a step from its own-neuron work and its incoming-message work (ns,
        scalars or arrays): their maximum with ``core_overlap``, else their sum."""
        return np.maximum(own, incoming) if self.core_overlap else own + incoming

    def barrier(self, tiles: int, chips: int = 1) -> float:
        """Barrier time (ns) for ``tiles`` tiles in use, interpolated, plus a per-chip term."""
        xs, ys = self.barrier_tiles, self.barrier_ns
        t = min(max(tiles, xs[0]), xs[-1])
        for (x0, y0), (x1, y1) in pairwise(zip(xs, ys, strict=True)):
            if x0 <= t <= x1:
                base = y0 + (y1 - y0) * (t - x0) / max(x1 - x0, 1)
                break
        else:
            base = ys[-1]
        return base + max(chips - 1, 0) * self.time_ns.get("barrier_per_chip", 0.0)


@dataclass(frozen=True)
class ChipSpec:
    name: str
    description: str
    mesh: MeshSpec
    core: CoreSpec
    synapse: SynapseSpec
    neuron: NeuronSpec
    costs: CostTable

    @property
    def tiles_per_chip(self) -> int:
        return self.mesh.tiles_x * self.mesh.tiles_y

    def to_dict(self) -> dict[str, Any]:
        """Plain data (the TOML tables); ``ChipSpec.from_dict`` reads it back."""
        d = asdict(self)
        c = d.pop("costs")
        d["costs"] = {"source": c["source"], "estimated": list(c["estimated"]),
                      "energy_pj": c["energy_pj"], "time_ns": c["time_ns"],
                      "barrier_ns": {"tiles": list(c["barrier_tiles"]),
                                     "ns": list(c["barrier_ns"])},
                      "core_overlap": c["core_overlap"]}
        return d

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str = "chip spec") -> ChipSpec:
        return _build(data, where)


def _section(data: dict[str, Any], key: str, kind: type, where: str) -> Any:
    sec = data.get(key)
    if not isinstance(sec, dict):
        raise FormatError(f"{where}: missing table [{key}]")
    names = [f.name for f in fields(kind)]
    optional = {f.name for f in fields(kind) if f.default is not MISSING}
    missing = [n for n in names if n not in sec and n not in optional]
    if missing:
        raise FormatError(f"{where}: table [{key}] lacks {', '.join(missing)}")
    try:
        return kind(**{f.name: _cast(f.type, sec[f.name], f"{key}.{f.name}", where)
                       for f in fields(kind) if f.name in sec})
    except TypeError as exc:
        raise FormatError(f"{where}: table [{key}]: {exc}") from None


#: bounds of integer chip fields (a mesh of 2^63 tiles would never finish drawing)
INT_BOUNDS: dict[str, tuple[int, int]] = {
    "mesh.cores_per_chip": (1, 1 << 12), "mesh.cores_per_tile": (1, 1 << 8),
    "mesh.tiles_x": (1, 1 << 8), "mesh.tiles_y": (1, 1 << 8), "mesh.max_chips": (1, 1 << 14),
    "mesh.chip_links": (0, 1 << 8), "core.neurons": (1, 1 << 20),
}
_INT_DEFAULT = (0, 1 << 40)


def _cast(typ: Any, value: Any, field_name: str, where: str) -> Any:
    name = typ if isinstance(typ, str) else getattr(typ, "__name__", str(typ))
    lo, hi = INT_BOUNDS.get(field_name, _INT_DEFAULT)
    try:
        if name == "int":
            if isinstance(value, bool) or not isinstance(value, (int, float)) \
                    or int(value) != value or not lo <= int(value) <= hi:
                raise ValueError
            return int(value)
        if name == "float":
            return _number(value)
        if name == "bool":
            if not isinstance(value, bool):
                raise ValueError
            return value
    except (TypeError, ValueError, OverflowError):
        want = f"an integer in {lo}..{hi}" if name == "int" else f"a finite non-negative {name}"
        raise FormatError(f"{where}: field {field_name} must be {want}, "
                          f"got {value!r}") from None
    return value


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError
    v = float(value)
    if not math.isfinite(v) or v < 0:
        raise ValueError
    return v


def _table(c: dict[str, Any], key: str, where: str) -> dict[str, float]:
    tab = c.get(key, {})
    if not isinstance(tab, dict):
        raise FormatError(f"{where}: [costs.{key}] must be a table of numbers")
    out = {}
    for k, v in tab.items():
        try:
            out[str(k)] = _number(v)
        except (TypeError, ValueError, OverflowError):
            raise FormatError(f"{where}: field costs.{key}.{k} must be a finite non-negative "
                              f"number, got {v!r}") from None
    return out


def _costs(data: dict[str, Any], where: str) -> CostTable:
    c = data.get("costs")
    if not isinstance(c, dict):
        raise FormatError(f"{where}: missing table [costs]")
    tables = {key: _table(c, key, where) for key in ("energy_pj", "time_ns")}
    for key, tab in tables.items():
        missing = [e for e in EVENTS if e not in tab]
        if missing:
            raise FormatError(f"{where}: [costs.{key}] lacks {', '.join(missing)}")
    bar = c.get("barrier_ns", {})
    try:
        tiles = [int(_cast("int", t, "costs.barrier_ns.tiles", where)) for t in bar["tiles"]]
        ns = [_number(x) for x in bar["ns"]]
    except (TypeError, ValueError, KeyError, OverflowError, AttributeError):
        tiles, ns = [], []
    if not tiles or len(tiles) != len(ns) or tiles != sorted(tiles):
        raise FormatError(f"{where}: [costs.barrier_ns] needs increasing integer 'tiles' and as "
                          "many finite 'ns'")
    estimated = c.get("estimated", ())
    if not isinstance(estimated, (list, tuple)):
        raise FormatError(f"{where}: costs.estimated must be a list of event names")
    overlap = c.get("core_overlap", False)
    if not isinstance(overlap, bool):
        raise FormatError(f"{where}: costs.core_overlap must be true or false")
    return CostTable(str(c.get("source", "unknown")), tuple(str(e) for e in estimated),
                     tables["energy_pj"], tables["time_ns"], tuple(tiles), tuple(ns), overlap)


def _build(data: dict[str, Any], where: str) -> ChipSpec:
    if not isinstance(data, dict):
        raise FormatError(f"{where}: a chip spec must be a table")
    if "name" not in data:
        raise FormatError(f"{where}: missing 'name'")
    spec = ChipSpec(str(data["name"]), str(data.get("description", "")),
                    _section(data, "mesh", MeshSpec, where),
                    _section(data, "core", CoreSpec, where),
                    _section(data, "synapse", SynapseSpec, where),
                    _section(data, "neuron", NeuronSpec, where), _costs(data, where))
    if spec.core.synapse_memory_bits == 0 and spec.core.shared_memory_bits == 0:
        raise FormatError(f"{where}: [core] needs synapse_memory_bits or shared_memory_bits > 0")
    if spec.mesh.cores_per_chip > spec.mesh.cores_per_tile * spec.tiles_per_chip:
        raise FormatError(f"{where}: cores_per_chip exceeds cores_per_tile * tiles_x * tiles_y")
    return spec


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def builtin_chips() -> list[str]:
    return sorted(p.stem for p in CHIP_DIR.glob("*.toml"))


def _raw(name_or_path: str | Path, depth: int = 0) -> dict[str, Any]:
    p = Path(name_or_path)
    if str(name_or_path) in builtin_chips():
        p = CHIP_DIR / f"{name_or_path}.toml"
    elif not (p.suffix == ".toml" or p.exists()):
        raise FormatError(f"unknown chip {str(name_or_path)!r}: use one of "
                          f"{', '.join(builtin_chips())} or a path to a .toml chip file")
    data = read_toml(p, "chip file")
    base = data.pop("base", None)
    if base is None:
        return data
    if not isinstance(base, str):
        raise FormatError(f"{p}: field base must be a chip name or file, got {base!r}")
    if depth > 8:
        raise FormatError(f"{p}: 'base' chain too deep")
    return _merge(_raw(base, depth + 1), data)


#: The chip ``loihi-sim`` maps onto when no ``--chip`` is given (``snnc.targets`` says the same).
DEFAULT_CHIP = "loihi2"
#: For a refusal on one built-in chip: the other one, which may take the model.
OTHER_CHIP = {"loihi1": "loihi2", "loihi2": "loihi1"}


def load_chip(name_or_path: str | Path = DEFAULT_CHIP) -> ChipSpec:
    """A built-in chip by name (``loihi1``, ``loihi2``) or a user chip from a TOML file."""
    return _build(_raw(name_or_path), str(name_or_path))
