"""Stage 2, ``optimize``: the pass pipeline and the fidelity report -> ``Optimized``.

The target's pipeline (or ``pipeline``) runs on the loaded graph; when it quantizes and lowers,
the float graph before the first non-exact pass is compared with the lowered graph on the
calibration input (``passes/fidelity.py``). An already-lowered graph (a lava-dl ``.net``) runs
no passes.

Calibration input: ``calibration`` (time-major array or dict, or a ``.npy``/``.npz`` file with
time LAST, as all user files), else ``<model>.input.npy`` next to the model file (or an
``example_input.npy`` / ``X.npy`` there whose shape fits the model), else a
synthetic uniform [0, 1) input of ``steps`` x 8 samples (noted in the result).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import FormatError
from ..io import to_time_major
from ..ir import Graph
from ..passes.fidelity import fidelity_report, is_lowered, measured_rates
from ..passes.instruments import DifferentialCheck, DumpIR, Progress, Timing
from ..passes.manager import PassContext, PassManager, PipelineResult
from ..passes.pipeline import parse_pipeline

DEFAULT_STEPS = 16
SYNTHETIC_BATCH = 8
EXAMPLE_NAMES = ("example_input.npy", "X.npy")
SYNTHETIC = "synthetic uniform [0, 1), seed 0; pass --calibration for a faithful report"


@dataclass(frozen=True)
class Optimized:
    """The graphs the pipeline produced, its per-pass reports and the fidelity report.

    ``float_graph``: the graph before the first non-exact pass; ``lowered``: the last graph when
    it holds ``loihi.*`` ops, else None; ``calibration``: where the calibration input came from
    (a file path, ``"given"`` or the synthetic note).
    """

    pipeline: str
    input_graph: Graph
    float_graph: Graph
    graph: Graph
    lowered: Graph | None
    reports: tuple[dict[str, Any], ...]
    timings: tuple[dict[str, Any], ...]
    fidelity: dict[str, Any] | None
    calibration: str
    checks: tuple[dict[str, Any], ...] = ()
    rates: dict[str, float] | None = None  # measured on an already-lowered graph (no fidelity)

    @property
    def synthetic(self) -> bool:
        return self.calibration.startswith("synthetic")

    def layer_rates(self) -> dict[str, float] | None:
        """Spikes per neuron per step of each chip layer and input, measured on the calibration
        input by the fidelity report (the lowered graph's run); None when the input is the
        synthetic assumption or nothing was measured. The balanced mapping weighs per-core work
        with these (``balance.balance``)."""
        if self.synthetic:
            return None
        if not self.fidelity:
            return dict(self.rates) if self.rates else None
        out = {r["layer"]: float(r["fixed_rate"]) for r in self.fidelity.get("layers", ())
               if "fixed_rate" in r}
        out.update({k: float(v) for k, v in dict(self.fidelity.get("input_rates", {})).items()})
        return out or None


def load_calibration(graph: Graph, calibration: Any, model_path: Path | None,
                     steps: int | None) -> tuple[dict[str, np.ndarray], str]:
    """Time-major calibration stimuli per input node, and where they came from."""
    if calibration is None and model_path is not None:
        calibration = example_beside(graph, model_path)
    if isinstance(calibration, str | Path):
        return read_stimulus(graph, Path(calibration), "calibration"), str(calibration)
    if isinstance(calibration, Mapping):
        return {k: np.asarray(v, np.float64) for k, v in calibration.items()}, "given"
    if calibration is not None:
        return {graph.inputs[0]: np.asarray(calibration, np.float64)}, "given"
    rng = np.random.default_rng(0)
    t = steps or DEFAULT_STEPS
    out = {n: rng.random((t, SYNTHETIC_BATCH, *graph.nodes[n].out_shape)) for n in graph.inputs}
    return out, SYNTHETIC


def example_beside(graph: Graph, model_path: Path) -> Path | None:
    """An example input saved beside the model: ``<model>.input.npy``, else
    ``example_input.npy`` or ``X.npy`` when its shape fits the model's input."""
    sibling = model_path.with_name(model_path.stem + ".input.npy")
    if sibling.is_file():
        return sibling
    if len(graph.inputs) != 1:
        return None
    for name in EXAMPLE_NAMES:
        p = model_path.with_name(name)
        if p.is_file():
            try:
                read_stimulus(graph, p, "example input")
            except FormatError:
                continue
            return p
    return None


def input_assumption(graph: Graph, calibration: Any, model_path: Path | None) -> str:
    """One line saying what compile takes the input to be, and from what."""
    from ..passes.qinputs import choose_encodings

    calib, source = load_calibration(graph, calibration, model_path, None)
    if source == SYNTHETIC:
        return ("no calibration input (--calibration, or <model>.input.npy / X.npy beside the "
                "model): assuming analog (direct-encoded) input in [0, 1), sent as graded "
                "payloads; if the model takes rate-coded (binary) spikes, pass --calibration "
                "X.npy with them (Loihi 1 takes only binary spikes)")
    enc = choose_encodings(graph, calib, "auto", 8, 1.0)
    kinds = {"spikes": "binary (rate-coded) spikes, sent as spikes",
             "integer": "integer counts, sent as graded payloads",
             "analog": "analog values, sent as graded payloads"}
    what = "; ".join(f"{n}: {kinds.get(e.kind, e.kind)}" if len(enc) > 1 else kinds.get(
        e.kind, e.kind) for n, e in enc.items())
    return f"input taken to be {what} (detected from {source})"


def read_stimulus(graph: Graph, path: Path, what: str) -> dict[str, np.ndarray]:
    """A user's .npy (one input, time last) or .npz (one array per input node), time-major."""
    if not path.is_file():
        raise FormatError(f"{path}: {what} file not found")
    try:
        data = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise FormatError(f"{path}: not a readable .npy/.npz file ({exc})") from None
    arrays = dict(data) if hasattr(data, "files") else {graph.inputs[0]: data}
    out = {}
    for name in graph.inputs:
        if name not in arrays:
            raise FormatError(f"{path}: no array for input node {name!r} (arrays: "
                              f"{sorted(arrays)})")
        out[name] = to_time_major(arrays[name], graph.nodes[name].out_shape).astype(np.float64)
    return out


def optimize(graph: Graph, pipeline: str, calibration: Any = None, steps: int | None = None,
             dump_ir: str | Path | None = None, stop_after: str | None = None,
             model_path: Path | None = None, echo: Callable[[str], None] | None = None,
             check: bool = False, explicit: bool = False,
             programmable: bool = False) -> Optimized:
    """Run ``pipeline`` on ``graph`` and build the fidelity report; ``check`` runs the reference
    before and after every pass (``instruments.DifferentialCheck``). ``explicit``: the user
    chose the pipeline, so it runs even on an already-lowered graph. ``programmable``: the chip
    runs Loihi 2's programmable neurons ('>=' and subtract reset native)."""
    calib, source = load_calibration(graph, calibration, model_path, steps)
    passes = parse_pipeline(pipeline)
    if not explicit and is_lowered(graph):  # e.g. a lava-dl .net file: map it as it is
        passes = []
        if echo is not None:
            echo("the model is already lowered (loihi.* ops): no passes to run")
    timing = Timing()
    diff = DifferentialCheck(calib, steps) if check else None
    ins: list[Any] = [timing, *([diff] if diff else [])]
    if dump_ir is not None:
        ins.append(DumpIR(dump_ir))
    if echo is not None:
        ins.append(Progress(echo))
    ctx = PassContext(calibration=calib, steps=steps, progress=echo,
                      programmable_neurons=programmable)
    res: PipelineResult = PassManager(passes, ins).run(graph, ctx, stop_after)
    final = res.graph
    lowered = final if is_lowered(final) else None
    float_graph = res.last_exact_graph()
    fidelity = None
    if lowered is not None and not is_lowered(float_graph):
        if echo is not None:
            echo("fidelity report: float vs fixed point on the reference simulator ...")
        fidelity = {"calibration": source, **fidelity_report(float_graph, lowered, calib, steps)}
    rates = None
    if lowered is not None and fidelity is None and calib and not source.startswith("synthetic"):
        rates = measured_rates(lowered, calib, steps)  # an already-lowered model (netx)
    return Optimized(",".join(p.spec() for p in passes), graph, float_graph, final, lowered,
                     tuple(ctx.reports), tuple(timing.rows), fidelity, source,
                     tuple(diff.results) if diff else (), rates)
