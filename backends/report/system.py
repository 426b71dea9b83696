"""System cost lines: what a Loihi deployment spends besides the neuromorphic cores' events.

The per-event tables (SANA-FE, Davies 2018) price the neuromorphic cores and the mesh. Published
measurements of whole runs (Blouw et al. 2019; Rueckauer et al. 2021) are 2-50x larger: the chip
also runs embedded x86 (Lakemont) cores that inject the input and manage every step, leaks while
powered, and sits on a board. An energy model's ``[system]`` table prices each of these as a
separate line (docs/energy-model.md has every constant's source):

- ``input_injection`` (chip, dynamic): input messages written into the mesh, ``input_msg_pj``
  and ``input_msg_ns`` each;
- ``management`` (chip for the x86 path, system for the host link; dynamic): ``step_ns[path]``
  per time step at ``mgmt_w`` watts (the per-step work and barrier handshake of the x86 cores);
  a run whose input is held on the chip (graph metadata ``input_on_chip``: netx's bias drive,
  ``--input-bias``) and that writes no input message pays ``step_ns.chip`` instead when the
  table has it (Loihi 2: the measured per-step floor);
- ``graded_payload`` (chip, dynamic): payload bits of graded messages, ``payload_pj_per_bit``;
- ``chip_static`` (chip, static): chips x run time x the model's ``[static] watts_per_chip``;
- ``core_leakage`` (chip, static): powered (allocated) cores x run time x ``core_leak_w``;
- ``board`` (board, static): chips x run time x ``board_w`` (null: not known).

``input_path`` is ``"x86"`` (the embedded cores feed the input; NxTF, NxSDK snips) or
``"host"`` (a host process exchanges spikes with the chip every step; nengo-loihi). The
per-step time of the path and the input messages' time are added to every step's duration
(serial with the cores' work: the x86 writes the input, the cores run, all meet at the barrier).

``system_lines`` is a pure function of per-inference activity, shared by the report
(``sections.py``) and the per-sample costs of ``snnc eval`` (``snnc/evaluate/costs.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ...errors import FormatError

PATHS = ("x86", "host")  # input paths; step_ns may add "chip" (no input written from outside)
LINES = ("input_injection", "management", "graded_payload", "chip_static", "core_leakage",
         "board")
SCOPE = {"input_injection": "chip", "graded_payload": "chip", "chip_static": "chip",
         "core_leakage": "chip", "board": "board"}
KIND = {"input_injection": "dynamic", "management": "dynamic", "graded_payload": "dynamic",
        "chip_static": "static", "core_leakage": "static", "board": "static"}


@dataclass(frozen=True)
class SystemCosts:
    """The ``[system]`` table of an energy model (see the module docstring)."""

    input_path: str = "x86"
    step_ns: dict[str, float] = field(default_factory=lambda: {"x86": 0.0, "host": 0.0})
    mgmt_w: float = 0.0
    input_msg_pj: float = 0.0
    input_msg_ns: float = 0.0
    payload_pj_per_bit: float = 0.0
    core_leak_w: float = 0.0
    core_leak_range: tuple[float, float] | None = None
    board_w: float | None = None
    estimated: tuple[str, ...] = ()
    fitted: tuple[str, ...] = ()  # lines whose constants calibrate.py fitted to measurements
    sources: dict[str, str] = field(default_factory=dict)
    fit: dict[str, Any] = field(default_factory=dict)

    @property
    def mgmt_step_ns(self) -> float:
        return float(self.step_ns.get(self.input_path, 0.0))

    def step_ns_for(self, input_msgs: float, input_on_chip: bool = False) -> float:
        """Management time per step of a run that writes ``input_msgs`` input messages: the
        path's, or ``step_ns.chip`` (when the table has one) for a run whose input is held on
        the chip (``input_on_chip``: the graph's metadata, set by netx's bias drive) and that
        writes no message from outside, so has no per-step input work."""
        if input_on_chip and input_msgs <= 0 and "chip" in self.step_ns:
            return float(self.step_ns["chip"])
        return self.mgmt_step_ns

    def extra_ns(self, steps: float, input_msgs: float, input_on_chip: bool = False) -> float:
        """Time (ns) the system adds to a run of ``steps`` with ``input_msgs`` input messages."""
        return (steps * self.step_ns_for(input_msgs, input_on_chip)
                + input_msgs * self.input_msg_ns)

    def to_dict(self) -> dict[str, Any]:
        return {"input_path": self.input_path, "step_ns": dict(self.step_ns),
                "mgmt_w": self.mgmt_w, "input_msg_pj": self.input_msg_pj,
                "input_msg_ns": self.input_msg_ns, "payload_pj_per_bit": self.payload_pj_per_bit,
                "core_leak_w": self.core_leak_w,
                "core_leak_range": list(self.core_leak_range) if self.core_leak_range else None,
                "board_w": self.board_w, "estimated": list(self.estimated),
                "fitted": list(self.fitted),
                "sources": dict(self.sources), "fit": dict(self.fit)}


def _num(tab: dict[str, Any], key: str, where: str, default: float = 0.0) -> float:
    val = tab.get(key, default)
    if isinstance(val, bool) or not isinstance(val, int | float) or val < 0:
        raise FormatError(f"{where}: [system] {key} must be a number >= 0, not {val!r}")
    return float(val)


def parse_system(tab: Any, where: str) -> SystemCosts | None:
    """``SystemCosts`` from a model's ``[system]`` table (None when the model has none)."""
    if tab is None:
        return None
    if not isinstance(tab, dict):
        raise FormatError(f"{where}: [system] must be a table")
    path = tab.get("input_path", "x86")
    if path not in PATHS:
        raise FormatError(f"{where}: [system] input_path must be one of {', '.join(PATHS)}, "
                          f"not {path!r}")
    steps = tab.get("step_ns", {})
    if not isinstance(steps, dict):
        raise FormatError(f"{where}: [system.step_ns] must be a table of x86 / host (/ chip)")
    lr = tab.get("core_leak_range")
    board = tab.get("board_w")
    return SystemCosts(
        input_path=path, step_ns={p: _num(steps, p, where) for p in (*PATHS, "chip")
                                  if p in steps or p != "chip"},
        mgmt_w=_num(tab, "mgmt_w", where), input_msg_pj=_num(tab, "input_msg_pj", where),
        input_msg_ns=_num(tab, "input_msg_ns", where),
        payload_pj_per_bit=_num(tab, "payload_pj_per_bit", where),
        core_leak_w=_num(tab, "core_leak_w", where),
        core_leak_range=(float(lr[0]), float(lr[1])) if lr else None,
        board_w=None if board is None else _num(tab, "board_w", where),
        estimated=tuple(tab.get("estimated", ())), fitted=tuple(tab.get("fitted", ())),
        sources={str(k): str(v) for k, v in dict(tab.get("sources", {})).items()},
        fit=dict(tab.get("fit", {})))


