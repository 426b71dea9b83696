"""ONNX front end: ``snnc compile model.onnx`` / ``snnc convert model.onnx``.

An ONNX graph is an ANN (or a quantized ANN): its nodes become the float IR ops, activations
included (``ir/activations.py``), and quantized-activation chains (QCFS's Div/Clip/Mul/Add/Floor)
are fused into ``qcfs``. The batch axis is axis 0 of every tensor; shapes are per sample. Values
that do not depend on the input (initializers, ``Constant``, shape arithmetic such as
``Shape -> Gather -> Concat -> Reshape``) are evaluated while reading. The op converters live in
``ops.py``; file safety (size, external data) in ``reader.py``. Needs the ``onnx`` extra.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ...io import parse_input_shape
from ...ir import Graph
from .build import build_graph
from .reader import read_model

__all__ = ["load_onnx"]


def load_onnx(path: str | Path, *, input_shape: Any = None, **_: Any) -> Graph:
    """Read an ONNX model file into a float IR graph."""
    path = Path(path)
    model = read_model(path)
    shape = None if input_shape is None else parse_input_shape(input_shape)
    graph = build_graph(path, model, shape)
    return graph.with_metadata(file=path.name)

