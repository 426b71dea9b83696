"""Part of stage 4, ``measure``, for converted SNNs: accuracy and chip activity versus T.

``snnc compile OUT/snn.snnc --data D.npz`` (labelled static samples, as ``snnc convert`` takes
them) on a graph ``snnc convert`` wrote (``metadata["converted"]``) runs, for T in ``STEPS``:

- the float ANN (``--ann``, default ``ann.snnc`` next to the SNN when it is there) once, and
  the float SNN in the reference simulator for T_max steps (direct encoding: the same analog
  input at every step; prediction = argmax of the output summed over T);
- the compiled program on the event simulator (loihi-sim) on every sample for T_max + L steps,
  with the input encoded as the lowered graph says (L: its latency); the chip's prediction at T
  sums the readout over the T steps after the output's depth;
- per T, the event simulator again on the first ``ENERGY_SAMPLES`` samples for T + L steps (the
  input for T steps, then L steps draining), whose counters the report prices as the energy
  and latency of one inference at that T.

With ``methods`` beyond ``plain``, SRP and COS run too: in float (``convert/runtime.py``) and
in the chip's arithmetic (``convert/chip.py``: the lowered graph in the fixed-point reference,
bit-identical to loihi-sim, with the host-driven pre-run and per-sample restart). The event
simulator cannot restart a sample with per-sample potentials or masks, so their energy is not
measured; the plain program's energy at T is a lower bound (they add tau + L pre-run steps, COS
once per converted layer). Nothing here knows of energy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import FormatError, SnncError
from ..ir import Graph

STEPS = (1, 2, 4, 8, 16, 32)
ENERGY_SAMPLES = 32
CHUNK = 128  # samples per event-simulator run for the accuracy


@dataclass(frozen=True)
class ConversionRun:
    """Accuracy per T (float ANN, float SNN, chip) and the chip's counters per T."""

    steps: tuple[int, ...]
    samples: int
    source: str | None
    ann_accuracy: float | None
    snn_accuracy: dict[int, float]
    chip_accuracy: dict[int, float]
    counters: dict[int, Any] = field(repr=False)
    energy_samples: int = 0
    notes: tuple[str, ...] = ()
    #: SRP / COS (and plain) accuracies per T: {method: {T: acc}}, float SNN and chip
    snn_methods: dict[str, dict[int, float]] = field(default_factory=dict)
    chip_methods: dict[str, dict[int, float]] = field(default_factory=dict)
    tau: int = 8


def is_converted(graph: Graph) -> bool:
    return bool(dict(graph.metadata).get("converted"))


