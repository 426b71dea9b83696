"""``lower-spike-products``: spike-driven self-attention as neurons and fixed synapses.

Spike-driven self-attention (Spike-driven Transformer V1) multiplies input-dependent spike
tensors (``mul``: K ⊙ V, Q ⊙ SNN(Σ_tokens K ⊙ V)), sums over tokens (``axis_sum``) and
rearranges heads (``permute``, ``broadcast``, reshapes). None of these is a Loihi layer. This
pass rewrites them, exactly on binary spikes, into the layer structure ``loihi_layers`` accepts
(float ops still; ``quantize-loihi`` and ``lower-loihi`` take over):

- ``mul`` of k binary spike operands becomes a **coincidence neuron**: a memoryless ``lif``
  (decay_v = 0, hard reset) fed by one synapse of unit weights per operand, threshold k - 1 and
  comparator ``>``. Its input is the number of operands spiking in the step, so it fires iff all
  k do: an exact AND. Each operand's path from its spiking source through ``permute`` /
  ``broadcast`` / reshapes becomes that synapse's 0/1 index map (one 1 per row), and a
  permutation or reshape that only rearranges the product (the transpose back to (C, N)) is
  absorbed into the neuron's layout.
- ``axis_sum`` (the column sum over tokens), and ``permute``/``broadcast`` between a spiking
  layer and a neuron, become one ``linear`` synapse whose weights are the composed map (0/1 for
  sums, broadcasts and permutations; a ``scale`` on the chain multiplies in). Into a
  ``linear``/``affine`` synapse the map folds into its weights (W · M).
- a ``scale`` after a synapse (layer scale, ``gamma * block(x)``, through reshapes) folds into
  the synapse's rows, or its channels for a conv with a per-channel factor (exact in float;
  ``quantize-loihi`` says per layer whether the product is on its grid);
- ``conv1d`` (the kernel-1 token projections) becomes a ``conv2d`` over (C, L, 1) between
  reshapes: the same cross-correlation, which Lava's Conv runs.

The rewrite is exact (identical spikes in the same step of the float semantics); the pass is
declared ``LOWERING`` only so that compile's float graph is the attention as written (see the
class). Refused by name: a product with an operand that is not binary spikes (the integer-valued
Q(KᵀV) of QSD/BESTformer, a product of currents): it needs graded spikes and multiplying
synapses, which snnc does not lower yet; a rearrangement feeding a convolution.

Latency: each coincidence neuron and each map synapse into a neuron is one synapse, one step
(``latency.py``). An SDSA block from its input neuron to the Q ⊙ KV spikes is therefore 4 steps
(Q/K/V layer 1, K ⊙ V 2, Σ + talking-heads neuron 3, Q ⊙ KV 4), where the Q path is 2 steps:
``align_paths`` (run by ``quantize-loihi``) delays Q's synapse by 2 (dense synapses hold the
delay), and delays the membrane shortcut of the block likewise. ``loihi.latency`` records D per
node; the report gives it per block.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import UnsupportedOpError
from ..ir import LIF, Conv2d, Flatten, Graph, GraphEditor, Linear, QTensor, Reshape, as_float
from ..ir.traits import Trait, has
from .integer_products import integer_targets, lower_integer
from .manager import Pass, PassContext, Semantics

#: ops that only rearrange values (a permutation of the flat vector)
REARRANGE = ("permute", "reshape", "flatten")
#: fixed linear maps this pass composes into synapse weights
MAPS = ("permute", "broadcast", "axis_sum", "reshape", "flatten", "scale")
#: of those, the ones that are not Loihi wiring (must be composed away)
COMPOSE = ("permute", "broadcast", "axis_sum")


def push(node: Any, x: np.ndarray) -> np.ndarray:
    """Apply the map ``node`` to a batch ``x`` of shape (B, *node's input shape)."""
    op = node.op
    b = x.shape[0]
    if op in ("reshape", "flatten"):
        return x.reshape(b, *node.out_shape)
    if op == "permute":
        return x.transpose((0, *(p + 1 for p in node.perm)))
    if op == "broadcast":
        return np.broadcast_to(x, (b, *node.output_shape))
    if op == "axis_sum":
        return x.sum(axis=tuple(a + 1 for a in node.axes), keepdims=node.keepdim)
    if op == "scale":
        return x * np.asarray(node.scale, dtype=np.float64)
    raise AssertionError(op)


def map_matrix(g: Graph, chain: list[str], src_shape: tuple[int, ...]) -> np.ndarray:
    """The matrix M (n_out, n_src) of the chain of maps ``chain`` (source first)."""
    n = int(np.prod(src_shape))
    x = np.eye(n).reshape(n, *src_shape)
    for name in chain:
        x = push(g.nodes[name], x)
    return np.ascontiguousarray(x.reshape(n, -1).T)


def chain_back(g: Graph, name: str, ops: tuple[str, ...]) -> tuple[str, list[str]]:
    """Walk back from ``name`` through single-input nodes of ``ops``: (source, chain source
    first)."""
    chain: list[str] = []
    while g.nodes[name].op in ops and len(g.predecessors(name)) == 1:
        chain.append(name)
        name = g.predecessors(name)[0]
    return name, chain[::-1]


def _flat_source(g: Graph, ed: GraphEditor, src: str, made: dict[str, str]) -> str:
    shape = g.nodes[src].out_shape
    if len(shape) == 1:
        return src
    if src not in made:
        made[src] = ed.fresh_name(f"{src}_flat")
        ed.add(made[src], Flatten(input_shape=shape)).connect(src, made[src])
    return made[src]


def coincidence_neuron(n: int, k: int) -> LIF:
    """Fires iff all k unit-weight inputs spike in the step (module docstring)."""
    return LIF(shape=(n,), decay_v=np.float64(0.0), threshold=np.float64(k - 1), comparator=">")


def _absorbed_layout(g: Graph, name: str) -> list[str]:
    """The rearrangements after ``name`` that its only consumer chain applies (absorbed into the
    coincidence neuron's layout)."""
    chain: list[str] = []
    cur = name
    while len(g.successors(cur)) == 1:
        nxt = g.successors(cur)[0]
        if g.nodes[nxt].op not in REARRANGE:
            break
        chain.append(nxt)
        cur = nxt
    while chain and g.nodes[chain[-1]].op != "permute":
        chain.pop()  # keep trailing reshapes as wiring (they cost nothing)
    return chain


def drop_zeros(g: Graph, info: dict[str, Any]) -> Graph:
    """Remove products and maps that lost an operand (``prune`` removed a silent source: the
    value is identically zero, so is the product), until none is left; their consumers lose
    that input, which is exact (a zero input)."""
    while True:
        gone = [k for k, v in g.nodes.items()
                if (v.op == "mul" and len(g.predecessors(k)) < v.arity)  # type: ignore[attr-defined]
                or (v.op in MAPS and not g.predecessors(k))]
        if not gone:
            return g
        ed = g.edit()
        for k in gone:
            ed.remove(k)
        info["zero"].extend(gone)
        g = ed.finish()


def _lower_products(g: Graph, ctx: PassContext, info: dict[str, Any]) -> Graph:
    ed = g.edit()
    made: dict[str, str] = {}
    dead: set[str] = set()
    later = integer_targets(g)  # integer_products lowers them
    for name, n in g.nodes.items():
        node: Any = n
        if node.op != "mul" or name in later:
            continue
        operands = []
        for p in g.predecessors(name):
            src, chain = chain_back(g, p, (*REARRANGE, "broadcast"))
            operands.append((src, chain))
        after = _absorbed_layout(g, name)
        size = int(np.prod(node.shape))
        layout = map_matrix(g, after, node.shape) if after else np.eye(size)
        out_shape = g.nodes[after[-1]].out_shape if after else node.shape
        and_name = ed.fresh_name(f"{name}_and")
        ed.add(and_name, coincidence_neuron(size, len(operands)))
        for i, (src, chain) in enumerate(operands):
            m = layout @ map_matrix(g, chain, g.nodes[src].out_shape)
            syn = ed.fresh_name(f"{name}_in{i}")
            ed.add(syn, Linear(weight=m)).connect(_flat_source(g, ed, src, made), syn)
            ed.connect(syn, and_name)
        last = after[-1] if after else name
        view = ed.fresh_name(f"{name}_out")
        ed.add(view, Reshape(input_shape=(size,), output_shape=out_shape))
        ed.connect(and_name, view)
        for s in g.successors(last):
            ed.connect(view, s)
        dead.update((*after, name))  # operand chains go when unused (_drop_unused)
        info["products"][name] = {"neuron": and_name, "operands": [s for s, _ in operands],
                                  "absorbed": after}
    for d in dead:
        if d in ed.nodes:
            ed.remove(d)
    return _drop_unused(ed)


def _drop_unused(ed: GraphEditor) -> Graph:
    """Remove map nodes left without consumers."""
    while True:
        used = {a for a, _ in ed.edges}
        gone = [k for k, v in ed.nodes.items() if v.op in (*MAPS, "broadcast") and k not in used]
        if not gone:
            return ed.finish()
        for k in gone:
            ed.remove(k)


def _lower_maps(g: Graph, info: dict[str, Any]) -> Graph:
    ed = g.edit()
    made: dict[str, str] = {}
    for name, n in g.nodes.items():
        node: Any = n
        if node.op in MAPS:
            continue
        for p in g.predecessors(name):
            src, chain = chain_back(g, p, MAPS)
            if not any(g.nodes[c].op in COMPOSE for c in chain):
                continue
            m = map_matrix(g, chain, g.nodes[src].out_shape)
            flat = _flat_source(g, ed, src, made)
            ed.disconnect(p, name)
            if node.op in ("linear", "affine") and len(g.predecessors(name)) == 1:
                w = as_float(node.weight) @ m
                ed.replace(name, node.replace(weight=w))
                ed.connect(flat, name)
                info["maps"][name] = {"source": src, "folded": chain}
                continue
            if has(node, Trait.SYNAPSE):
                raise UnsupportedOpError(
                    f"node {name!r} ({node.op}) reads {chain[-1]!r} "
                    f"({g.nodes[chain[-1]].op}), a rearrangement of {src!r} that cannot be "
                    "folded into a convolution's shared weights; use a Linear or Conv1d "
                    "projection on the (C, N) layout")
            syn = ed.fresh_name(f"{chain[-1]}_syn")
            ed.add(syn, Linear(weight=m)).connect(flat, syn)
            view = ed.fresh_name(f"{chain[-1]}_view")
            ed.add(view, Reshape(input_shape=(m.shape[0],), output_shape=g.nodes[p].out_shape))
            ed.connect(syn, view).connect(view, name)
            info["maps"][syn] = {"source": src, "folded": chain}
    return _drop_unused(ed)


def fold_layer_scales(g: Graph, info: dict[str, Any]) -> Graph:
    """A ``scale`` (layer scale, ``gamma * block(x)``) that reads one synapse through
    reshapes folds into that synapse's rows (dense) or channels (conv, when the factor is per
    channel); exact in float (``quantize-loihi`` reports whether the product is on its grid).
    Scales that do not fit are left to the error ``quantize-loihi`` gives."""
    for name in [k for k, v in g.nodes.items() if v.op == "scale"]:
        if name not in g.nodes or len(g.predecessors(name)) != 1:
            continue
        src, chain = chain_back(g, g.predecessors(name)[0], ("reshape", "flatten"))
        chain = [*chain, name]
        syn: Any = g.nodes[src]
        if syn.op not in ("linear", "affine", "conv1d", "conv2d") or any(
                len(g.successors(c)) != 1 for c in [src, *chain[:-1]]):
            continue
        factor = np.broadcast_to(np.asarray(g.nodes[name].scale, np.float64),  # type: ignore[attr-defined]
                                 g.nodes[name].out_shape).reshape(syn.out_shape)
        w = as_float(syn.weight)
        b = np.broadcast_to(np.asarray(getattr(syn, "bias", 0.0), np.float64), (w.shape[0],))
        if syn.op in ("linear", "affine"):
            rows = factor.reshape(-1)
        else:
            per_c = factor.reshape(factor.shape[0], -1)
            if not np.all(per_c == per_c[:, :1]):
                continue
            rows = per_c[:, 0]
        w = w * rows.reshape((-1,) + (1,) * (w.ndim - 1))
        new = syn.replace(weight=w, bias=b * rows) if hasattr(syn, "bias") and (
            syn.op != "linear") else syn.replace(weight=w)
        g = g.edit().replace(src, new).bypass(name).finish()
        info["layer_scales"].append(name)
    return g


def _kernel_2d(w: Any) -> Any:
    """A conv1d kernel (O, I, K) as (O, I, K, 1), keeping a quantized weight's grid."""
    if isinstance(w, QTensor):
        scale = w.scale[..., None] if w.scale.ndim == w.mant.ndim else w.scale
        return QTensor(mant=w.mant[..., None], scale=scale, bits=w.bits, signed=w.signed,
                       kind=w.kind)
    return np.asarray(w)[..., None]


def _conv1d_to_2d(g: Graph) -> Graph:
    ed = g.edit()
    for name, n in g.nodes.items():
        node: Any = n
        if node.op != "conv1d":
            continue
        (c, length) = node.input_shape
        conv = Conv2d(input_shape=(c, length, 1), weight=_kernel_2d(node.weight),
                      bias=node.bias, stride=(node.stride[0], 1), padding=(node.padding[0], 0),
                      dilation=(node.dilation[0], 1), groups=node.groups)
        out = node.out_shape
        for p in g.predecessors(name):
            r = ed.fresh_name(f"{name}_2d")
            ed.add(r, Reshape(input_shape=(c, length), output_shape=(c, length, 1)))
            ed.disconnect(p, name).connect(p, r).connect(r, name)
        ed.replace(name, conv)
        for i, s in enumerate(g.successors(name)):  # one view per consumer: the synapse is
            v = ed.fresh_name(f"{name}_1d{i}")      # duplicated per consumer later
            ed.add(v, Reshape(input_shape=(out[0], out[1], 1), output_shape=out))
            ed.disconnect(name, s).connect(name, v).connect(v, s)
    return ed.finish()


def split_views(g: Graph) -> Graph:
    """A reshape/flatten with several consumers becomes one copy per consumer, so that a
    synapse seen through it feeds one neuron group per copy (``normalize`` then duplicates the
    synapse). Exact: wiring costs nothing."""
    while True:
        fan = [k for k, v in g.nodes.items()
               if has(v, Trait.WIRING) and len(g.successors(k)) > 1]
        if not fan:
            return g
        ed = g.edit()
        for k in fan:
            for s in g.successors(k)[1:]:
                c = ed.fresh_name(f"{k}_{s}")
                ed.add(c, g.nodes[k]).disconnect(k, s).connect(c, s)
                for p in g.predecessors(k):
                    ed.connect(p, c)
        g = ed.finish()


@dataclass(frozen=True)
class LowerSpikeProducts(Pass):
    name = "lower-spike-products"
    summary = ("Spike-driven self-attention to Loihi layers: products of binary spikes to "
               "coincidence (AND) neurons, sums over tokens and head rearrangements to 0/1 "
               "synapses, conv1d to conv2d.")
    # Exact (identical spikes, same step, in the float semantics), but declared a lowering: the
    # "float graph" of compile (graph.float.snnc, the fidelity report, the NeuroBench and 45 nm
    # figures) is then the attention as written (mul, axis_sum), which is what the papers'
    # formula counts, not its neuron form. `--check` records its agreement (1.0).
    semantics = Semantics.LOWERING

    def run(self, graph: Graph, ctx: PassContext) -> Graph:
        info: dict[str, Any] = {"products": {}, "maps": {}, "zero": [], "layer_scales": []}
        g = graph
        if any(n.op == "scale" for n in g.nodes.values()):
            g = fold_layer_scales(g, info)
        if any(n.op in ("mul", *COMPOSE) for n in g.nodes.values()):
            g = drop_zeros(g, info)
        if any(n.op == "mul" for n in g.nodes.values()):
            g = _lower_products(g, ctx, info)
        if any(n.op in ("mul", "qcfs") for n in g.nodes.values()):
            g = _drop_unused(lower_integer(g, info).edit())
        if any(n.op in COMPOSE for n in g.nodes.values()):
            g = _lower_maps(g, info)
        if any(n.op == "conv1d" for n in g.nodes.values()):
            g = _conv1d_to_2d(g)
        changed = (info["products"] or info["maps"] or info["zero"] or info["layer_scales"]
                   or info.get("unary"))
        g = split_views(g) if changed else g
        ctx.report(self, **info)
        if changed:
            g = g.with_metadata(**{"loihi.spike_products": info})
        return g
