"""Energy models as data, and the energy of one simulated run under a model.

An energy model (``energy_models/<name>.toml``) states, with sources: the per-event energy (pJ)
and time (ns) table, or ``costs = "chip"`` to use the chip's own table (the one the event
simulator timed the run with); the static (idle) power per chip, if known; and the uncertainty
as low/high factors on the central value. Built-in models:

- ``loihi1-sanafe``: Loihi 1, silicon-calibrated (SANA-FE), the default for ``loihi1``;
- ``loihi1-davies2018``: Loihi 1, Davies et al. 2018 Table 2 (pre-silicon);
- ``loihi2-estimate``: Loihi 2, an ESTIMATE (Loihi 1 costs reused; nothing is published).

A user chip without a model gets ``chip-table``: its own cost table, static power unknown.

Energy accounting (``Counters`` conventions, ``simulators/event/counters.py``): every counted
event costs its table energy; input spikes from the host pay for their mesh hops (counted as
layer ``(host input)``); static energy = idle power x chips x run time. Totals are per inference
(one sample of the simulated run).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ...errors import FormatError
from ...io import read_toml
from ...simulators.event.counters import EVENT_OF
from ..loihi.chips import EVENTS, ChipSpec
from .system import Activity, SystemCosts, parse_system, system_lines

MODEL_DIR = Path(__file__).with_name("energy_models")
HOST_LAYER = "(host input)"
HOST_EVENT_OF = {"host_hops_ew": "hop_ew", "host_hops_ns": "hop_ns", "host_chip_hops": "chip_hop"}
# on-chip learning counters (optional: older counters and cost tables lack them)
LEARNING_EVENT_OF = {"syn_updates": "syn_update"}


def event_fields(counters: Any, model: EnergyModel) -> list[tuple[str, str]]:
    """(counter field, event) pairs to charge: the core events, and learning events that both
    the counters and the model's table have."""
    out = list(EVENT_OF.items())
    out += [(f, e) for f, e in LEARNING_EVENT_OF.items()
            if getattr(counters, f, None) is not None and e in model.energy_pj]
    return out


@dataclass(frozen=True)
class EnergyModel:
    """Per-event costs with their source, static power and uncertainty (see module docstring)."""

    name: str
    description: str
    source: str
    estimate: bool
    energy_pj: dict[str, float]
    time_ns: dict[str, float]
    barrier_tiles: tuple[int, ...]
    barrier_ns: tuple[float, ...]
    static_w: float | None  # per chip; None: unknown
    static_range: tuple[float, float] | None
    static_source: str
    uncertainty: dict[str, Any] = field(default_factory=dict)
    estimated_events: tuple[str, ...] = ()
    times_from_chip: bool = False  # True: the simulator's own step times apply unchanged
    system: SystemCosts | None = None  # the [system] lines (system.py); None: cores only
    time_scale: float = 1.0  # times_from_chip: the simulator's step times x this ([scale] time)
    core_overlap: bool = False  # the chip's core model (chips.CostTable.core_overlap)

    def barrier(self, tiles: int, chips: int = 1) -> float:
        """Mesh barrier time (ns), linear between the table's points, plus a per-chip term."""
        t = min(max(tiles, self.barrier_tiles[0]), self.barrier_tiles[-1])
        base = float(np.interp(t, self.barrier_tiles, self.barrier_ns))
        return base + max(chips - 1, 0) * self.time_ns.get("barrier_per_chip", 0.0)

    def factor(self, kind: str, bound: str) -> float | None:
        """Uncertainty factor (``kind`` "energy"/"time", ``bound`` "low"/"high"), or None."""
        val = self.uncertainty.get(f"{kind}_{bound}")
        return None if val is None else float(val)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "description": self.description, "source": self.source,
                "estimate": self.estimate, "energy_pj": dict(sorted(self.energy_pj.items())),
                "time_ns": dict(sorted(self.time_ns.items())),
                "estimated_events": list(self.estimated_events),
                "static_w_per_chip": self.static_w,
                "static_w_range": list(self.static_range) if self.static_range else None,
                "static_source": self.static_source,
                "uncertainty": dict(self.uncertainty),
                "system": self.system.to_dict() if self.system else None}


def builtin_models() -> list[str]:
    return sorted(p.stem for p in MODEL_DIR.glob("*.toml"))


def _table(data: dict[str, Any], key: str, where: str) -> dict[str, float]:
    tab = data.get(key, {})
    missing = [e for e in EVENTS if e not in tab]
    if missing:
        raise FormatError(f"{where}: [{key}] lacks {', '.join(missing)}")
    return {k: float(v) for k, v in tab.items()}


