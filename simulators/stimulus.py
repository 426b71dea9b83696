"""Checking what a caller asks of a simulator: stimuli, (T, B, *shape) per input node, and probes
named ``"node.var"``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from ..errors import SnncError
from ..ir import Graph


def stimuli(graph: Graph, inputs: np.ndarray | Mapping[str, np.ndarray],
            dtype: Any = None) -> dict[str, np.ndarray]:
    """``{input name: array}`` from one array (single-input graphs) or a dict; shapes checked."""
    names = graph.inputs
    if not isinstance(inputs, Mapping):
        if len(names) != 1:
            raise SnncError(f"the graph has inputs {names}; pass a dict of arrays by input name")
        inputs = {names[0]: inputs}
    out = {}
    for name in names:
        if name not in inputs:
            raise SnncError(f"no stimulus for input node {name!r}")
        x = inputs[name]
        if not hasattr(x, "window"):  # else a source read window by window (engine.py)
            x = np.asarray(x, dtype=dtype)
        want = tuple(graph.nodes[name].out_shape)
        if x.ndim != len(want) + 2 or tuple(x.shape[2:]) != want:
            raise SnncError(f"stimulus for {name!r} has shape {x.shape}, expected (T, B, *{want})")
        out[name] = x
    return out


def parse_probes(graph: Graph, probes: Iterable[str]) -> list[tuple[str, str, str]]:
    """``(probe, node, var)`` per probe ``"node.var"``; a bare node name means its output ``s``.

    Only the node is checked here; each simulator checks which variables it can record.
    """
    out = []
    for p in probes:
        node, _, var = p.rpartition(".")
        if not node:
            node, var = var, "s"
        if node not in graph.nodes:
            raise SnncError(f"probe {p!r}: no node named {node!r}; nodes: "
                            f"{', '.join(graph.nodes)}")
        out.append((p, node, var or "s"))
    return out
