"""Stage 4, ``measure``: simulate the chosen input on the chip program -> ``Measurement``.

Which activity the report measures, in order:

1. ``report_input`` (``snnc compile --input X.npy``, or an array / dict per input node): kind
   ``user``;
2. the file the compile calibrated on: ``example`` when it is the model's own
   ``<model>.input.npy``, else ``calibration``;
3. nothing (the compile calibrated on synthetic data, or on arrays it did not keep): the
   simulator counts the WORST CASE (every input and neuron spiking at every step).

The input (time-major, per input node, as the float graph takes it) is encoded for the chip as
the lowered graph's ``loihi.inputs`` metadata says, and the event simulator runs T + L steps (L:
the lowered graph's latency) so every input step reaches the last layer; the reference simulator
records the float graph on the same input for the NeuroBench metrics. At most ``MAX_SAMPLES``
samples are simulated. Nothing here knows of energy: that is the report's.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import SnncError
from ..ir import Graph
from .optimize import DEFAULT_STEPS, Optimized, read_stimulus

MAX_SAMPLES = 32


@dataclass(frozen=True)
class Measurement:
    """What the chip did on one input: counters and spike probes (``sim``), and the float model's
    probes on the same input (``float_probes``, None when it was not or could not be run)."""

    kind: str  # "user" | "example" | "calibration" | "worst-case"
    source: str | None
    sim: Any  # SimResult: counters, and "<layer>.s" probes when an input was simulated
    inputs: dict[str, np.ndarray] | None = None  # time-major, as the float graph takes them
    chip_inputs: dict[str, np.ndarray] | None = None
    float_probes: dict[str, np.ndarray] | None = None
    notes: tuple[str, ...] = ()
    #: accuracy and counters per T of a converted SNN on labelled data (stages/conversion.py)
    conversion: Any = None


def choose_input(optimized: Optimized, report_input: Any = None
                 ) -> tuple[dict[str, np.ndarray] | None, str, str | None]:
    """(time-major stimuli per input node or None, input kind, where they came from)."""
    graph = optimized.float_graph
    if isinstance(report_input, str | Path):
        return read_stimulus(graph, Path(report_input), "input"), "user", str(report_input)
    if isinstance(report_input, dict):
        return ({k: np.asarray(v, np.float64) for k, v in report_input.items()}, "user",
                "given")
    if report_input is not None:
        return {graph.inputs[0]: np.asarray(report_input, np.float64)}, "user", "given"
    source = optimized.calibration
    if source and Path(source).is_file():
        kind = "example" if source.endswith(".input.npy") else "calibration"
        return read_stimulus(graph, Path(source), "calibration"), kind, source
    return None, "worst-case", None


def latency(lowered: Graph) -> int:
    return max(dict(lowered.metadata.get("loihi.latency", {})).values(), default=0)


def record_float(graph: Graph, inputs: Any, steps: int | None = None) -> dict[str, np.ndarray]:
    """Reference simulation of ``graph`` on time-major ``inputs`` with every probe the report's
    NeuroBench metrics and analytic estimate read (``graphstats.input_probes``)."""
    from ..backends.report.graphstats import input_probes
    from ..simulators.reference import simulate

    return dict(simulate(graph, inputs, steps, input_probes(graph)).probes)


def _float(graph: Graph, stim: dict[str, np.ndarray]) -> tuple[dict | None, tuple[str, ...]]:
    try:
        return record_float(graph, stim), ()
    except SnncError as exc:
        return None, (f"the float model could not be run on the input ({exc}); NeuroBench "
                      "workload metrics and measured analytic rates are left out",)


def measure(program: Any, optimized: Optimized, report_input: Any = None,
            conversion: Any = None) -> Measurement:
    """Run the event simulator on the chosen input (or count the worst case); ``conversion``
    (a callable ``(program) -> ConversionRun``, see ``stages/conversion.py``) adds the
    accuracy-versus-T runs of a converted SNN."""
    extra = None if conversion is None else conversion(program)
    m = _measure(program, optimized, report_input)
    return m if extra is None else replace(m, conversion=extra)


def _measure(program: Any, optimized: Optimized, report_input: Any = None) -> Measurement:
    from ..passes.qinputs import encode_inputs
    from ..simulators.event import simulate
    from ..simulators.event.worst_case import worst_case_counters
    from ..simulators.result import SimResult

    stim, kind, source = choose_input(optimized, report_input)
    lat = latency(program.graph)
    if stim is None:
        steps = int((optimized.fidelity or {}).get("steps") or DEFAULT_STEPS) + lat
        return Measurement(kind, None, SimResult({}, {}, worst_case_counters(program, steps)))
    stim = {k: v[:, :MAX_SAMPLES] for k, v in stim.items()}
    T = max(x.shape[0] for x in stim.values())
    try:
        chip_in = encode_inputs(program.graph, stim)
        sim = simulate(program, chip_in, T + lat, [f"{layer}.s" for layer in program.layers])
    except SnncError as exc:
        raise SnncError(f"report: simulating the compiled program on {source} failed: "
                        f"{exc}") from None
    fprobes, notes = _float(optimized.float_graph, stim)
    return Measurement(kind, source, sim, stim, chip_in, fprobes, notes)
