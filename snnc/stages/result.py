"""``CompileResult``: the frozen values of every stage, and ``save`` (which only writes them).

``save(out)`` writes, atomically (``snnc.io.atomic_dir``):

- ``graph.float.snnc``: the graph before quantization; ``graph.lowered.snnc``: after lowering
  (when the pipeline lowers); ``graph.snnc``: the last graph if it is neither;
- ``fidelity.json``: the report of ``passes/fidelity.py``; ``compile.json``: target, pipeline,
  per-pass reports and timings;
- the target backend's files (``Backend.write``: ``program.h5``, ``model.net``, ``model.nir``);
- ``report.json`` and ``report.html`` when the target maps onto a chip (the ``report`` stage).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..io import atomic_dir
from ..ir import Graph
from .measure import Measurement
from .optimize import Optimized


@dataclass(frozen=True)
class CompileResult:
    """load -> optimize -> map -> measure -> report, as values (``snnc.api.compile``)."""

    target: Any  # snnc.targets.Target
    optimized: Optimized
    program: Any = None  # ChipProgram, when the target maps onto a chip
    measurement: Measurement | None = None
    report: dict[str, Any] | None = None  # the report.json document
    dt: float | None = None  # for file formats that need one (NIR) when the graph has none

    # -- the optimize stage's values, by their old names --
    @property
    def pipeline(self) -> str:
        return self.optimized.pipeline

    @property
    def input_graph(self) -> Graph:
        return self.optimized.input_graph

    @property
    def float_graph(self) -> Graph:
        return self.optimized.float_graph

    @property
    def graph(self) -> Graph:
        return self.optimized.graph

    @property
    def lowered(self) -> Graph | None:
        return self.optimized.lowered

    @property
    def fidelity(self) -> dict[str, Any] | None:
        return self.optimized.fidelity

    @property
    def calibration(self) -> str:
        return self.optimized.calibration

    @property
    def reports(self) -> list[dict[str, Any]]:
        return list(self.optimized.reports)

    @property
    def timings(self) -> list[dict[str, Any]]:
        return list(self.optimized.timings)

    @property
    def checks(self) -> list[dict[str, Any]]:
        return list(self.optimized.checks)

    @property
    def writes_artifacts(self) -> bool:
        """False when the pipeline stopped before the lowering its target needs."""
        return self.lowered is not None or not self.target.lowers

    @property
    def artifacts(self) -> dict[str, Any]:
        """Mapping figures (chip, cores, chips) when there is a program."""
        p = self.program
        return {} if p is None else {"chip": p.chip.name, "cores": p.n_cores, "chips": p.n_chips}

    def summary(self, files: list[str] | None = None) -> dict[str, Any]:
        art = {**({"files": files} if files is not None else {}), **self.artifacts}
        return {"target": self.target.name, "pipeline": self.pipeline,
                "calibration": self.calibration, "passes": self.timings,
                "reports": self.reports, "artifacts": art, "checks": self.checks}

    def save(self, out: str | Path, *, backend: Any = None, html: bool = True,
             inputs: tuple[Path, ...] = ()) -> Path:
        """Write the result into directory ``out`` (see the module docstring); nothing runs."""
        from ..backends.report import write_html, write_json
        from ..ir.serialize import write_graph

        out = Path(out)
        with atomic_dir(out, inputs=inputs) as tmp:
            write_graph(self.float_graph, tmp / "graph.float.snnc")
            if self.lowered is not None:
                write_graph(self.lowered, tmp / "graph.lowered.snnc")
            elif self.graph is not self.float_graph:
                write_graph(self.graph, tmp / "graph.snnc")
            if self.fidelity is not None:
                (tmp / "fidelity.json").write_text(_json(self.fidelity))
            files = None
            if self.writes_artifacts:
                files = _backend(self, backend).write(self, tmp)
            if self.report is not None:
                write_json(self.report, tmp / "report.json")
                if html:
                    write_html(self.report, tmp / "report.html")
            (tmp / "compile.json").write_text(_json(self.summary(files)))
        return out


def _backend(result: CompileResult, backend: Any) -> Any:
    if backend is not None:
        return backend
    from ..registry import default_registry

    return default_registry().backend(result.target.backend)


def _json(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=True, default=_plain) + "\n"


def _plain(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return str(value)