def read_labelled(path: str | Path, shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """(x (N, *shape) float64, y (N,) int64) from an .npz with ``x`` and ``y``."""
    from ..readers import read_array

    p = Path(path)
    arrays = read_array(p, "labelled data (an .npz with x and y)")
    if not isinstance(arrays, dict) or "x" not in arrays or "y" not in arrays:
        raise FormatError(f"{p}: needs arrays x (N, {', '.join(map(str, shape))}) and y (N,) "
                          "labels in one .npz")
    x, y = np.asarray(arrays["x"]), np.asarray(arrays["y"])
    if x.dtype.kind not in "biuf" or tuple(x.shape[1:]) != tuple(shape):
        raise FormatError(f"{p}: x has shape {x.shape} ({x.dtype}); the model takes "
                          f"(N, {', '.join(map(str, shape))}) numbers, without a time axis")
    if y.shape != (len(x),) or y.dtype.kind not in "biu":
        raise FormatError(f"{p}: y has shape {y.shape} ({y.dtype}); it needs one integer label "
                          "per sample of x")
    if len(x) == 0:
        raise FormatError(f"{p}: x holds no samples")
    return x.astype(np.float64), y.astype(np.int64)


def _chip_scores(program: Any, x: np.ndarray, steps: int) -> np.ndarray:
    """(steps, N, classes) cumulative readout of the chip over the first ``steps`` input steps."""
    from ..passes.qinputs import encode_inputs
    from ..simulators.event import simulate

    g = program.graph
    out = g.outputs[0]
    depth = dict(g.metadata.get("loihi.latency", {}))
    lat = max(depth.values(), default=0)
    d = depth.get(out, lat)
    readout = dict(g.metadata.get("loihi.readout", {})).get(out)
    probe = f"{readout['node']}.v" if readout else f"{out}.s"
    parts = []
    for start in range(0, len(x), CHUNK):
        xs = x[start:start + CHUNK]
        stim = encode_inputs(g, {g.inputs[0]: np.broadcast_to(xs, (steps, *xs.shape))})
        res = simulate(program, stim, steps + lat, [probe])
        arr = res.probes[probe] if readout else res.outputs[out]
        arr = np.asarray(arr, np.float64)[d:d + steps] * (readout["scale"] if readout else 1.0)
        parts.append(np.cumsum(arr.reshape(steps, len(xs), -1), axis=0))
    return np.concatenate(parts, axis=1)


def _accuracy(scores: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean(np.argmax(scores.reshape(len(y), -1), axis=1) == y))


def measure_conversion(program: Any, snn: Graph, x: np.ndarray, y: np.ndarray,
                       ann: Graph | None = None, steps: tuple[int, ...] = STEPS,
                       source: str | None = None, methods: tuple[str, ...] = ("plain",),
                       tau: int = 8) -> ConversionRun:
    """Run what the module docstring says; ``snn`` is the float SNN, ``ann`` the float ANN."""
    from ..convert.chip import scores
    from ..convert.runtime import ann_output, run
    from ..passes.qinputs import encode_inputs
    from ..simulators.event import simulate

    if len(snn.inputs) != 1 or len(snn.outputs) != 1:
        raise SnncError("accuracy versus time steps needs a model with one input and one output")
    t_max = max(steps)
    notes = []
    ann_acc = None
    if ann is not None:
        ann_acc = _accuracy(ann_output(ann, x), y)
    else:
        notes.append("no float ANN given (--ann, or ann.snnc next to the model): the ANN "
                     "accuracy is left out")
    cum = run(snn, x, t_max, "plain")
    snn_acc = {t: _accuracy(cum[t - 1], y) for t in steps}
    chip = _chip_scores(program, x, t_max)
    chip_acc = {t: _accuracy(chip[t - 1], y) for t in steps}
    g = program.graph
    snn_m: dict[str, dict[int, float]] = {}
    chip_m: dict[str, dict[int, float]] = {}
    for m in methods:
        if m == "plain":
            continue
        cum = run(snn, x, t_max, m, tau)
        snn_m[m] = {t: _accuracy(cum[t - 1], y) for t in steps}
        chip_x = encode_inputs(g, {g.inputs[0]: x[None]})[g.inputs[0]][0]
        cum = np.concatenate([scores(g, chip_x[i:i + CHUNK], t_max, m, tau)
                              for i in range(0, len(x), CHUNK)], axis=1)
        chip_m[m] = {t: _accuracy(cum[t - 1], y) for t in steps}
    lat = max(dict(g.metadata.get("loihi.latency", {})).values(), default=0)
    xe = x[:ENERGY_SAMPLES]
    counters = {}
    for t in steps:
        stim = encode_inputs(g, {g.inputs[0]: np.broadcast_to(xe, (t, *xe.shape))})
        counters[t] = simulate(program, stim, t + lat).counters
    return ConversionRun(tuple(steps), len(y), source, ann_acc, snn_acc, chip_acc, counters,
                         len(xe), tuple(notes), snn_m, chip_m, tau)


def default_ann(model_path: Path | None) -> Path | None:
    """``ann.snnc`` beside a converted ``snn.snnc`` (what ``snnc convert`` writes), if any."""
    if model_path is None:
        return None
    cand = Path(model_path).with_name("ann.snnc")
    return cand if cand.is_file() and cand != Path(model_path) else None
