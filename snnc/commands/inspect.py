"""``snnc inspect FILE``: a table of a graph's layers, shapes, neuron parameters and weights.

FILE is any graph file ``snnc.api.load`` reads (suffix dispatch: .snnc, .nir, ...). A directory
goes to ``show_directory``, the extension point for compiled programs: a viewer registered in
``DIRECTORY_VIEWS`` (e.g. one that shows the cores per layer of ``program.h5``) handles it;
otherwise the ``*.snnc`` graphs inside are shown.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click
import numpy as np
from rich.console import Console
from rich.table import Table

from ..errors import FormatError
from ..ir import CodebookTensor, Graph, Node, QTensor, as_float, weight_shape
from .load_options import load_options_from, loading_options, print_notes


#: Directory viewers, tried in order: ``view(path, console) -> bool`` (True when handled).
def _program_view(path: Path, console: Console) -> bool:
    """A compile output directory: show its chip program (cores per layer, utilisation)."""
    if not (path / "program.h5").exists():
        return False
    from ..backends.loihi.describe import describe_program
    from ..backends.loihi.packing import packing
    from ..backends.loihi.program import ChipProgram
    from ..backends.report.energy import cost_line, models_for_chip

    program = ChipProgram.load(path)
    costs = cost_line(program.chip.name, models_for_chip(program.chip)[0])
    console.print(describe_program(program, packing(program), costs))
    return True


DIRECTORY_VIEWS: list[Callable[[Path, Console], bool]] = [_program_view]


@click.command("inspect")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--text", "as_text", is_flag=True,
              help="Print the graph in snnc's text IR (lossless, parseable) instead of a table.")
@loading_options()
def command(file: Path, as_text: bool, dt: str | None, reset_interval: int | None,
            **kw: Any) -> None:
    """Print the layers, shapes and parameters of a graph file."""
    from ..api import load
    from ..events.inputs import parse_duration

    console = make_console()
    dt_s = parse_duration(dt)
    options = load_options_from(file, kw, dt_s=dt_s, reset_interval=reset_interval)
    if file.is_dir():
        show_directory(file, console)
        return
    if file.suffix.lower() == ".nir" and dt_s is None and not as_text:
        from .nir_view import show_nir

        if show_nir(file, console):  # NIR's own parameters: no dt needed to show them
            return
    graph = load(file, **options)
    print_notes(graph)
    if as_text:
        from ..ir.text import print_graph

        click.echo(print_graph(graph), nl=False)
        return
    show_graph(graph, console, str(file))


def make_console() -> Console:
    """A console that does not squeeze tables when output goes to a pipe or file."""
    return Console(highlight=False, width=None if sys.stdout.isatty() else 200)


def show_directory(path: Path, console: Console) -> None:
    """Extension point for compiled program directories (see the module docstring)."""
    for view in DIRECTORY_VIEWS:
        if view(path, console):
            return
    graphs = sorted(path.glob("*.snnc"))
    if not graphs:
        raise FormatError(f"{path}: is a directory without a compiled program or .snnc graph "
                          "that snnc can show")
    from ..ir.serialize import read_graph

    for p in graphs:
        show_graph(read_graph(p), console, str(p))


def show_graph(graph: Graph, console: Console, title: str) -> None:
    """The header, the node table and the edges of ``graph``."""
    console.print(f"[bold]{title}[/bold]: {len(graph.nodes)} nodes, {len(graph.edges)} edges, "
                  f"dt={graph.dt}, inputs {graph.inputs}, outputs {graph.outputs}")
    table = Table(show_edge=False, header_style="bold")
    for col in ("node", "op", "in -> out", "dynamics", "weights", "params", "sparsity"):
        table.add_column(col, justify="right" if col in ("params", "sparsity") else "left",
                         overflow="fold")
    for row in node_rows(graph):
        table.add_row(*row)
    console.print(table)
    console.print("[bold]edges[/bold]")
    for line in edge_lines(graph):
        console.print(f"  {line}", markup=False)


def node_rows(graph: Graph, prefix: str = "") -> Iterator[tuple[str, ...]]:
    """One row per node, nested subgraphs expanded below their node as ``outer.inner``."""
    for name, node in graph.nodes.items():
        full = prefix + name
        w = getattr(node, "weight", None)
        has_w = w is not None and len(weight_shape(w)) >= 2
        yield (full, node.op, f"{_shape(node.in_shape)} -> {_shape(node.out_shape)}",
               dynamics(node), weight_kind(node) if has_w else "",
               str(int(np.prod(weight_shape(w)))) if has_w else "",
               f"{sparsity(w):.1%}" if has_w else "")
        if node.op == "graph":
            yield from node_rows(node.graph, full + ".")  # type: ignore[attr-defined]


def edge_lines(graph: Graph) -> list[str]:
    """``a -> b, c`` per source node, in node order."""
    out = []
    for name in graph.nodes:
        succ = graph.successors(name)
        if succ:
            out.append(f"{name} -> {', '.join(succ)}")
    return out


def _shape(shape: tuple[int, ...]) -> str:
    return "(" + ",".join(str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def compact(value: Any) -> str:
    """A parameter as one number when uniform, else ``min..max``."""
    arr = np.asarray(value)
    if arr.size == 0:
        return "-"
    lo, hi = arr.min(), arr.max()
    return f"{lo:.4g}" if lo == hi else f"{lo:.4g}..{hi:.4g}"


def dynamics(node: Node) -> str:
    """Compact neuron / delay / threshold parameters."""
    p = node.params()
    if node.op == "loihi.lif":
        parts = [f"du={compact(p['du'])}", f"dv={compact(p['dv'])}", f"vth={compact(p['vth'])}"]
        if np.any(p["bias_mant"]):
            parts.append(f"bias={compact(p['bias_mant'])}<<{compact(p['bias_exp'])}")
        return " ".join(parts)
    parts = [f"{short}={compact(p[key])}" for key, short in
             (("decay_v", "decay"), ("decay_i", "decay_i"), ("threshold", "thr"),
              ("delay", "delay")) if key in p]
    if "reset" in p:
        parts.append({"hard": "reset", "subtract": "reset-sub", "none": "no-reset"}[p["reset"]])
    if "comparator" in p:
        parts.append(p["comparator"])
    if p.get("graded"):
        parts.append("graded")
    if node.op == "loihi.dense" and p.get("delays") is not None:
        parts.append(f"delays={compact(p['delays'])}")
    return " ".join(parts)


def weight_kind(node: Node) -> str:
    """Bit width of the weights: QTensor bits, loihi bits, or distinct float values."""
    w = node.weight  # type: ignore[attr-defined]
    if isinstance(w, QTensor):
        kind = "binary" if w.kind == "binary" else f"int{w.bits}"
        return kind + (" per-ch" if w.per_channel else "")
    if isinstance(w, CodebookTensor):
        return f"codebook K={len(w.codebook)}"
    if np.asarray(w).dtype.kind in "iu":
        bits = getattr(node, "num_weight_bits", None)
        return f"int{bits}" if bits else "int"
    distinct = len(np.unique(np.asarray(w)))
    return f"{distinct} values" if distinct <= 256 else "f64"


def sparsity(w: Any) -> float:
    arr = as_float(w)
    return float(np.mean(arr == 0)) if arr is not None and arr.size else 0.0
