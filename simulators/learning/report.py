"""What on-chip learning did: synaptic updates made (event-driven) and what time-step-driven
updates (every synapse every step) would have made, for comparison. Counts only: the energy and
time of those updates are the report's (``backends/report/learning.py``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class LearningReport:
    """The counts of schema ``snnc.learning/1`` (``backends/report/learning.py`` adds costs)."""

    rule: str
    rule_strings: dict[str, str]
    layers: list[str]
    chip: str
    samples: int
    epochs: int
    steps: int
    synapses: int
    updates_event: int
    updates_timestep: int
    flips: int
    accuracy_curve: list[tuple[int, float]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["accuracy_curve"] = [{"samples": s, "accuracy": a} for s, a in self.accuracy_curve]
        return out
