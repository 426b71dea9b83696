"""Write a lowered graph (``loihi.*`` ops in a chain) as a lava-dl netx ``.net`` file.

The layout mirrors what slayer exports and netx reads (shared/reference/loihi.md §4.1, checked
against the shipped ``tiny.net``, ``mnist.net`` and ``ntidigits.net``): ``/layer/<i>/type`` as a
fixed-length ASCII array of shape (1,), ``shape`` int64 in (C, H, W) order, weights, biases and
delays float32, every other number int64; neuron groups with a variable-length UTF-8 ``type``
("LOIHI") and int64 ``iDecay = du + 1``, ``vDecay = dv``, ``vThMant = vth``, ``refDelay = 1``;
``/simulation/Ts`` and ``tSample`` int64 scalars (``Ts`` float64 when it is not whole).

Accepted graphs: ``input`` -> [``loihi.lif`` (the input neuron)] -> (``flatten`` | synapse ->
``loihi.lif``)* -> ``output``, with synapses ``loihi.dense`` (optionally with ``delays``) and
``loihi.conv``. Dense weights are written as the integers netx reads back to the same currents
(checked by running netx's weight-bit search on them); a synapse whose arithmetic netx cannot
express raises ``UnsupportedOpError``. What a ``.net`` file cannot hold: periodic resets
(``reset_interval`` is a run option of netx: pass it again to ``netx.hdf5.Network`` or
``read_netx``) and the input message bits (``input_message_bits``); the writer logs them.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from ...errors import UnsupportedOpError
from ...io import atomic_path
from ...ir import Graph, Node
from . import format as nf

log = logging.getLogger(__name__)

Layer = dict[str, Any]


def write_netx(graph: Graph, path: str | Path, *, t_sample: int | None = None) -> Path:
    """Write ``graph`` to ``path`` as a netx ``.net`` file; returns the path."""
    import h5py

    layers = plan_layers(graph)
    meta = dict(dict(graph.metadata).get("netx", {}))
    ts = meta.get("Ts") or 1
    sim: Layer = {"Ts": np.int64(ts) if float(ts).is_integer() else np.float64(ts)}
    t_sample = t_sample if t_sample is not None else meta.get("tSample")
    if t_sample is not None:
        sim["tSample"] = np.int64(t_sample)
    dest = Path(path)
    with atomic_path(dest) as tmp, h5py.File(tmp, "w") as f:
        group = f.create_group("layer")
        for i, layer in enumerate(layers):
            _write_group(group.create_group(str(i)), layer)
        _write_group(f.create_group("simulation"), sim)
    return dest


def plan_layers(graph: Graph) -> list[Layer]:
    """The netx layers of ``graph`` as nested dicts of arrays (``type`` as str)."""
    chain = _chain(graph)
    nodes = [graph.nodes[n] for n in chain]
    for name, node in zip(chain, nodes, strict=True):
        if getattr(node, "programmable", False):
            raise UnsupportedOpError(
                f"layer {name!r}: netx's LIF resets v to 0 and compares with '>'; this layer "
                f"uses Loihi 2's programmable neuron (comparator {node.comparator!r}, reset "
                f"{node.reset!r}), which a .net file cannot say. Use --target loihi-sim "
                "--chip loihi2 or --target lava.")
    meta = dict(dict(graph.metadata).get("netx", {}))
    _warn_run_options(graph, chain)
    if nodes[1].op == "loihi.lif":
        layers, i = [_input_layer(nodes[0].shape, nodes[1], chain[1], meta)], 2
    else:
        layers, i = _plain_input(nodes[0].shape, nodes[1], meta), 1
    while i < len(nodes) - 1:
        node, name = nodes[i], chain[i]
        if node.op in ("flatten", "reshape"):
            layers.append(_flatten_layer(node, name, nodes[i + 1]))
            i += 1
            continue
        if node.op not in ("loihi.dense", "loihi.conv"):
            raise UnsupportedOpError(
                f"node {name!r} ({node.op}): netx files hold loihi.dense, "
                "loihi.conv, loihi.lif and flatten only; lower the graph first"
            )
        lif = nodes[i + 1]
        if lif.op != "loihi.lif":
            raise UnsupportedOpError(
                f"synapse {name!r} feeds {chain[i + 1]!r} ({lif.op}); every "
                "netx block ends in a loihi.lif neuron"
            )
        if node.num_message_bits and i > 1:
            raise UnsupportedOpError(
                f"synapse {name!r} takes {node.num_message_bits}-bit graded "
                "input; netx's LIF layers send binary spikes"
            )
        block = _dense_layer(node, name) if node.op == "loihi.dense" else _conv_layer(node, name)
        fields = _neuron_fields(lif, chain[i + 1])
        if _is_default_neuron(fields):
            del fields["neuron"]  # as slayer writes a synapse-only last layer (mnist.net)
        layers.append({**block, **fields})
        i += 2
    return layers


def _chain(graph: Graph) -> list[str]:
    if len(graph.inputs) != 1 or len(graph.outputs) != 1:
        raise UnsupportedOpError(
            f"netx files have one input and one output; the graph has "
            f"inputs {graph.inputs} and outputs {graph.outputs}"
        )
    chain = [graph.inputs[0]]
    while chain[-1] != graph.outputs[0]:
        succ = graph.successors(chain[-1])
        if len(succ) != 1 or len(graph.predecessors(succ[0])) != 1 or succ[0] in chain:
            raise UnsupportedOpError(
                f"node {chain[-1]!r} does not continue a simple chain "
                f"(successors {succ}); netx files hold a chain of layers"
            )
        chain.append(succ[0])
    if len(chain) != len(graph.nodes) or len(chain) < 3:
        raise UnsupportedOpError(
            "netx files hold a chain from input to output with at least one "
            f"neuron layer; the graph has {len(graph.nodes)} nodes"
        )
    return chain


def _warn_run_options(graph: Graph, chain: list[str]) -> None:
    intervals = {graph.nodes[n].reset_interval for n in chain if graph.nodes[n].op == "loihi.lif"}
    if intervals - {0}:
        log.warning(
            "netx files do not store periodic resets (reset_interval %s); pass "
            "reset_interval again when loading the file",
            sorted(intervals - {0}),
        )
    first = graph.nodes[chain[1]]
    if first.op in ("loihi.dense", "loihi.conv") and first.num_message_bits:
        log.warning(
            "netx files do not store input message bits; load with input_message_bits=%d",
            first.num_message_bits,
        )


def _input_layer(shape: tuple[int, ...], lif: Node, name: str, meta: dict[str, Any]) -> Layer:
    if lif.shape != tuple(shape):
        raise UnsupportedOpError(
            f"input neuron {name!r} has shape {lif.shape}, the input {tuple(shape)}"
        )
    if np.any(lif.bias_mant):
        raise UnsupportedOpError(
            f"input neuron {name!r} has a bias; netx never applies an input "
            "layer's stored bias (it is set at run time): clear bias_mant"
        )
    transform = meta.get("input_transform") or {}
    layer: Layer = {
        "type": "input",
        "shape": _ints(shape),
        "weight": np.array([transform.get("weight", 64)], np.float32),
        "bias": np.array([transform.get("bias", 0)], np.float32),
    }
    layer["neuron"] = _neuron_fields(lif, name)["neuron"]
    return layer


def _plain_input(shape: tuple[int, ...], first: Node, meta: dict[str, Any]) -> list[Layer]:
    """A neuron-less input layer; restores the stored (C, H, W) shape and its flatten."""
    stored = tuple(meta.get("input_shape") or ())
    if (
        first.op == "loihi.dense"
        and len(stored) > 1
        and len(shape) == 1
        and int(np.prod(stored)) == shape[0]
    ):
        return [
            {"type": "input", "shape": _ints(stored)},
            {"type": "flatten", "shape": _ints((shape[0], 1, 1))},
        ]
    return [{"type": "input", "shape": _ints(shape)}]


def _flatten_layer(node: Node, name: str, nxt: Node) -> Layer:
    out = node.out_shape
    if len(out) != 1:
        raise UnsupportedOpError(f"{node.op} {name!r} gives {out}; netx flattens to 1-d only")
    if nxt.op != "loihi.dense":
        raise UnsupportedOpError(
            f"{node.op} {name!r} feeds a {nxt.op}; netx applies a flatten "
            "only to the input of the next dense layer"
        )
    return {"type": "flatten", "shape": _ints((out[0], 1, 1))}


def _dense_layer(syn: Node, name: str) -> Layer:
    w = nf.dense_to_file(syn.weight, syn.num_weight_bits, syn.weight_exp, f"dense {name!r}")
    n_out, n_in = w.shape
    layer: Layer = {
        "type": "dense",
        "shape": _ints((n_out,)),
        "inFeatures": np.int64(n_in),
        "outFeatures": np.int64(n_out),
        "weight": w.astype(np.float32),
    }
    if syn.delays is not None:
        layer["delay"] = nf.delays_to_file(syn.delays, w.shape)
    return layer


def _conv_layer(syn: Node, name: str) -> Layer:
    if syn.weight_exp != 0:
        raise UnsupportedOpError(
            f"conv {name!r} has weight_exp={syn.weight_exp}; Lava's Conv (and "
            "so netx) ignores weight_exp: fold it into the weights first"
        )
    c_out, _, kh, kw = syn.weight.shape
    return {
        "type": "conv",
        "shape": _ints(syn.out_shape),
        "inChannels": np.int64(syn.in_shape[0]),
        "outChannels": np.int64(c_out),
        "kernelSize": _ints((kh, kw)),
        "stride": _ints(syn.stride),
        "padding": _ints(syn.padding),
        "dilation": _ints(syn.dilation),
        "groups": np.int64(syn.groups),
        "weight": syn.weight[..., None].astype(np.float32),
    }


def _neuron_fields(lif: Node, name: str) -> Layer:
    """``neuron`` group and ``bias`` dataset of a loihi.lif (netx fixes bias_exp = 6)."""
    neuron: Layer = {"type": "LOIHI"}
    for field, key, offset in (("du", "iDecay", 1), ("dv", "vDecay", 0), ("vth", "vThMant", 0)):
        value = nf.uniform(getattr(lif, field))
        if value.ndim:
            raise UnsupportedOpError(
                f"neuron {name!r} has per-neuron {field}; netx holds one value per layer"
            )
        neuron[key] = np.int64(int(value) + offset)
    neuron["refDelay"] = np.int64(1)
    exp = np.broadcast_to(lif.bias_exp, lif.shape)
    mant = np.broadcast_to(lif.bias_mant, lif.shape)
    bias = np.where(exp >= 0, mant << np.maximum(exp, 0), mant >> np.maximum(-exp, 0))
    if np.any(bias % (1 << nf.BIAS_EXP)):
        raise UnsupportedOpError(
            f"neuron {name!r}: bias {bias.min()}..{bias.max()} is not a "
            f"multiple of 2**{nf.BIAS_EXP}; netx fixes bias_exp = 6"
        )
    layer: Layer = {"neuron": neuron}
    stored = nf.bias_to_file(nf.uniform(bias >> nf.BIAS_EXP), lif.shape)
    if stored is not None:
        layer["bias"] = stored
    return layer


def _is_default_neuron(fields: Layer) -> bool:
    neuron = fields["neuron"]
    return all(
        int(neuron[key]) == nf.DEFAULT_NEURON[key] for key in ("iDecay", "vDecay", "vThMant")
    )


def _write_group(group: Any, content: Layer) -> None:
    import h5py

    for key, value in content.items():
        if isinstance(value, dict):
            _write_group(group.create_group(key), value)
        elif key == "type" and group.name.endswith("/neuron"):
            group.create_dataset(key, data=value, dtype=h5py.string_dtype("utf-8"))
        elif key == "type":
            group.create_dataset(key, data=np.array([value.encode("ascii")], nf.LAYER_TYPE_DTYPE))
        else:
            group.create_dataset(key, data=value)


def _ints(values: Any) -> np.ndarray:
    return np.asarray(values, dtype=np.int64).reshape(-1)
