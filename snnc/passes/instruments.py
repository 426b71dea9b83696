"""Instruments the ``PassManager`` calls around every pass.

- ``DumpIR(dir)``: the text IR after every pass, ``dir/00-input.txt``, ``dir/01-fold-bn.txt``...
  (an existing file of that name is replaced only if it is a text IR dump, ``graph {``).
- ``Timing``: wall time per pass (``rows``).
- ``Progress(echo)``: one line per pass, for the CLI.
- ``DifferentialCheck(inputs)``: runs the reference simulator before and after each pass. EXACT
  passes must leave every output identical (else ``PassError`` naming the pass, the output and
  the first differing step); APPROXIMATE and LOWERING passes get their agreement recorded in
  ``results`` (lowered graphs compared with the latency convention of ``fidelity.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import PassError, SnncError
from ..ir import Graph
from .manager import Pass, Semantics


class DumpIR:
    """Write ``print_graph`` of the input and of the graph after every pass into ``directory``."""

    def __init__(self, directory: str | Path) -> None:
        self.directory = Path(directory)

    def _write(self, name: str, graph: Graph) -> None:
        from ..io import atomic_path
        from ..ir.text import print_graph

        self.directory.mkdir(parents=True, exist_ok=True)
        dest = self.directory / name
        if dest.exists() or dest.is_symlink():  # replace only a dump of an earlier run
            ours = dest.is_file() and not dest.is_symlink()
            if ours:
                with dest.open("rb") as fh:
                    ours = fh.read(8) == b"graph {\n"
            if not ours:
                raise SnncError(f"--dump-ir: {dest} exists and is not an IR dump snnc wrote; "
                                "snnc never overwrites files it did not write. Name another "
                                "directory.")
        with atomic_path(dest) as tmp:
            tmp.write_text(print_graph(graph))

    def before(self, p: Pass, graph: Graph, index: int, total: int) -> None:
        if index == 0:
            self._write("00-input.txt", graph)

    def after(self, p: Pass, before: Graph, after: Graph, seconds: float, index: int,
              total: int) -> None:
        self._write(f"{index + 1:02d}-{p.name}.txt", after)


class Timing:
    """Records (pass spec, seconds, nodes before, nodes after) per pass."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    def before(self, p: Pass, graph: Graph, index: int, total: int) -> None:
        pass

    def after(self, p: Pass, before: Graph, after: Graph, seconds: float, index: int,
              total: int) -> None:
        self.rows.append({"pass": p.spec(), "seconds": round(seconds, 6),
                          "nodes_before": len(before.nodes), "nodes_after": len(after.nodes)})


class Progress:
    """Calls ``echo`` with one line per finished pass: "[i/n] name  0.01 s  6 -> 6 nodes"."""

    def __init__(self, echo: Callable[[str], None]) -> None:
        self.echo = echo

    def before(self, p: Pass, graph: Graph, index: int, total: int) -> None:
        pass

    def after(self, p: Pass, before: Graph, after: Graph, seconds: float, index: int,
              total: int) -> None:
        self.echo(f"[{index + 1:>2}/{total}] {p.spec():<22} {seconds:6.2f} s  "
                  f"{len(before.nodes)} -> {len(after.nodes)} nodes")


class DifferentialCheck:
    """Reference simulation before/after each pass on fixed ``inputs`` (time-major)."""

    def __init__(self, inputs: Mapping[str, np.ndarray] | np.ndarray,
                 steps: int | None = None) -> None:
        self.inputs = inputs
        self.steps = steps
        self.results: list[dict[str, Any]] = []

    def before(self, p: Pass, graph: Graph, index: int, total: int) -> None:
        pass

    def after(self, p: Pass, before: Graph, after: Graph, seconds: float, index: int,
              total: int) -> None:
        from .fidelity import compare_graphs

        kind = p.effective_semantics()
        cmp = compare_graphs(before, after, self.inputs, self.steps)
        self.results.append({"pass": p.spec(), "semantics": kind.value, **cmp.summary()})
        if kind is Semantics.EXACT and not cmp.identical:
            raise PassError(f"differential check: pass {p.name!r} is EXACT but changed the "
                            f"reference result: {cmp.first_difference}")
