"""A third-party simulator and backend, as a package would ship them (used by test_stages.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from snnc.simulators.result import SimResult


class ToySimulator:
    """Echoes the first input as the output: enough to see the registry route to it."""

    name = "toy"
    description = "test plug-in: output = input"
    needs = "graph"
    compile_target = None

    def run(self, subject: Any, inputs: Any, steps: int | None, probes: tuple[str, ...],
            **options: Any) -> SimResult:
        x = np.asarray(next(iter(inputs.values())) if isinstance(inputs, dict) else inputs)
        return SimResult({subject.outputs[0]: x})


class ToyBackend:
    name = "toyfile"
    description = "test plug-in: writes the node names"

    def map(self, optimized: Any, chip: str | None) -> Any:
        return None

    def write(self, result: Any, out: Path) -> list[str]:
        (out / "nodes.txt").write_text("\n".join(result.graph.nodes) + "\n")
        return ["nodes.txt"]


class NotASimulator:
    name = "broken"
