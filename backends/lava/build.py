"""``build_lava``: a lowered graph (``loihi.*`` ops) as a Lava process graph.

One Lava process per hardware op, with the integers of the IR node:

- ``loihi.dense`` -> ``Dense`` (``DelayDense`` when it has ``delays``): weights, weight_exp,
  num_weight_bits, num_message_bits. The sign mode is left to Lava, which derives it from the
  weights as the reference does.
- ``loihi.conv`` -> ``Conv``: kernel flipped and transposed to (C_out, kW, kH, C_in/g), shapes
  (W, H, C), stride/padding/dilation as (x, y).
- ``loihi.lif`` -> ``LIF``, or ``LIFReset`` when ``reset_interval > 0``: du, dv, vth, bias_mant,
  bias_exp.
- ``loihi.delta`` / ``loihi.sigma_delta`` / ``loihi.sigma`` -> Lava's own ``Delta`` /
  ``SigmaDelta`` / ``Sigma`` (``lava.proc.sdn``), whose fixed_pt models the IR's ops copy.
- ``flatten`` / ``reshape`` -> virtual ports (transpose to IR order, reshape, transpose back).
- ``input`` / ``output`` -> the ports users connect their sources and sinks to.

Lava selects its ``fixed_pt`` models when run with ``Loihi1SimCfg(select_tag="fixed_pt")``.
Values flow in Lava layout (axes reversed, see ``layout.py``). Several edges into one node are
summed by Lava's InPort, as the IR sums them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ...errors import BackendError, UnsupportedOpError
from ...ir import Graph, flatten_subgraphs
from ._env import require_lava

PASSIVE_OPS = ("input", "output", "flatten", "reshape")
SDN_OPS = ("loihi.delta", "loihi.sigma_delta", "loihi.sigma")
IN_PORT = {"loihi.dense": "s_in", "loihi.conv": "s_in", "loihi.lif": "a_in",
           **dict.fromkeys(SDN_OPS, "a_in")}
OUT_PORT = {"loihi.dense": "a_out", "loihi.conv": "a_out", "loihi.lif": "s_out",
            **dict.fromkeys(SDN_OPS, "s_out")}
#: the state Vars a probe may read, per op (Lava's names, which are the reference's too)
PROBE_VARS = {"loihi.lif": ("u", "v"), "loihi.delta": ("act", "residue", "error"),
              "loihi.sigma_delta": ("sigma", "act", "residue", "error"),
              "loihi.sigma": ("sigma",)}


@dataclass
class LavaNetwork:
    """The Lava processes of a graph, and where to connect sources and sinks.

    Attributes:
        processes: node name -> Lava process (one per ``loihi.*`` node).
        inputs: input node name -> the InPort its data enters (a list of InPorts when the input
            feeds several nodes; ``OutPort.connect`` accepts either). Data is in Lava layout:
            (W, H, C) for a (C, H, W) input.
        outputs: output node name -> the OutPort (possibly a virtual port) that carries its value
            (a list when several nodes feed the output; connect each to your sink's InPort).
            Created on first access: Lava refuses to compile a virtual port left unconnected,
            so connect every output you look up.
        graph: the (flattened) graph the network was built from.
    """

    processes: dict[str, Any]
    inputs: dict[str, Any]
    outputs: Mapping[str, Any]
    graph: Graph
    _wiring: Any = field(default=None, repr=False)

    def ports(self, node: str) -> list[Any]:
        """The OutPorts whose sum is ``node``'s output (Lava layout)."""
        return self._wiring.ports(node)

    def output_ports(self, output: str) -> list[Any]:
        """``outputs[output]`` as a list (empty when nothing feeds the output node)."""
        return self._wiring.output_ports(output)

    def var(self, node: str, var: str) -> Any:
        """The Lava Var ``var`` of a node: ``u``/``v`` of ``loihi.lif``, the sigma-delta ops'
        ``sigma``/``act``/``residue``/``error`` (``PROBE_VARS``)."""
        proc = self.processes.get(node)
        if proc is None or var not in PROBE_VARS.get(self.graph.nodes[node].op, ()):
            raise BackendError(f"probe {node}.{var}: the Lava backend records 's' of any node, "
                               f"'u'/'v' of loihi.lif nodes and the sigma-delta ops' "
                               f"sigma/act/residue/error only")
        return getattr(proc, var)


def build_lava(graph: Graph, sources: Mapping[str, Any] | None = None) -> LavaNetwork:
    """Build the Lava processes of ``graph`` and connect them.

    Args:
        graph: a lowered graph: ``loihi.*`` ops plus input/output/flatten/reshape.
        sources: optional input node name -> OutPort (Lava layout) to connect now; needed when an
            input feeds a flatten/reshape node (Lava can reshape only on the sending side).
    """
    require_lava()
    from . import processes as procs_mod

    graph = flatten_subgraphs(graph)
    procs: dict[str, Any] = {}
    for name, node in graph.nodes.items():
        if node.op in PASSIVE_OPS:
            continue
        make: Callable[[Any, str], Any] | None = procs_mod.CONVERTERS.get(node.op)
        if make is None:
            raise UnsupportedOpError(
                f"node {name!r} has op {node.op!r}, which the Lava backend cannot build: it "
                f"takes lowered graphs ({', '.join(sorted(procs_mod.CONVERTERS))}, "
                f"{', '.join(PASSIVE_OPS)}); compile the model for a Loihi target first")
        procs[name] = make(node, name)
    wiring = _Wiring(graph, procs, dict(sources or {}))
    for a, b in graph.edges:
        if b in procs:
            wiring.connect(a, getattr(procs[b], IN_PORT[graph.nodes[b].op]))
    inputs = {i: _one_or_list(wiring.entries[i]) for i in graph.inputs if wiring.entries[i]}
    return LavaNetwork(procs, inputs, _Outputs(graph, wiring), graph, wiring)


def _one_or_list(ports: list[Any]) -> Any:
    return ports[0] if len(ports) == 1 else ports


class _Outputs(Mapping[str, Any]):
    """``LavaNetwork.outputs``: an output's port(s), created when first looked up."""

    def __init__(self, graph: Graph, wiring: _Wiring) -> None:
        self.graph, self.wiring = graph, wiring

    def __getitem__(self, name: str) -> Any:
        if name not in self.graph.outputs:
            raise KeyError(name)
        return _one_or_list(self.wiring.output_ports(name))

    def __iter__(self) -> Iterator[str]:
        return iter(self.graph.outputs)

    def __len__(self) -> int:
        return len(self.graph.outputs)


class _Wiring:
    """Resolves each node's output to Lava ports and records where inputs enter.

    Virtual ports are made once per node and shared by all its consumers: Lava fails to
    compile a virtual port that leads nowhere, so none may be left dangling.
    """

    def __init__(self, graph: Graph, procs: dict[str, Any], sources: dict[str, Any]) -> None:
        self.graph, self.procs, self.sources = graph, procs, sources
        self.entries: dict[str, list[Any]] = {i: [] for i in graph.inputs}
        self.memo: dict[str, list[Any]] = {}

    def output_ports(self, output: str) -> list[Any]:
        """The ports whose sum is the value of the output node ``output``."""
        return [p for a in self.graph.predecessors(output) for p in self.ports(a)]

    def connect(self, src: str, in_port: Any) -> None:
        node = self.graph.nodes[src]
        if node.op == "input" and src not in self.sources:
            self.entries[src].append(in_port)
            return
        for port in self.ports(src):
            port.connect(in_port)

    def ports(self, name: str) -> list[Any]:
        if name not in self.memo:
            self.memo[name] = self._make_ports(name)
        return self.memo[name]

    def _make_ports(self, name: str) -> list[Any]:
        node = self.graph.nodes[name]
        if name in self.procs:
            return [getattr(self.procs[name], OUT_PORT[node.op])]
        if node.op == "input":
            if name not in self.sources:
                raise BackendError(
                    f"input {name!r} feeds a {node.op} node; Lava reshapes only on the sending "
                    f"side, so pass its source: build_lava(graph, sources={{{name!r}: out_port}})")
            return [self.sources[name]]
        if node.op in ("flatten", "reshape"):
            preds = self.graph.predecessors(name)
            return [_reshaped(p, node.in_shape, node.out_shape)
                    for a in preds for p in self.ports(a)]
        raise BackendError(f"node {name!r} ({node.op}) has no output port in the Lava network")


def _reshaped(port: Any, in_shape: tuple[int, ...], out_shape: tuple[int, ...]) -> Any:
    """An IR (C-order) reshape applied to a Lava-layout port, as virtual ports."""
    if len(in_shape) > 1:
        port = port.transpose(tuple(reversed(range(len(in_shape)))))
    if tuple(in_shape) != tuple(out_shape):
        port = port.reshape(tuple(int(n) for n in out_shape))
    if len(out_shape) > 1:
        port = port.transpose(tuple(reversed(range(len(out_shape)))))
    return port


def count_processes(graph: Graph) -> int:
    """How many Lava processes ``build_lava`` makes for ``graph`` (sources not included)."""
    return sum(1 for n in flatten_subgraphs(graph).nodes.values() if n.op not in PASSIVE_OPS)


def check_integer_stimulus(name: str, x: np.ndarray) -> np.ndarray:
    """Lava's fixed-point source sends int32: reject fractional or out-of-range stimuli."""
    arr = np.asarray(x)
    if arr.size and not np.array_equal(arr, np.rint(arr)):
        raise BackendError(f"stimulus for input {name!r} holds non-integers; Lava's fixed-point "
                           f"source sends int32 values (spikes 0/1 or integer payloads)")
    if arr.size and (arr.min() < -(2**31) or arr.max() >= 2**31):
        raise BackendError(f"stimulus for input {name!r} exceeds int32, which Lava's source sends")
    return arr.astype(np.int32)
