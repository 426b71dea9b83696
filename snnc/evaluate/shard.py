"""One shard of an evaluation: a pure function of (program files, samples) -> ``EvalCounts``.

``ProgramFiles`` carries the compiled program and the float graph as file bytes, so a worker
(in this process, another process, or another machine of a Ray cluster) needs nothing but
them. A worker loads each distinct program once (keyed by its content hash).

Per sample: the chip prediction is the argmax over classes of the output summed over the chip
run (T + L steps, L the program's pipeline latency, so every input step reaches the output);
readout layers (``loihi.readout``) are read through their scaled ``v``. The float prediction is
the same rule on the float graph (``graph.float.snnc``) run by the reference simulator for T
steps. Ties go to the lowest class index in both. Energy and latency per sample come from the
event simulator's per-sample totals under the chip's default energy model (``costs.py``).
Plastic synapses are evaluated frozen (``LearningOptions(learn=False)``), as a deployed,
trained program.
"""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .counts import EvalCounts, merge_all

_LOADED: dict[str, Any] = {}  # content hash -> loaded object, per worker process


@dataclass(frozen=True)
class ProgramFiles:
    program: bytes  # program.h5
    float_graph: bytes | None  # graph.float.snnc, or None: no float comparison
    name: str = ""

    @classmethod
    def from_dir(cls, out_dir: str | Path) -> ProgramFiles:
        from ..backends.loihi.program_io import program_file

        d = Path(out_dir)
        prog = program_file(d)
        fg = d / "graph.float.snnc" if d.is_dir() else None
        return cls(prog.read_bytes(), fg.read_bytes() if fg and fg.is_file() else None, str(d))


def _load(data: bytes, kind: str) -> Any:
    key = f"{kind}:{hashlib.sha256(data).hexdigest()}"
    if key not in _LOADED:
        with tempfile.TemporaryDirectory(prefix="snnc-eval-") as tmp:
            path = Path(tmp) / ("program.h5" if kind == "program" else "graph.snnc")
            path.write_bytes(data)
            if kind == "program":
                from ..backends.loihi.program import ChipProgram

                _LOADED[key] = ChipProgram.load(path)
            else:
                from ..ir.serialize import read_graph

                _LOADED[key] = read_graph(path)
    return _LOADED[key]


def latency_steps(graph: Any) -> int:
    return max(dict(graph.metadata.get("loihi.latency", {})).values(), default=0)


def _classes(values: np.ndarray) -> np.ndarray:
    return values.sum(0).reshape(values.shape[1], -1).argmax(1)


def chip_scores(program: Any, stim: np.ndarray, steps: int) -> tuple[np.ndarray, Any]:
    """(output summed-over-time per sample and class, counters) of one batched chip run."""
    from ..passes.qinputs import encode_inputs
    from ..simulators.event import LearningOptions, simulate

    g = program.graph
    chip_in = encode_inputs(g, {g.inputs[0]: stim})
    out = g.outputs[0]
    readout = dict(g.metadata.get("loihi.readout", {})).get(out)
    probes = [f"{readout['node']}.v"] if readout else []
    res = simulate(program, chip_in, steps, probes, learning=LearningOptions(learn=False))
    vals = res.probes[probes[0]] * float(readout["scale"]) if readout else res.outputs[out]
    return vals, res.counters


def chip_and_lowered(program: Any, x: np.ndarray, t_in: int
                     ) -> tuple[np.ndarray, np.ndarray, int]:
    """(chip output, snnc's reference simulation of the lowered program, output latency) for
    time-major float input ``x`` (T, B, ...): both run ``t_in`` + the deepest latency steps, and
    both are cut to the ``t_in`` steps the output answers the input in, (t_in, B, classes)."""
    from ..passes.qinputs import encode_inputs
    from ..simulators.reference import simulate as reference

    low = program.graph
    d_out = low.metadata["loihi.latency"][low.outputs[0]]
    steps = t_in + max(low.metadata["loihi.latency"].values())
    chip_vals, _ = chip_scores(program, x, steps)
    chip = chip_vals.reshape(steps, x.shape[1], -1)[d_out:d_out + t_in]
    readout = low.metadata["loihi.readout"][low.outputs[0]]
    probe = f"{readout['node']}.v"
    lres = reference(low, encode_inputs(low, {low.inputs[0]: x}), steps=steps, probes=[probe])
    fixed = (lres.probes[probe] * float(readout["scale"])).reshape(
        steps, x.shape[1], -1)[d_out:d_out + t_in]
    return chip, fixed, d_out


def run_shard(files: ProgramFiles, x: np.ndarray, y: np.ndarray, index: np.ndarray,
              batch: int = 64) -> EvalCounts:
    """Evaluate samples ``x`` (N, T, *shape) with labels ``y`` in batches of ``batch``."""
    from ..simulators.reference import simulate as reference
    from .costs import sample_costs

    program = _load(files.program, "program")
    fgraph = _load(files.float_graph, "graph") if files.float_graph is not None else None
    n_classes = int(np.prod(program.graph.nodes[program.graph.outputs[0]].out_shape))
    T = x.shape[1]
    steps = T + latency_steps(program.graph)
    parts = []
    for s in range(0, len(y), batch):
        xb = np.moveaxis(x[s:s + batch], 0, 1).astype(np.float64)  # (T, B, *shape)
        vals, counters = chip_scores(program, xb, steps)
        pred = _classes(vals)
        fpred = _classes(reference(fgraph, xb, T).output) if fgraph is not None else pred
        cost = sample_costs(program, counters)
        parts.append(EvalCounts.from_samples(
            n_classes, index=index[s:s + batch], label=y[s:s + batch], pred=pred,
            float_pred=fpred, **cost))
    return merge_all(parts)
