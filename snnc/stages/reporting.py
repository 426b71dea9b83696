"""Stage 5, ``report``: program + counters + fidelity -> the ``report.json`` document (pure).

Nothing is simulated or mapped here: ``backends.report.build_report`` reads the ``Measurement``
(counters, spike probes, the float model's probes) and applies the chip's energy model.
"""

from __future__ import annotations

from typing import Any

from .measure import Measurement
from .optimize import Optimized


def build(program: Any, measurement: Measurement, optimized: Optimized,
          target: str | None = None, energy_model: str | None = None) -> dict[str, Any]:
    """The report document of ``program`` as ``measurement`` measured it."""
    from ..backends.report import build_report

    m = measurement
    return build_report(program, m.sim, optimized.float_graph, optimized.fidelity, m.kind,
                        inputs=m.inputs, chip_inputs=m.chip_inputs, float_probes=m.float_probes,
                        target=target, input_source=m.source, energy_model=energy_model,
                        notes=m.notes, conversion=m.conversion)
