"""``snnc inspect file.nir`` without ``--dt``: NIR's own node parameters, as the file states them.

A NIR file from another tool describes continuous-time neurons (tau, r, v_leak, v_threshold,
v_reset); snnc's IR needs the time step to discretise them, so ``compile`` asks for ``--dt``.
Inspecting needs none: this view prints each node's NIR type, shape and parameters (uniform
arrays as one number, others as min..max), then the edges. Files snnc wrote record their dt and
are shown as graphs (``show_nir`` returns False for them).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table

SKIP = ("input_type", "output_type", "metadata")


def show_nir(path: Path, console: Console) -> bool:
    """Print the NIR view of ``path``; False when snnc can read it as a graph without a dt."""
    from ..ir.nir_io import read_nir_graph, reset_note
    from ..ir.nir_nodes import DT_TYPES

    g = read_nir_graph(path)
    if "snnc.version" in dict(getattr(g, "metadata", None) or {}):
        return False
    rows = list(_rows(g, ""))
    if not any(kind in DT_TYPES for _, kind, _, _ in rows):
        return False
    console.print(f"[bold]{path}[/bold]: NIR graph, {len(rows)} nodes; continuous-time "
                  "parameters as the file states them (compile needs --dt, the time one step "
                  "stands for)", markup=True)
    table = Table(show_edge=False, header_style="bold")
    for col in ("node", "NIR type", "shape", "parameters"):
        table.add_column(col, overflow="fold")
    for name, kind, shape, params in rows:
        table.add_row(name, kind, shape, params)
    console.print(table)
    console.print("[bold]edges[/bold]")
    for a, b in _edges(g, ""):
        console.print(f"  {a} -> {b}", markup=False)
    note = reset_note(g, path.name)
    if note:
        from click import echo

        echo(f"note: {note}", err=True)
    return True


def _rows(g: Any, prefix: str) -> Any:
    for name, node in g.nodes.items():
        kind = type(node).__name__
        if kind == "NIRGraph":
            yield prefix + name, kind, "", ""
            yield from _rows(node, f"{prefix}{name}.")
            continue
        shape = _shape_of(node)
        params = []
        for key, value in vars(node).items():
            if key in SKIP or key.startswith("_") or value is None:
                continue
            params.append(f"{key}={_compact(value)}")
        yield prefix + name, kind, shape, " ".join(params)


def _edges(g: Any, prefix: str) -> Any:
    for a, b in g.edges:
        yield prefix + str(a), prefix + str(b)
    for name, node in g.nodes.items():
        if type(node).__name__ == "NIRGraph":
            yield from _edges(node, f"{prefix}{name}.")


def _shape_of(node: Any) -> str:
    for attr in ("output_type", "input_type"):
        types = getattr(node, attr, None)
        if isinstance(types, dict) and types:
            shape = next(iter(types.values()))
            if shape is not None and np.size(shape):
                dims = [str(int(d)) for d in np.asarray(shape).ravel()]
                return "(" + ",".join(dims) + ("," if len(dims) == 1 else "") + ")"
    return ""


def _compact(value: Any) -> str:
    if isinstance(value, (str, bytes, bool)):
        return str(value)
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return str(value)
    if arr.size == 0:
        return "[]"
    lo, hi = arr.min(), arr.max()
    text = f"{lo:.4g}" if lo == hi else f"{lo:.4g}..{hi:.4g}"
    return text if arr.size == 1 else f"{text} {tuple(arr.shape)}"