def _scale(data: dict[str, Any], where: str) -> tuple[float, float]:
    """``[scale] energy / time``: factors on the chip's table (e.g. a process shrink)."""
    sc = data.get("scale", {})
    out = []
    for key in ("energy", "time"):
        val = sc.get(key, 1.0)
        if isinstance(val, bool) or not isinstance(val, int | float) or val <= 0:
            raise FormatError(f"{where}: [scale] {key} must be a number > 0, not {val!r}")
        out.append(float(val))
    return out[0], out[1]


def load_model(name_or_path: str | Path, chip: ChipSpec) -> EnergyModel:
    """A built-in model by name or a model TOML file, resolved against ``chip``'s cost table."""
    path = Path(name_or_path)
    if str(name_or_path) in builtin_models():
        path = MODEL_DIR / f"{name_or_path}.toml"
    elif not path.is_file():
        raise FormatError(f"unknown energy model {str(name_or_path)!r}: use one of "
                          f"{', '.join(builtin_models())} or a path to a model .toml file")
    data = read_toml(path, "energy model")
    where = str(path)
    st = data.get("static", {})
    watts = st.get("watts_per_chip")
    rng = (float(st["low"]), float(st["high"])) if "low" in st and "high" in st else None
    common = {"name": str(data.get("name", path.stem)),
              "description": str(data.get("description", "")),
              "source": str(data.get("source", "unknown")),
              "estimate": bool(data.get("estimate", False)),
              "static_w": None if watts is None else float(watts), "static_range": rng,
              "static_source": str(st.get("source", "unknown")),
              "uncertainty": dict(data.get("uncertainty", {})),
              "system": parse_system(data.get("system"), where)}
    if data.get("costs") == "chip":
        c = chip.costs
        es, ts = _scale(data, where)
        return EnergyModel(**common, energy_pj={k: v * es for k, v in c.energy_pj.items()},
                           time_ns={k: v * ts for k, v in c.time_ns.items()},
                           barrier_tiles=c.barrier_tiles,
                           barrier_ns=tuple(v * ts for v in c.barrier_ns),
                           estimated_events=tuple(c.estimated), times_from_chip=True,
                           time_scale=ts, core_overlap=c.core_overlap)
    bar = data.get("barrier_ns", {})
    tiles, ns = list(bar.get("tiles", [])), list(bar.get("ns", []))
    if not tiles or len(tiles) != len(ns):
        raise FormatError(f"{where}: [barrier_ns] needs 'tiles' and as many 'ns'")
    return EnergyModel(**common, energy_pj=_table(data, "energy_pj", where),
                       time_ns=_table(data, "time_ns", where), barrier_tiles=tuple(tiles),
                       barrier_ns=tuple(float(x) for x in ns),
                       estimated_events=tuple(data.get("estimated", ())),
                       core_overlap=chip.costs.core_overlap)


def chip_table_model(chip: ChipSpec) -> EnergyModel:
    """The chip's own cost table, static power unknown (for user chips without a model)."""
    c = chip.costs
    return EnergyModel("chip-table", f"cost table of chip {chip.name!r}", c.source,
                       bool(c.estimated), dict(c.energy_pj), dict(c.time_ns), c.barrier_tiles,
                       c.barrier_ns, None, None, "unknown for this chip",
                       {"basis": "not stated for a user chip"}, tuple(c.estimated), True,
                       core_overlap=c.core_overlap)


def cost_line(chip: str, model: EnergyModel | dict[str, Any]) -> str:
    """One line: the chip and where its cost figures come from (``model``: an ``EnergyModel``
    or a report's ``energy.model`` dict). The report (``chip.costs``) and ``snnc inspect``
    print it."""
    get = model.get if isinstance(model, dict) else lambda k: getattr(model, k)
    est = "an ESTIMATE; " if get("estimate") else ""
    return f"chip {chip}, cost figures {get('name')} ({est}source: {get('source')})"


def models_for_chip(chip: ChipSpec) -> list[EnergyModel]:
    """Every model that applies to ``chip``, the default (first) one first."""
    out = []
    for name in builtin_models():
        data = read_toml(MODEL_DIR / f"{name}.toml", "energy model")
        if chip.name in data.get("chips", []):
            out.append(load_model(name, chip))
    out.sort(key=lambda m: (m.times_from_chip is False, m.name))
    return out or [chip_table_model(chip)]


