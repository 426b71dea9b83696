"""Integer-valued spike products and multi-level spikes as binary neurons (lower-spike-products).

QSD-Transformer-style models send **multi-level integer spikes** (a per-step quantized activation,
``qcfs``: ``y = step * clip(floor(x * L / theta + offset), 0, L)``) and compute the spike-matrix
form **Q(KᵀV)** whose Kᵀ V is an integer matrix. Both are exact sums of binary spikes, which is
how this module lowers them (no graded payloads, no multiplying synapse):

- **Unary (thermometer) code** (``unary_spikes.py``). ``n = clip(floor(x L / theta + offset),
  0, L)`` is the number of j in 1..L with ``x >= (j - offset) theta / L``. A ``qcfs`` of shape
  (C, ...) becomes one memoryless ``lif`` population U of shape (L C, ...) (decay_v = 0,
  comparator ``>=``, level j in channel block j with threshold ``(j - offset) theta / L``),
  whose input synapses are tiled L times along their output axis; ``y = step * sum_j U_j``.
  With ``rounding = "half_even"`` (``torch.round``) level j is reached at the midpoint
  ``j - 1/2`` with ``>`` for odd j and ``>=`` for even j: two populations. Exact for every
  input.
- **Products as ANDs.** Every operand of a product is a fixed linear map of binary spike
  populations (through ``permute``/``broadcast``/``axis_sum``/``scale``/reshapes, a U above, or
  an earlier product): ``a_e = sum_i A[e, i] s_i``. Then ``prod_k a_k[e] = sum over one index per
  operand of (prod of coefficients) * AND(s_i, s_j, ...)``, the AND of binary spikes in the same
  step. Each distinct AND becomes one coincidence neuron (threshold = its number of distinct
  inputs - 1, comparator ``>``), and the product is the fixed matrix P of those coefficients
  over the AND population. Q(Kᵀ V) is thus ANDs of (Q, AND(K, V)), and an integer spike
  times another multiplies L_a L_b pairs of unary spikes.
- **Consumers.** A value ``P s`` (a U or a product, seen through maps) folds into the synapse
  that reads it (``linear``/``affine``: W P; a convolution becomes its dense matrix first, exact
  but without weight sharing, except one reading a unary population directly, which keeps its
  kernel tiled over the levels' channels), or reaches a neuron through a new ``linear``
  synapse P; several synapse copies into an output share one memoryless readout.

Latency (``latency.py``): U is one layer like the neuron it replaces; each product adds one
layer (its AND neurons), so Q(KᵀV) adds two steps before the synapse that reads it, and
``align_paths`` delays the shorter paths (Q into the outer ANDs, the membrane shortcut).
Refused by name: an operand that is not a map of binary spikes (a current, a graded neuron),
a value read by something other than a synapse or neuron, a ``qcfs`` fed by something other
than synapses, the input or spikes, and products needing more than ``MAX_ANDS`` coincidence
neurons.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from ..errors import UnsupportedOpError
from ..ir import LI, LIF, Graph, Linear, Reshape
from .graphutil import is_spiking
from .synapse_maps import chain_matrix, dense_of, per_channel, synapse_of, weight_of
from .unary_spikes import LoweringBase, Terms

#: maps (per-sample linear, fixed) through which a value is followed
MAPS = ("permute", "broadcast", "axis_sum", "reshape", "flatten", "scale")
#: the largest number of coincidence neurons one product may need
MAX_ANDS = 1 << 16


class Lowering(LoweringBase):
    """One run over the graph in topological order (module docstring)."""

    def run(self, targets: set[str]) -> Graph:
        g = self.g
        for name in g.schedule().order:
            node: Any = g.nodes[name]
            preds = g.predecessors(name)
            if node.op == "qcfs":
                self.unary(name, node)
            elif node.op in MAPS and len(preds) == 1 and preds[0] in self.terms:
                shape = g.nodes[preds[0]].out_shape
                self.terms[name] = [(p, chain_matrix(node, m, shape))
                                    for p, m in self.terms[preds[0]]]
            elif node.op == "mul" and name in targets:
                self.product(name, node)
            elif any(p in self.terms for p in preds):
                self.consume(name, node)
        for name in self.terms:  # the value nodes, replaced by populations
            if name in self.ed.nodes and name not in self.info["unary"]:
                self.ed.remove(name)
        return self.ed.finish()

    # ---- products ----------------------------------------------------------------------------
    def operand(self, mul: str, p: str) -> Terms:
        if p in self.terms:
            return self.terms[p]
        g = self.g
        chain: list[str] = []
        src = p
        while g.nodes[src].op in MAPS and len(g.predecessors(src)) == 1:
            chain.append(src)
            src = g.predecessors(src)[0]
            if src in self.terms:
                break
        chain.reverse()
        if src in self.terms:
            terms = self.terms[src]
        elif is_spiking(g.nodes[src]):
            n = int(np.prod(g.nodes[src].out_shape))
            terms = [(src, np.eye(n))]
        else:
            raise UnsupportedOpError(
                f"node {mul!r} (mul): operand {p!r} comes from {src!r} ({g.nodes[src].op}), "
                "which is not a fixed map of spikes. Products lower when every operand is "
                "binary spikes, multi-level integer spikes (qcfs) or sums of them (Q(K^T V)): "
                "each becomes ANDs of binary spikes; a product of currents or of graded values "
                "has no exact lowering. Put a spiking neuron on each operand, or simulate with "
                "the float reference (-b reference)")
        for c in chain:
            shape = g.nodes[g.predecessors(c)[0]].out_shape
            terms = [(s, chain_matrix(g.nodes[c], m, shape)) for s, m in terms]
        return terms

    def product(self, name: str, node: Any) -> None:
        ops = [self.operand(name, p) for p in self.g.predecessors(name)]
        pops: list[str] = []
        for terms in ops:
            pops.extend(s for s, _ in terms if s not in pops)
        size = int(np.prod(node.shape))
        keys: dict[tuple[tuple[int, int], ...], int] = {}
        rows: list[int] = []
        cols: list[int] = []
        vals: list[float] = []
        for e in range(size):
            factors = []
            for terms in ops:
                f = [((pops.index(s), int(j)), float(m[e, j]))
                     for s, m in terms for j in np.flatnonzero(m[e])]
                factors.append(f)
            for combo in itertools.product(*factors):
                key = tuple(sorted({k for k, _ in combo}))
                col = keys.setdefault(key, len(keys))
                if len(keys) > MAX_ANDS:
                    raise UnsupportedOpError(
                        f"node {name!r} (mul): the product needs more than {MAX_ANDS} "
                        "coincidence neurons (one per distinct AND of unary or binary spikes); "
                        "use fewer levels, tokens or heads")
                rows.append(e)
                cols.append(col)
                vals.append(float(np.prod([c for _, c in combo])))
        n_and = max(len(keys), 1)
        mat = np.zeros((size, n_and))
        np.add.at(mat, (rows, cols), vals)
        thr = np.array([len(k) - 1 for k in keys] or [0], dtype=np.float64)
        ed = self.ed
        and_name = ed.fresh_name(f"{name}_and")
        ed.add(and_name, LIF(shape=(n_and,), decay_v=np.float64(0.0), threshold=thr,
                             comparator=">"))
        for pi, pop in enumerate(pops):
            w = np.zeros((n_and, int(np.prod(self.shape_of(pop)))))
            for key, col in keys.items():
                for qi, j in key:
                    if qi == pi:
                        w[col, j] += 1.0
            syn = ed.fresh_name(f"{name}_in{pi}")
            ed.add(syn, Linear(weight=w)).connect(self.flat_of(pop, self.shape_of(pop)), syn)
            ed.connect(syn, and_name)
        self.terms[name] = [(and_name, mat)]
        self.info["products"][name] = {"neuron": and_name, "operands": pops, "ands": n_and,
                                       "integer": True}

    # ---- consumers ---------------------------------------------------------------------------
    def tiled_conv(self, name: str, node: Any, derived: list[str]) -> bool:
        """A convolution reading a multi-level spike directly (and nothing else) reads its
        unary population with the kernel tiled per level along the input channels, times the
        level's value: conv(step * sum_j U_j) = sum_j conv(step * U_j). Keeps weight sharing."""
        g = self.g
        if node.op not in ("conv1d", "conv2d") or node.groups != 1 or len(derived) != 1 or (
                derived[0] not in self.info["unary"]) or len(g.predecessors(name)) != 1 or (
                len(self.terms[derived[0]]) != 1):
            return False
        q: Any = g.nodes[derived[0]]
        step = per_channel(np.broadcast_to(np.asarray(q.step, np.float64), q.shape))
        if step is None:
            return False
        w = weight_of(node)
        w = w * step.reshape((1, -1) + (1,) * (w.ndim - 2))
        lv = int(q.levels)
        conv = node.replace(input_shape=self.shape_of(derived[0]),
                            weight=np.concatenate([w] * lv, axis=1))
        self.ed.replace(name, conv).connect(derived[0], name)
        return True

    def consume(self, name: str, node: Any) -> None:
        g, ed = self.g, self.ed
        derived = [p for p in g.predecessors(name) if p in self.terms]
        synapse = node.op in ("linear", "affine", "conv1d", "conv2d")
        if not synapse and not (is_neuron(node)):
            raise UnsupportedOpError(
                f"node {name!r} ({node.op}) reads {derived[0]!r}, an integer-valued value "
                "(multi-level spikes or a spike product) lowered to binary neurons; only a "
                "synapse (linear, conv) or a neuron can read it: put a synapse and a neuron "
                "before the output")
        for p in derived:
            ed.disconnect(p, name)
        if synapse and self.tiled_conv(name, node, derived):
            return
        if synapse:
            w, b = dense_of(node)
            outs = g.successors(name)
            others = [p for p in g.predecessors(name) if p not in derived]
            copies = sum(len(self.terms[p]) for p in derived) + len(others)
            if copies > 1 and any(g.nodes[s].op == "output" for s in outs):
                # several synapse copies into an output: one readout for their sum (lowering
                # would give each its own; a memoryless li outputs its input, exact)
                readout = ed.fresh_name(f"{name}_sum")
                ed.add(readout, LI(shape=tuple(node.out_shape), decay_v=np.float64(0.0)))
                for s in [s for s in outs if g.nodes[s].op == "output"]:
                    ed.disconnect(name, s).connect(readout, s)
                if others:
                    ed.connect(name, readout)
                outs = [readout, *(s for s in outs if g.nodes[s].op != "output")]
            keep_bias = not others
            for p in derived:
                for pop, m in self.terms[p]:
                    syn = ed.fresh_name(f"{name}_{pop}")
                    ed.add(syn, synapse_of(w @ m, b if keep_bias else None))
                    keep_bias = False
                    ed.connect(self.flat_of(pop, self.shape_of(pop)), syn)
                    view = ed.fresh_name(f"{syn}_view")
                    ed.add(view, Reshape(input_shape=(w.shape[0],),
                                         output_shape=tuple(node.out_shape)))
                    ed.connect(syn, view)
                    for s in outs:
                        ed.connect(view, s)
            if not others:
                ed.remove(name)
            return
        for p in derived:
            for pop, m in self.terms[p]:
                syn = ed.fresh_name(f"{p}_{pop}_syn")
                ed.add(syn, Linear(weight=m)).connect(self.flat_of(pop, self.shape_of(pop)), syn)
                view = ed.fresh_name(f"{syn}_view")
                ed.add(view, Reshape(input_shape=(m.shape[0],),
                                     output_shape=tuple(g.nodes[p].out_shape)))
                ed.connect(syn, view).connect(view, name)


def is_neuron(node: Any) -> bool:
    from ..ir.traits import Trait, has

    return has(node, Trait.NEURON)


def integer_targets(g: Graph) -> set[str]:
    """The products that are not plain ANDs of binary spikes (an operand is not a rearrangement
    of one binary spiking source), and so need this module."""
    from .spike_products import REARRANGE, chain_back

    out: set[str] = set()
    for name, node in g.nodes.items():
        if node.op != "mul":
            continue
        for p in g.predecessors(name):
            src, _ = chain_back(g, p, (*REARRANGE, "broadcast"))
            if not is_spiking(g.nodes[src]):
                out.add(name)
    return out


def lower_integer(g: Graph, info: dict[str, Any]) -> Graph:
    """Lower every ``qcfs`` and every remaining product (run after the binary products are
    coincidence neurons: each remaining one has an operand that is not a rearrangement of one
    binary source; module docstring)."""
    info.setdefault("unary", {})
    return Lowering(g, info).run({k for k, v in g.nodes.items() if v.op == "mul"})
