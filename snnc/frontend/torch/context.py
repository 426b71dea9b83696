"""What converters work with: dynamic values (``Port``), neuron state handles, and the context
that collects IR nodes and edges while the fx graph is walked.

A ``Port`` is a tensor that depends on the model input: the output of one IR node, with its shape
per sample (``shape``) and the number of leading axes the torch tensor has in front of it
(``lead``: 1 for (B, ...), 2 for SpikingJelly's multi-step (T, B, ...)). Everything that does not
depend on the input is a plain torch value (a "static" value), computed at trace time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ...errors import UnsupportedOpError
from ...ir import Graph, Node


@dataclass(frozen=True)
class Port:
    """A per-step tensor value: the output of IR node ``node``."""

    node: str
    shape: tuple[int, ...]
    lead: int = 1
    spiking: bool = False  # binary 0/1 values (a spiking neuron's output)
    time_reduced: str | None = None  # "mean"/"sum" over time: only valid as a graph output


@dataclass(frozen=True)
class State:
    """A neuron's state returned by its module (membrane, current): usable only as an output."""

    node: str
    var: str = "v"
    parts: tuple[str, ...] = ()

    def __getitem__(self, idx: Any) -> State:
        return State(self.node, self.parts[idx] if self.parts else self.var)

    def __getattr__(self, name: str) -> State:
        if name.startswith("_"):
            raise AttributeError(name)
        return State(self.node, name)


def spike_or(a: Any, b: Any) -> Any:
    """``a OR b`` for 0/1 spikes, written as ``a + b - a * b`` (what the tracer substitutes)."""
    return a + b - a * b


def is_dynamic(value: Any) -> bool:
    if isinstance(value, Port | State):
        return True
    if isinstance(value, list | tuple):
        return any(is_dynamic(v) for v in value)
    if isinstance(value, dict):
        return any(is_dynamic(v) for v in value.values())
    return False


def sanitize(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.]", "_", name) or "node"


@dataclass
class Where:
    """The location reported in error messages."""

    path: str
    cls: str
    line: str = ""


@dataclass
class Context:
    """Collects IR nodes and edges; raises located errors."""

    nodes: dict[str, Node] = field(default_factory=dict)
    edges: list[tuple[str, str]] = field(default_factory=list)
    where: Where = field(default_factory=lambda: Where("", ""))
    metadata: dict[str, Any] = field(default_factory=dict)
    #: module path -> number of calls seen (stateful modules may be called once per step)
    calls: dict[str, int] = field(default_factory=dict)

    def fresh(self, base: str) -> str:
        base = sanitize(base)
        if base not in self.nodes:
            return base
        i = 1
        while f"{base}_{i}" in self.nodes:
            i += 1
        return f"{base}_{i}"

    def add(self, base: str, node: Node, inputs: list[Port], *, lead: int | None = None,
            spiking: bool = False) -> Port:
        """Add ``node`` fed by ``inputs``; return its output port."""
        for p in inputs:
            self.check_port(p)
        name = self.fresh(base)
        self.nodes[name] = node
        for p in inputs:
            if (p.node, name) not in self.edges:
                self.edges.append((p.node, name))
        lead = inputs[0].lead if lead is None and inputs else (lead or 1)
        return Port(name, tuple(node.out_shape), lead, spiking)

    def check_port(self, p: Any) -> Port:
        if isinstance(p, State):
            self.fail(f"uses the state '{p.var}' of neuron '{p.node}' as a value",
                      "neuron states can only be returned as outputs (probe them as "
                      f"'{p.node}.{p.var}' in the simulator)")
        if not isinstance(p, Port):
            self.fail(f"expected a tensor that depends on the input, got {type(p).__name__}",
                      "pass the input tensor through")
        if p.time_reduced:
            self.fail(f"uses a value reduced over time ({p.time_reduced} over T)",
                      "reduce over time only in the last operation of forward")
        return p

    def fail(self, what: str, supported: str) -> None:
        w = self.where
        at = f" (called at {w.line})" if w.line else ""
        raise UnsupportedOpError(
            f"{w.path or 'forward'} [{w.cls}]{at}: {what}. Supported instead: {supported}.")

    def scalar_or_array(self, value: Any, what: str) -> np.ndarray:
        """A static torch value as a float64 numpy array."""
        import torch

        if isinstance(value, torch.Tensor):
            return value.detach().to("cpu", torch.float64).numpy().copy()
        if isinstance(value, int | float | bool):
            return np.asarray(float(value))
        self.fail(f"{what} is {type(value).__name__}, not a number or tensor", "numbers, tensors")
        raise AssertionError  # unreachable

    def graph(self, dt: float | None = None) -> Graph:
        return Graph(dict(self.nodes), tuple(self.edges), dt, dict(self.metadata))