@dataclass
class EnergyResult:
    """Energy per inference (J) under one model: totals, splits and per-step dynamic energy.

    ``dynamic_j``, ``by_core``, ``by_layer`` (chip layers) and ``per_step_j`` are the
    neuromorphic cores' and the mesh's events (``dynamic_energy``); ``lines`` are the system cost
    lines of ``system.py`` (``with_system``); ``static_j`` = chip static + core leakage."""

    model: EnergyModel
    dynamic_j: float
    static_j: float | None
    by_kind: dict[str, float]
    by_layer: dict[str, float]
    by_core: list[float]
    per_step_j: list[float]
    lines: list[dict[str, Any]] = field(default_factory=list)
    static_range_j: tuple[float, float] | None = None

    @property
    def system_dynamic_j(self) -> float:
        return sum(ln["joules"] or 0.0 for ln in self.lines if ln["kind"] == "dynamic")

    @property
    def total_dynamic_j(self) -> float:
        """Every dynamic line: the cores' events plus input, management and payloads."""
        return self.dynamic_j + self.system_dynamic_j

    @property
    def board_j(self) -> float | None:
        return next((ln["joules"] for ln in self.lines if ln["line"] == "board"), None)

    @property
    def total_j(self) -> float:
        return self.total_dynamic_j + (self.static_j or 0.0)

    def bounds(self, static_range_j: tuple[float, float] | None) -> tuple[float, float] | None:
        lo, hi = self.model.factor("energy", "low"), self.model.factor("energy", "high")
        if lo is None or hi is None:
            return None
        s_lo, s_hi = static_range_j or (self.static_j or 0.0, self.static_j or 0.0)
        d = self.total_dynamic_j
        return d * lo + s_lo, d * hi + s_hi


def dynamic_energy(counters: Any, model: EnergyModel, core_layer: list[str]) -> EnergyResult:
    """Dynamic energy per inference from ``counters`` (static is added by ``with_static``)."""
    n = counters.n_samples
    pj = model.energy_pj
    per_core = np.zeros(len(core_layer))
    per_step = np.zeros(counters.step_ns.shape[0])
    by_kind: dict[str, float] = {}
    for fld, ev in event_fields(counters, model):
        arr = np.asarray(getattr(counters, fld), np.float64) * pj[ev]
        per_core += arr.sum(0)
        per_step += arr.sum(1)
        by_kind[ev] = by_kind.get(ev, 0.0) + float(arr.sum())
    host = 0.0
    for fld, ev in HOST_EVENT_OF.items():
        arr = np.asarray(getattr(counters, fld), np.float64) * pj[ev]
        per_step += arr
        by_kind[ev] = by_kind.get(ev, 0.0) + float(arr.sum())
        host += float(arr.sum())
    by_layer: dict[str, float] = {}
    for core, layer in enumerate(core_layer):
        by_layer[layer] = by_layer.get(layer, 0.0) + float(per_core[core])
    if host:
        by_layer[HOST_LAYER] = host
    scale = 1e-12 / n
    return EnergyResult(model, float(per_step.sum()) * scale, None,
                        {k: v * scale for k, v in by_kind.items()},
                        {k: v * scale for k, v in by_layer.items()},
                        [float(x) * scale for x in per_core], [float(x) * scale for x in per_step])


def with_static(res: EnergyResult, n_chips: int, seconds: float) -> EnergyResult:
    """Add static energy = idle power x chips x run time (unknown power: stays None)."""
    if res.model.static_w is not None and math.isfinite(seconds):
        res.static_j = res.model.static_w * n_chips * seconds
    return res


def with_system(res: EnergyResult, act: Activity) -> EnergyResult:
    """Add the system cost lines (``system.system_lines``) for ``act`` and set ``static_j`` to
    chip static + core leakage (None when neither is known) and ``static_range_j``."""
    if not math.isfinite(act.seconds):
        return res
    m = res.model
    res.lines = system_lines(m.system, act, m.static_w, m.static_range)
    static = [ln for ln in res.lines if ln["kind"] == "static" and ln["scope"] == "chip"]
    known = [ln for ln in static if ln["joules"] is not None and
             (ln["joules"] > 0 or ln["line"] == "chip_static")]
    res.static_j = sum(ln["joules"] for ln in known) if known else None
    if res.static_j is not None:
        lo = sum((ln["range"] or [ln["joules"]] * 2)[0] for ln in known)
        hi = sum((ln["range"] or [ln["joules"]] * 2)[1] for ln in known)
        res.static_range_j = (lo, hi)
    for ln in res.lines:
        if ln["kind"] == "dynamic" and ln["joules"]:
            res.by_kind[ln["line"]] = ln["joules"]
            res.by_layer[f"({ln['line'].replace('_', ' ')})"] = ln["joules"]
    return res
