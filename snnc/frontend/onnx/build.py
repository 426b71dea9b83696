"""Walking an ONNX graph in order and building the IR graph (see ``ops.py`` for the ops).

Every ONNX value is either a ``Port`` (the output of an IR node, with its per-sample shape) or a
numpy array (a constant: initializers, ``Constant`` nodes and anything computed only from
constants). ``BATCH`` stands for the batch size inside constant shape arithmetic.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ...errors import FormatError, UnsupportedOpError
from ...ir import Graph, Input, Node, Output
from ...ir.staircase import fuse_staircases
from .reader import sample_shape

#: the batch dimension inside constant shape tensors (``Shape`` of an input-dependent tensor)
BATCH = -(2**40)


@dataclass(frozen=True)
class Port:
    node: str
    shape: tuple[int, ...]


@dataclass
class Builder:
    path: Path
    nodes: dict[str, Node] = field(default_factory=dict)
    edges: list[tuple[str, str]] = field(default_factory=list)
    where: str = ""
    batch: int | None = None  # the declared batch size of the graph input, if fixed
    uses: dict[str, int] = field(default_factory=dict)  # ONNX value name -> number of readers

    def fresh(self, base: str) -> str:
        base = re.sub(r"[^A-Za-z0-9_.]", "_", base.strip("/").replace("/", ".")) or "node"
        name, i = base, 1
        while name in self.nodes:
            name, i = f"{base}_{i}", i + 1
        return name

    def add(self, base: str, node: Node, inputs: list[Port]) -> Port:
        name = self.fresh(base)
        self.nodes[name] = node
        for p in inputs:
            if (p.node, name) not in self.edges:
                self.edges.append((p.node, name))
        return Port(name, tuple(node.out_shape))

    def fail(self, what: str, supported: str = "") -> None:
        hint = f" Supported instead: {supported}." if supported else ""
        raise UnsupportedOpError(f"{self.path}: node {self.where}: {what}.{hint}")

    def port(self, v: Any, what: str = "input") -> Port:
        if not isinstance(v, Port):
            self.fail(f"its {what} is a constant, snnc needs the input-dependent tensor here")
        return v

    def const(self, v: Any, what: str) -> np.ndarray:
        if isinstance(v, Port):
            self.fail(f"its {what} depends on the model input; snnc needs a constant "
                      "(weights and shapes fixed in the file)")
        return v


def attributes(node: Any) -> dict[str, Any]:
    from onnx import helper, numpy_helper

    out: dict[str, Any] = {}
    for a in node.attribute:
        v = helper.get_attribute_value(a)
        if hasattr(v, "dims") and hasattr(v, "data_type"):  # a TensorProto
            v = numpy_helper.to_array(v)
        elif isinstance(v, bytes):
            v = v.decode("utf-8", "replace")
        out[a.name] = v
    return out


def _initializers(b: Builder, graph: Any) -> dict[str, Any]:
    from onnx import numpy_helper

    values: dict[str, Any] = {}
    for t in graph.initializer:
        try:
            values[t.name] = np.array(numpy_helper.to_array(t))
        except Exception as exc:
            raise FormatError(f"{b.path}: initializer {t.name!r} cannot be read "
                              f"(field 'graph.initializer'): {exc}") from None
    return values


def build_graph(path: Path, model: Any, input_shape: tuple[int, ...] | None) -> Graph:
    from .ops import OPS, supported

    g = model.graph
    _check_opset(path, model)
    b = Builder(path)
    values = _initializers(b, g)
    inputs = [vi for vi in g.input if vi.name not in values]
    if len(inputs) != 1:
        raise FormatError(f"{path}: the ONNX graph has {len(inputs)} inputs "
                          f"({[vi.name for vi in inputs]}); snnc reads models with one input")
    shp = sample_shape(path, inputs[0], input_shape)
    from .reader import dims

    d0 = (dims(inputs[0]) or [None])[0]
    b.batch = d0 if isinstance(d0, int) else None
    b.nodes["input"] = Input(shape=shp)
    values[inputs[0].name] = Port("input", shp)
    for n in g.node:
        for name in n.input:
            b.uses[name] = b.uses.get(name, 0) + 1
    for i, n in enumerate(g.node):
        b.where = f"{n.name or f'#{i}'!r} ({n.op_type})"
        if n.domain not in ("", "ai.onnx"):
            b.fail(f"operator domain {n.domain!r}", "the standard ONNX domain")
        fn = OPS.get(n.op_type)
        if fn is None:
            b.fail(f"unsupported ONNX operator {n.op_type}", supported())
        ins = []
        for name in n.input:
            if name and name not in values:
                raise FormatError(f"{path}: node {b.where} reads {name!r}, which no earlier "
                                  "node produces (field 'graph.node.input')")
            ins.append(values[name] if name else None)
        outs = fn(b, n, ins, attributes(n))
        for name, v in zip(n.output, outs, strict=False):
            if name:
                values[name] = v
    _outputs(b, g, values)
    graph = Graph(dict(b.nodes), tuple(b.edges), None,
                  {"source": "onnx", "onnx_producer": f"{model.producer_name} "
                   f"{model.producer_version}".strip()})
    return fuse_staircases(graph)


def _check_opset(path: Path, model: Any) -> None:
    for imp in model.opset_import:
        if imp.domain in ("", "ai.onnx") and imp.version < 7:
            raise FormatError(f"{path}: ONNX opset {imp.version} (field 'opset_import'); snnc "
                              "reads opset 7 and later")


def _outputs(b: Builder, g: Any, values: dict[str, Any]) -> None:
    outs = [o.name for o in g.output]
    for i, name in enumerate(outs):
        v = values.get(name)
        if not isinstance(v, Port):
            raise FormatError(f"{b.path}: graph output {name!r} does not depend on the input")
        out = "output" if len(outs) == 1 else f"output_{i}"
        b.nodes[out] = Output(shape=v.shape)
        b.edges.append((v.node, out))
