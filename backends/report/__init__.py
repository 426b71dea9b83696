"""Energy and latency reports: ``report.json`` (docs/report-schema.md), ``report.html`` and the
terminal summary, from a compiled program and what the event simulator counted.

``build_report`` is the pure ``report`` stage of ``snnc.api.compile`` (program + counters +
fidelity -> document); ``write_json`` / ``write_html`` write a document (``CompileResult.save``),
``write_report`` builds and writes one; ``snnc report OUT_DIR`` reads the JSON back
(``load_report``) to print, redraw or compare it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ...io import atomic_path
from .activity import report_probes
from .build import build_report
from .schema import VERSION, dump, load_report

__all__ = ["VERSION", "build_report", "load_report", "report_probes", "write_html",
           "write_json", "write_report"]


def write_html(doc: dict[str, Any], path: str | Path) -> Path:
    """Write the self-contained ``report.html`` of a report document."""
    from .html import render_html

    dest = Path(path)
    with atomic_path(dest) as tmp:
        tmp.write_text(render_html(doc), encoding="utf-8")
    return dest


def write_json(doc: dict[str, Any], path: str | Path) -> Path:
    """Write a report document as ``report.json``."""
    dest = Path(path)
    with atomic_path(dest) as tmp, tmp.open("w", encoding="utf-8") as fp:
        dump(doc, fp)
    return dest


def write_report(out_dir: str | Path, program_or_graph: Any, sim_result: Any = None,
                 float_graph: Any = None, fidelity: Any = None, input_kind: str | None = None,
                 *, html: bool = True, **options: Any) -> Path:
    """Build the report (``build_report``; ``options`` go to it) and write ``out_dir/report.json``
    and, with ``html``, ``out_dir/report.html``. Returns the JSON path."""
    doc = build_report(program_or_graph, sim_result, float_graph, fidelity, input_kind, **options)
    out = Path(out_dir)
    dest = write_json(doc, out / "report.json")
    if html:
        write_html(doc, out / "report.html")
    return dest
