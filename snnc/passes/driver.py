"""The compile driver behind ``snnc.api.compile`` and ``snnc compile``.

load -> pass pipeline (the target's, or ``pipeline``) -> fidelity report (float graph before the
first non-exact pass vs the lowered graph, on the calibration input) -> target artifacts.
``CompileResult.save(out)`` writes, atomically (``snnc.io.atomic_dir``):

- ``graph.float.snnc``: the graph before quantization; ``graph.lowered.snnc``: after lowering
  (when the pipeline lowers); ``graph.snnc``: the last graph if it is neither;
- ``fidelity.json``: the report of ``passes/fidelity.py``; ``compile.json``: target, pipeline,
  per-pass reports and timings;
- the target's artifacts (``targets.emit``: ``program.h5``, ``model.net``, ``model.nir``).

Calibration input: ``calibration`` (time-major array or dict, or a ``.npy``/``.npz`` file with
time LAST, as all user files), else ``<model>.input.npy`` next to the model file, else a
synthetic uniform [0, 1) input of ``steps`` x 8 samples (noted in the report).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import FormatError, ResourceError
from ..io import atomic_dir, to_time_major
from ..ir import Graph
from .fidelity import fidelity_report, is_lowered
from .instruments import DifferentialCheck, DumpIR, Progress, Timing
from .manager import PassContext, PassManager, PipelineResult
from .pipeline import parse_pipeline

DEFAULT_STEPS = 16
SYNTHETIC_BATCH = 8


@dataclass
class CompileResult:
    """What ``compile`` produced; ``save(out)`` writes it (see the module docstring)."""

    target: Any
    pipeline: str
    input_graph: Graph
    float_graph: Graph
    graph: Graph
    lowered: Graph | None
    reports: list[dict[str, Any]]
    timings: list[dict[str, Any]]
    fidelity: dict[str, Any] | None = None
    calibration: str = ""
    program: Any = None
    artifacts: dict[str, Any] = field(default_factory=dict)
    checks: list[dict[str, Any]] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {"target": self.target.name, "pipeline": self.pipeline,
                "calibration": self.calibration, "passes": self.timings,
                "reports": self.reports, "artifacts": self.artifacts, "checks": self.checks}

    def save(self, out: str | Path, chip: str | None = None, dt: float | None = None) -> Path:
        from ..ir.serialize import write_graph

        out = Path(out)
        with atomic_dir(out) as tmp:
            write_graph(self.float_graph, tmp / "graph.float.snnc")
            if self.lowered is not None:
                write_graph(self.lowered, tmp / "graph.lowered.snnc")
            elif self.graph is not self.float_graph:
                write_graph(self.graph, tmp / "graph.snnc")
            if self.fidelity is not None:
                (tmp / "fidelity.json").write_text(_json(self.fidelity))
            if self.lowered is not None or not self.target.lowers:
                self.artifacts = self._emit(tmp, chip, dt)
            if self.program is not None:  # energy/latency report (backends/report/compiled.py)
                from ..backends.report.compiled import report_compiled

                report_compiled(self, tmp)
            (tmp / "compile.json").write_text(_json(self.summary()))
        return out


    def _emit(self, tmp: Path, chip: str | None, dt: float | None) -> dict[str, Any]:
        from ..targets import emit

        try:
            return emit(self.target, self, tmp, chip, dt)
        except ResourceError as exc:
            if not str(self.calibration).startswith("synthetic") or "payload" not in str(exc):
                raise
            raise ResourceError(f"{exc} No --calibration input was given, so snnc assumed analog "
                                "input; if the model takes spikes, pass --calibration X.npy with "
                                "its binary input.") from None


def _json(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=True, default=_plain) + "\n"


def _plain(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return str(value)


def load_calibration(graph: Graph, calibration: Any, model_path: Path | None,
                     steps: int | None) -> tuple[dict[str, np.ndarray], str]:
    """Time-major calibration stimuli per input node, and where they came from."""
    if calibration is None and model_path is not None:
        sibling = model_path.with_name(model_path.stem + ".input.npy")
        if sibling.is_file():
            calibration = sibling
    if isinstance(calibration, (str, Path)):
        return _read_file(graph, Path(calibration)), str(calibration)
    if isinstance(calibration, Mapping):
        return {k: np.asarray(v, np.float64) for k, v in calibration.items()}, "given"
    if calibration is not None:
        return {graph.inputs[0]: np.asarray(calibration, np.float64)}, "given"
    rng = np.random.default_rng(0)
    t = steps or DEFAULT_STEPS
    out = {n: rng.random((t, SYNTHETIC_BATCH, *graph.nodes[n].out_shape)) for n in graph.inputs}
    return out, "synthetic uniform [0, 1), seed 0; pass --calibration for a faithful report"


def _read_file(graph: Graph, path: Path) -> dict[str, np.ndarray]:
    if not path.is_file():
        raise FormatError(f"{path}: calibration file not found")
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


def compile_graph(graph: Graph, target: Any, pipeline: str | None = None,
                  calibration: Any = None, steps: int | None = None,
                  dump_ir: str | Path | None = None, stop_after: str | None = None,
                  model_path: Path | None = None, echo: Callable[[str], None] | None = None,
                  check: bool = False, programmable_neurons: bool = False) -> CompileResult:
    """Run ``target``'s pipeline (or ``pipeline``) on ``graph`` and build the fidelity report;
    ``check`` runs the reference before and after every pass (``instruments.DifferentialCheck``);
    ``programmable_neurons``: the target chip runs Loihi 2's programmable neurons.
    """
    calib, source = load_calibration(graph, calibration, model_path, steps)
    passes = parse_pipeline(pipeline or target.pipeline)
    if pipeline is None and is_lowered(graph):  # e.g. a lava-dl .net file: map it as it is
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
                      programmable_neurons=programmable_neurons)
    res: PipelineResult = PassManager(passes, ins).run(graph, ctx, stop_after)
    final = res.graph
    lowered = final if is_lowered(final) else None
    float_graph = res.last_exact_graph()
    result = CompileResult(target, ",".join(p.spec() for p in passes), graph, float_graph,
                           final, lowered, ctx.reports, timing.rows, calibration=source,
                           checks=diff.results if diff else [])
    if lowered is not None and not is_lowered(float_graph):
        if echo is not None:
            echo("fidelity report: float vs fixed point on the reference simulator ...")
        result.fidelity = {"calibration": source,
                           **fidelity_report(float_graph, lowered, calib, steps)}
    return result
