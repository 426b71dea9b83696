"""Multi-level integer spikes (``qcfs``) as unary binary neurons: the part of
``integer_products`` (module docstring there) that replaces a ``qcfs`` by one memoryless
``lif`` population per comparator and tiles the synapses into it per level.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import UnsupportedOpError
from ..ir import LIF, Flatten, Graph, GraphEditor, Linear, Reshape
from .graphutil import is_spiking
from .synapse_maps import synapse_of, weight_of

Terms = list[tuple[str, np.ndarray]]  # value_flat = sum of M @ flat(population)


class LoweringBase:
    """The graph being edited, the values as sums of populations (``terms``), and the
    multi-level spikes' lowering."""

    def __init__(self, g: Graph, info: dict[str, Any]) -> None:
        self.g, self.info = g, info
        self.ed: GraphEditor = g.edit()
        self.terms: dict[str, Terms] = {}
        self.flat: dict[str, str] = {}

    def flat_of(self, src: str, shape: tuple[int, ...]) -> str:
        if len(shape) == 1:
            return src
        if src not in self.flat:
            self.flat[src] = self.ed.fresh_name(f"{src}_flat")
            self.ed.add(self.flat[src], Flatten(input_shape=shape)).connect(src, self.flat[src])
        return self.flat[src]

    def shape_of(self, name: str) -> tuple[int, ...]:
        return tuple(self.ed.nodes[name].out_shape)


    # ---- multi-level spikes ------------------------------------------------------------------
    def preds_now(self, name: str) -> list[str]:
        return [a for a, b in self.ed.edges if b == name]

    def unary(self, name: str, node: Any) -> None:
        """Level j of n = clip(rnd(z), 0, L), z = x L / theta + offset, is reached iff
        z >= j (floor), or z > j - 1/2 for odd j and z >= j - 1/2 for even j (halves to even):
        one population per comparator (the first keeps the node's name)."""
        ed, lv = self.ed, int(node.levels)
        shape = tuple(node.shape)
        theta, off, step = (np.broadcast_to(np.asarray(getattr(node, a), np.float64), shape)
                            for a in ("threshold", "offset", "step"))
        if node.rounding == "half_even":
            groups = [(">=", [j for j in range(1, lv + 1) if j % 2 == 0], -0.5),
                      (">", [j for j in range(1, lv + 1) if j % 2], -0.5)]
        else:
            groups = [(">=", list(range(1, lv + 1)), 0.0)]
        pops = []
        for i, (cmp, js, shift) in enumerate(g for g in groups if g[1]):
            pop = name if i == 0 else ed.fresh_name(f"{name}_odd")
            thr = np.concatenate([(j + shift - off) * theta / lv for j in js], axis=0)
            ushape = (len(js) * shape[0], *shape[1:])
            pops.append((pop, len(js), ushape, LIF(shape=ushape, decay_v=np.float64(0.0),
                                                   threshold=thr, comparator=cmp)))
        for pop, _, _, lif in pops[1:]:
            ed.add(pop, lif)
        for p in self.preds_now(name):
            self.tile_input(name, p, [(pop, k, ushape) for pop, k, ushape, _ in pops])
        ed.replace(name, pops[0][3])
        self.terms[name] = [(pop, np.concatenate([np.diag(step.reshape(-1))] * k, axis=1))
                            for pop, k, _, _ in pops]
        self.info["unary"][name] = {"levels": lv, "rounding": node.rounding,
                                    "populations": [pop for pop, *_ in pops],
                                    "neurons": lv * int(np.prod(shape))}

    def tile_input(self, name: str, p: str, pops: list[tuple[str, int, tuple[int, ...]]]
                   ) -> None:
        """Feed each unary population (name, k levels, shape) from what ``p`` sends into
        ``name``: a product or multi-level value (a synapse per source population), the graph
        input or spikes (an identity synapse), or the synapse behind ``p`` (through wiring),
        each tiled k times along its output axis (level-major, as the populations' channel
        blocks); the untiled path is removed if nothing else reads it."""
        ed = self.ed
        ed.disconnect(p, name)

        def feed(syn: Any, src: str, pop: str, ushape: tuple[int, ...]) -> None:
            s_name = ed.fresh_name(f"{src}_{pop}")
            view = ed.fresh_name(f"{s_name}_view")
            ed.add(s_name, syn).add(view, Reshape(input_shape=tuple(syn.out_shape),
                                                  output_shape=ushape))
            ed.connect(s_name, view).connect(view, pop)
            if src in ed.nodes and ed.nodes[src].op not in ("linear", "affine", "conv1d",
                                                            "conv2d"):
                ed.connect(self.flat_of(src, self.shape_of(src)) if syn.op in (
                    "linear", "affine") else src, s_name)
            else:
                for a in self.preds_now(src):
                    ed.connect(a, s_name)

        visited: list[str] = []

        def leaves(node: str) -> list[str]:  # back through wiring; a sum of views fans out
            visited.append(node)
            if node in self.terms or ed.nodes[node].op not in ("reshape", "flatten"):
                return [node]
            return [x for a in self.preds_now(node) for x in leaves(a)]

        for leaf in leaves(p):
            self.tile_leaf(name, leaf, pops, feed)
        for c in visited:  # the untiled path, if nothing else reads it
            if c in ed.nodes and c not in self.terms and not any(a == c for a, _ in ed.edges):
                ed.remove(c)

    def tile_leaf(self, name: str, leaf: str, pops: list[tuple[str, int, tuple[int, ...]]],
                  feed: Any) -> None:
        ed = self.ed
        if leaf in self.terms:
            for src, m in self.terms[leaf]:
                for pop, k, ushape in pops:
                    feed(Linear(weight=np.concatenate([m] * k, axis=0)), src, pop, ushape)
            return
        syn: Any = ed.nodes[leaf]
        if syn.op == "input" or is_spiking(syn):
            n = int(np.prod(syn.out_shape))
            for pop, k, ushape in pops:
                feed(Linear(weight=np.concatenate([np.eye(n)] * k, axis=0)), leaf, pop, ushape)
            return
        if syn.op not in ("linear", "affine", "conv1d", "conv2d"):
            raise UnsupportedOpError(
                f"node {name!r} (qcfs, multi-level integer spikes) reads {leaf!r} ({syn.op}); "
                "a multi-level spike neuron lowers to one binary neuron per level fed by its "
                "synapses tiled per level, so its inputs must be synapses (linear or conv, "
                "possibly reshaped), the graph input or spikes")
        w = weight_of(syn)
        for pop, k, ushape in pops:
            if syn.op in ("conv1d", "conv2d"):
                bias = np.broadcast_to(np.asarray(syn.bias, np.float64), (w.shape[0],))
                tiled = syn.replace(weight=np.concatenate([w] * k, axis=0),
                                    bias=np.tile(bias, k))
            else:
                b = np.broadcast_to(np.asarray(getattr(syn, "bias", 0.0)), (w.shape[0],))
                tiled = synapse_of(np.concatenate([w] * k, axis=0), np.tile(b, k))
            feed(tiled, leaf, pop, ushape)