@dataclass(frozen=True)
class Activity:
    """What the system lines are charged on, per inference."""

    steps: float
    input_msgs: float  # messages the input side wrote into the mesh
    payload_bits: float  # payload bits of graded messages (0: binary spikes only)
    powered_cores: int
    chips: int
    seconds: float  # run time of the inference, system time included
    input_on_chip: bool = False  # the graph's input is held on the chip (system.step_ns_for)


def system_lines(sys: SystemCosts | None, act: Activity, static_w: float | None,
                 static_range: tuple[float, float] | None) -> list[dict[str, Any]]:
    """One dict per line: ``line``, ``scope``, ``kind``, ``joules`` (None: not known),
    ``range`` ([low, high] J or None), ``estimate`` (no measurement behind it), ``fitted``
    (calibrated on published measurements), ``activity``; per inference."""
    s = sys or SystemCosts()
    mgmt_s = act.steps * s.step_ns_for(act.input_msgs, act.input_on_chip) * 1e-9
    vals: dict[str, tuple[float | None, tuple[float, float] | None, float]] = {
        "input_injection": (act.input_msgs * s.input_msg_pj * 1e-12, None, act.input_msgs),
        "management": (mgmt_s * s.mgmt_w, None, act.steps),
        "graded_payload": (act.payload_bits * s.payload_pj_per_bit * 1e-12, None,
                           act.payload_bits),
        "chip_static": (None if static_w is None else static_w * act.chips * act.seconds,
                        None if static_range is None else
                        (static_range[0] * act.chips * act.seconds,
                         static_range[1] * act.chips * act.seconds), act.chips * act.seconds),
        "core_leakage": (s.core_leak_w * act.powered_cores * act.seconds,
                         None if s.core_leak_range is None else
                         (s.core_leak_range[0] * act.powered_cores * act.seconds,
                          s.core_leak_range[1] * act.powered_cores * act.seconds),
                         act.powered_cores * act.seconds),
        "board": (None if s.board_w is None else s.board_w * act.chips * act.seconds, None,
                  act.chips * act.seconds)}
    out = []
    for name in LINES:
        joules, rng, activity = vals[name]
        if sys is None and name != "chip_static":
            joules, rng = None, None  # the model prices the cores only: not modelled
        scope = SCOPE.get(name) or ("system" if s.input_path == "host" else "chip")
        out.append({"line": name, "scope": scope, "kind": KIND[name], "joules": joules,
                    "range": list(rng) if rng else None, "activity": activity,
                    "estimate": name in s.estimated, "fitted": name in s.fitted})
    return out
