"""The report of a ``snnc compile`` result: choose the input, run the chip, write the report.

Which activity the report measures, in order:

1. ``inputs`` given to ``report_compiled`` (or ``result.report_input``, set by ``snnc compile
   --input X.npy``): kind ``user``;
2. the file the compile calibrated on: ``example`` when it is the model's own
   ``<model>.input.npy``, else ``calibration``;
3. nothing (the compile calibrated on synthetic data, or on arrays it did not keep): the report
   states that it shows the WORST CASE (every input and neuron spiking at every step).

The input (time-major, per input node, as the float graph takes it) is encoded for the chip as
the lowered graph's ``loihi.inputs`` metadata says, and the event simulator runs T + L steps (L:
the lowered graph's latency) so every input step reaches the last layer. At most
``MAX_SAMPLES`` samples are simulated.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from ...errors import SnncError
from . import write_report
from .activity import report_probes

log = logging.getLogger(__name__)
MAX_SAMPLES = 32
DEFAULT_STEPS = 16


def _from_path(result: Any, path: Path) -> dict[str, np.ndarray]:
    from ...passes.driver import load_calibration

    stim, _ = load_calibration(result.float_graph, path, None, None)
    return stim


def choose_input(result: Any, inputs: Any = None) -> tuple[dict[str, np.ndarray] | None, str,
                                                             str | None]:
    """(time-major stimuli per input node or None, input kind, where they came from)."""
    inputs = inputs if inputs is not None else getattr(result, "report_input", None)
    if isinstance(inputs, str | Path):
        return _from_path(result, Path(inputs)), "user", str(inputs)
    if isinstance(inputs, dict):
        return {k: np.asarray(v, np.float64) for k, v in inputs.items()}, "user", "given"
    if inputs is not None:
        return {result.float_graph.inputs[0]: np.asarray(inputs, np.float64)}, "user", "given"
    source = str(getattr(result, "calibration", "") or "")
    if source and Path(source).is_file():
        kind = "example" if source.endswith(".input.npy") else "calibration"
        return _from_path(result, Path(source)), kind, source
    return None, "worst-case", None


def _latency(lowered: Any) -> int:
    return max(dict(lowered.metadata.get("loihi.latency", {})).values(), default=0)


def _steps(result: Any) -> int:
    fid = getattr(result, "fidelity", None) or {}
    return int(fid.get("steps") or DEFAULT_STEPS)


def report_compiled(result: Any, out_dir: str | Path, inputs: Any = None, *, html: bool = True,
                    energy_model: str | None = None) -> Path | None:
    """Write ``report.json`` / ``report.html`` for a compile result that has a chip program."""
    program = getattr(result, "program", None)
    if program is None:
        return None
    target = getattr(getattr(result, "target", None), "name", None)
    stim, kind, source = choose_input(result, inputs)
    lat = _latency(program.graph)
    if stim is None:
        return write_report(out_dir, program, None, result.float_graph, result.fidelity, kind,
                            html=html, steps=_steps(result) + lat, target=target,
                            energy_model=energy_model)
    stim = {k: v[:, :MAX_SAMPLES] for k, v in stim.items()}
    from ...passes.qinputs import encode_inputs
    from ...simulators.event import simulate

    T = max(x.shape[0] for x in stim.values())
    try:
        chip_in = encode_inputs(program.graph, stim)
        sim = simulate(program, chip_in, T + lat, report_probes(program))
    except SnncError as exc:
        raise SnncError(f"report: simulating the compiled program on {source} failed: "
                        f"{exc}") from None
    return write_report(out_dir, program, sim, result.float_graph, result.fidelity, kind,
                        html=html, inputs=stim, chip_inputs=chip_in, target=target,
                        input_source=source, energy_model=energy_model)
