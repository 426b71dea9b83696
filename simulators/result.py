"""``SimResult``: what every simulator and backend returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class SimResult:
    """Simulation output. Arrays are time-major: (T, B, *shape).

    ``outputs``: one entry per graph output node. ``probes``: ``"node.var"`` -> array.
    ``counters``: activity counts (event simulator only; see ``simulators.event``).
    """

    outputs: dict[str, np.ndarray]
    probes: dict[str, np.ndarray] = field(default_factory=dict)
    counters: Any = None

    @property
    def output(self) -> np.ndarray:
        """The single output (error if the graph has several)."""
        if len(self.outputs) != 1:
            raise ValueError(f"graph has {len(self.outputs)} outputs: {sorted(self.outputs)}")
        return next(iter(self.outputs.values()))
