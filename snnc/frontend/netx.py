"""Read lava-dl netx ``.net`` files (HDF5) into an IR graph of ``loihi.*`` ops, as netx builds them.

Supported blocks: ``input`` (with or without a LOIHI/CUBA neuron group), ``dense`` (with axonal,
per-input or per-synapse delays -> ``loihi.dense`` ``delays``), ``dense_rec`` (netx's
RecurrentDense: a second ``loihi.dense`` ``layer{k}_rec`` from the layer to itself), ``conv``,
``flatten``, and ``average`` (a host readout, below); SDNN neurons (``netx_sdnn.py``). Every other
block (pool, convT, unpool, concat: netx itself cannot build them; dense_comp with RF neurons)
and every other neuron (RF, ...) raises ``UnsupportedOpError`` naming the layer index;
``num_layers`` stops before it, as in ``netx.hdf5.Network(num_layers=...)``. The arithmetic is
netx's, exactly (shared/reference/loihi.md §4.2): ``du = iDecay - 1``, ``dv = vDecay``,
``vth = vThMant``, ``bias_exp = 6``, ``bias_mant = int(bias)``; dense weights through netx's
``optimize_weight_bits`` and Lava's clip/truncation (``snnc.backends.netx.format``); conv weights
as stored. A dense layer without a neuron group gets netx's non-spiking default (du -1, dv 4096,
vth 2**17).

Names. File layer ``k`` becomes node ``layer{k}`` (its ``loihi.lif``, i.e. the block's output; or
the ``flatten`` op for a flatten layer) and ``layer{k}_syn`` (its ``loihi.dense``/``loihi.conv``).
Probes are therefore ``layer{k}.s``, ``layer{k}.u``, ``layer{k}.v``. The graph input is ``input``
and its output ``output`` (the last layer's spikes). Indices are the file's, not ``net.layers``'.

Input. The ``input`` node has the shape of netx's ``net.inp`` in snnc's (C, H, W) order: the
input neuron's shape, or the first synapse's input (a flatten right after a neuron-less input
is absorbed, so ntidigits' input is (64,)). An input layer with a neuron group becomes
``layer0`` (``loihi.lif``) fed by ``input`` through ``a_in`` (u += a << 6), exactly like a Lava
source connected to ``net.in_layer.neuron.a_in``. netx itself drives that neuron through
``bias_mant`` (tinynet's ``input_bias.npy``); ``set_input_bias`` does the same here (then run
with a zero stimulus). When the input neuron has iDecay = 4096 (du = 4095, every slayer export),
a stimulus held constant in time is equivalent: u = a << 6 each step, so v and the spikes are
those of the bias drive (only the probed u differs). The file's input ``weight``/``bias``
transform is never applied by netx; it is kept in the metadata.

Metadata ``graph.metadata["netx"]``: ``Ts`` and ``tSample`` (from /simulation, or None),
``input`` ("bias": netx drives ``input_layer`` through bias_mant; "synapse": the stimulus feeds
the first synapse), ``input_layer``, ``input_transform``, ``input_shape`` (the stored shape of
a neuron-less input layer, so that the writer restores an absorbed flatten), ``reset_interval`` and
``reset_offset`` (the options; with a reset interval, layer number i of netx's ``net.layers``
(i = 0, 1, ...) gets ``loihi.lif`` reset_offset = reset_offset + 1 + i, as netx does).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from ..backends.netx import format as nf
from ..errors import FormatError, IRError, SnncError, UnsupportedOpError
from ..ir import Flatten, Graph, Input, LoihiConv, LoihiDense, LoihiLIF, Node, Output
from ..ir.serialize import READ_ERRORS
from .netx_sdnn import sdnn_neuron

SUPPORTED = ("input", "dense", "dense_rec", "conv", "flatten", "average")
log = logging.getLogger(__name__)
NOT_IN_NETX = " (netx itself does not run them either: its create_* raises NotImplementedError)"


@dataclass
class _Build:
    """Mutable state while walking the layers."""

    path: Path
    reset_interval: int | None
    reset_offset: int
    input_message_bits: int
    spike_exp: int = 6
    nodes: list[tuple[str, Node]] = field(default_factory=list)
    edges: list[tuple[str, str]] = field(default_factory=list)
    last: str | None = None  # node whose output feeds the next layer
    input_shape: tuple[int, ...] | None = None  # shape of a neuron-less input layer
    flatten: int | None = None  # index of a pending flatten layer
    offset: int = 0
    meta: dict[str, Any] = field(default_factory=dict)

    def add(self, name: str, node: Node, src: str | None) -> str:
        self.nodes.append((name, node))
        if src is not None:
            self.edges.append((src, name))
        return name

    def shape_of(self, name: str) -> tuple[int, ...]:
        return dict(self.nodes)[name].out_shape


def read_netx(
    path: str | Path,
    *,
    num_layers: int | None = None,
    reset_interval: int | None = None,
    reset_offset: int = 0,
    input_message_bits: int = 0,
    input_bias: str | Path | np.ndarray | None = None,
    spike_exp: int = 6,
    skip_layers: int = 0,
    **options: Any,
) -> Graph:
    """Read a netx ``.net`` file; options mirror ``netx.hdf5.Network``'s (see module docstring)."""
    from ..readers import open_hdf5

    if options:
        raise SnncError(
            f"read_netx: unknown options {sorted(options)}; known: num_layers, "
            "reset_interval, reset_offset, input_message_bits, input_bias, spike_exp, "
            "skip_layers"
        )
    p = Path(path)
    if not 0 <= int(spike_exp) <= 7:
        raise SnncError(f"read_netx: spike_exp must be in 0..7, got {spike_exp}")
    b = _Build(p, reset_interval, reset_offset, input_message_bits, int(spike_exp),
               offset=reset_offset + 1)
    with open_hdf5(p, "a lava-dl netx file (.net, HDF5)") as f:
        try:
            if not isinstance(f.get("layer"), h5py.Group):
                raise FormatError(f"{p}: no /layer group; not a lava-dl netx file")
            count = len(f["layer"]) if num_layers is None else min(num_layers, len(f["layer"]))
            for k in range(count):
                _read_layer(b, f["layer"], k)
            sim = f.get("simulation")
            b.meta.update(Ts=_opt_num(sim, "Ts"), tSample=_opt_num(sim, "tSample"))
        except READ_ERRORS as exc:
            raise FormatError(f"{p}: unreadable netx file ({type(exc).__name__}: {exc})") from None
        if skip_layers:
            _skip(b, int(skip_layers), count)
        try:
            graph = _finish(b)
        except (IRError, *READ_ERRORS) as exc:
            raise FormatError(f"{p}: the network does not form a valid graph ({exc})") from None
    return graph if input_bias is None else _with_bias(graph, input_bias)


def set_input_bias(graph: Graph, bias: np.ndarray) -> Graph:
    """netx's input drive: ``bias_mant`` of the input neuron := ``bias`` ((C, H, W) order).

    netx's own arrays are (W, H, C): pass ``bias.transpose(2, 1, 0)``. Run with a zero stimulus.
    The graph's metadata gets ``input_on_chip = True``.
    """
    name = dict(graph.metadata).get("netx", {}).get("input_layer")
    if name is None:
        raise SnncError(
            "set_input_bias: the graph has no netx input neuron (its input layer has "
            "no neuron group; feed the stimulus to the input node instead)"
        )
    node = graph.nodes[name]
    b = np.asarray(bias)
    if b.shape != node.shape or np.any(b != np.trunc(b)):
        raise SnncError(
            f"set_input_bias: bias must be integers of shape {node.shape} (C, H, W), got {b.shape}"
        )
    new = node.replace(bias_mant=b.astype(np.int64), bias_exp=np.asarray(nf.BIAS_EXP))
    # the input is held on the chip: nothing is written from outside per step (the report's
    # management time is then Loihi 2's measured floor, backends/report/system.py)
    return graph.edit().replace(name, new).finish().with_metadata(input_on_chip=True)


# ---- layers ------------------------------------------------------------------------------------


def _read_layer(b: _Build, layers: Any, k: int) -> None:
    if str(k) not in layers:
        raise FormatError(f"{b.path}: /layer/{k} is missing (layers must be numbered 0..N-1)")
    g = layers[str(k)]
    kind = _text(g, "type", b.path, k)
    where = f"{b.path}: layer {k} ({kind})"
    if kind not in SUPPORTED:
        raise UnsupportedOpError(
            f"{where}: snnc's netx reader does not support '{kind}' blocks"
            f"{NOT_IN_NETX if kind in ('pool', 'convT', 'unpool', 'concat') else ''} (supported: "
            f"{', '.join(SUPPORTED)} with LOIHI/CUBA neurons); read the layers before it with "
            f"num_layers={k} (--netx-layers {k} on the command line)"
        )
    if b.meta.get("average") is not None:
        raise UnsupportedOpError(f"{where}: a layer after the average readout (layer "
                                 f"{b.meta['average']['layer']}); read the layers before it "
                                 f"with num_layers={k} (--netx-layers {k})")
    readers = {"input": _input, "dense": _dense, "dense_rec": _dense_rec, "conv": _conv,
               "flatten": _flatten, "average": _average}
    try:
        readers[kind](b, g, k, where)
    except SnncError as exc:
        if str(exc).startswith(str(b.path)):
            raise
        cls = UnsupportedOpError if isinstance(exc, UnsupportedOpError) else FormatError
        raise cls(f"{where}: {exc}") from None
    except READ_ERRORS as exc:
        raise FormatError(f"{where}: malformed field ({type(exc).__name__}: {exc})") from None


def _input(b: _Build, g: Any, k: int, where: str) -> None:
    if b.nodes or b.input_shape is not None:
        raise UnsupportedOpError(f"{where}: an input block after the first layer")
    shape = _shape(g)
    if "neuron" not in g:
        b.input_shape = shape
        b.meta.update(
            input="synapse", input_layer=None, input_transform=None, input_shape=list(shape)
        )
        return
    transform = {
        key: int(np.asarray(g[key][()]).astype(np.int64).reshape(-1)[0]) if key in g else default
        for key, default in (("weight", 64), ("bias", 0))
    }
    b.meta.update(
        input="bias", input_layer=f"layer{k}", input_transform=transform, input_shape=None
    )
    src = b.add("input", Input(shape=shape), None)
    b.last = b.add(f"layer{k}", _lif(b, g["neuron"], shape, None, where, first=True), src)


def _flatten(b: _Build, g: Any, k: int, where: str) -> None:
    if b.last is None and b.input_shape is not None:
        b.input_shape = (int(np.prod(b.input_shape)),)  # netx: net.inp is the next dense's input
        return
    b.flatten = k


def _average(b: _Build, g: Any, k: int, where: str) -> None:
    """slayer's Average readout: the mean of consecutive groups of the last layer's outputs.

    netx does not run it (``create_average`` raises NotImplementedError); it is a host-side
    decoding step, so it is kept in the metadata (``average``: layer index and number of
    groups) and applied by ``average_readout`` to the recorded output, never on the chip."""
    if b.last is None or b.flatten is not None:
        raise FormatError("an average block needs a neuron layer right before it")
    groups = int(np.prod(_shape(g)))
    n = int(np.prod(b.shape_of(b.last)))
    if groups < 1 or n % groups:
        raise FormatError(f"{groups} averaging groups do not divide the previous layer's "
                          f"{n} neurons")
    b.meta["average"] = {"layer": k, "groups": groups}


def average_readout(graph: Graph, output: np.ndarray) -> np.ndarray | None:
    """The file's ``average`` block applied to ``output`` (T, B, *shape): (T, B, groups) means
    of consecutive groups of neurons, as slayer's Average computes it; None without one."""
    spec = dict(graph.metadata).get("netx", {}).get("average")
    if spec is None:
        return None
    out = np.asarray(output, dtype=np.float64)
    return out.reshape(*out.shape[:2], int(spec["groups"]), -1).mean(axis=3)


def _with_bias(graph: Graph, bias: str | Path | np.ndarray) -> Graph:
    """``set_input_bias`` from an array or .npy path, in (C, H, W) or netx's (W, H, C) order."""
    from ..readers import read_array

    arr = bias if isinstance(bias, np.ndarray) else read_array(bias, "the netx input bias")
    name = dict(graph.metadata).get("netx", {}).get("input_layer")
    shape = graph.nodes[name].shape if name is not None else None
    arr = np.asarray(arr)
    if shape is not None and arr.shape != shape and arr.shape == tuple(reversed(shape)):
        arr = arr.transpose(tuple(reversed(range(arr.ndim))))  # netx's (W, H, C)
    if shape is not None and arr.shape != shape:
        raise SnncError(f"the netx input bias has shape {arr.shape}; the input neuron needs "
                        f"{shape} (C, H, W) or netx's {tuple(reversed(shape))} (W, H, C)")
    return set_input_bias(graph, arr)


def _dense(b: _Build, g: Any, k: int, where: str, rec: bool = False) -> None:
    w_file = _ints(g["weight"][()])
    n_out = int(np.prod(_shape(g)))
    w_file = w_file.reshape(n_out, -1) if w_file.ndim == 1 else w_file
    if w_file.shape[0] != n_out:
        raise FormatError(f"weight {w_file.shape} does not give the layer's {n_out} neurons")
    src = _source(b, (w_file.shape[1],), k, where, dense=True)
    n_in = w_file.shape[1]
    if rec:  # netx quantizes both matrices together: one weight_exp, one num_weight_bits
        w_rec = _ints(g["weight_rec"][()])
        w_rec = w_rec.reshape(n_out, -1) if w_rec.ndim == 1 else w_rec
        if w_rec.shape != (n_out, n_out):
            raise FormatError(f"weight_rec {w_rec.shape} must be ({n_out}, {n_out})")
        w_file = np.hstack([w_file, w_rec])
    w, exp, bits = nf.dense_from_file(w_file, where)
    delays = nf.delays_from_file(g["delay"][()], (n_out, n_in), where) if "delay" in g else None
    bits_in = _message_bits(b, src)
    if rec and delays is not None and exp:
        # netx's RecurrentDense builds its DelayDense synapses without weight_exp (lava-dl 0.6.0)
        log.warning("%s: weight_exp %d dropped, as netx's RecurrentDense does with delays",
                    where, exp)
        exp = 0
    syn = LoihiDense(weight=w[:, :n_in], weight_exp=exp, num_weight_bits=bits, delays=delays,
                     num_message_bits=bits_in)
    name = b.add(f"layer{k}_syn", syn, src)
    neuron = g.get("neuron")
    b.last = b.add(f"layer{k}", _lif(b, neuron, (n_out,), _bias(g), where), name)
    if rec:
        if delays is not None and n_in != n_out:
            raise UnsupportedOpError(
                f"{where}: netx gives the recurrent synapses the input synapses' delay matrix "
                f"({n_out}, {n_in}), which does not fit the recurrent ({n_out}, {n_out}) weights")
        # netx (RecurrentDense): the recurrent synapse reads the block's *input* message bits,
        # whatever the neuron sends, and takes the same delays
        loop = LoihiDense(weight=w[:, n_in:], weight_exp=exp, num_weight_bits=bits,
                          delays=delays, num_message_bits=bits_in)
        b.add(f"layer{k}_rec", loop, b.last)
        b.edges.append((f"layer{k}_rec", b.last))


def _dense_rec(b: _Build, g: Any, k: int, where: str) -> None:
    """netx's ``RecurrentDense``: a dense block whose neurons also feed themselves through
    ``weight_rec`` (node ``layer{k}_rec``, one step later like every synapse)."""
    _dense(b, g, k, where, rec=True)


def _conv(b: _Build, g: Any, k: int, where: str) -> None:
    w = _ints(g["weight"][()])
    w = w.reshape(w.shape[:4]) if w.ndim == 5 else w
    if w.ndim != 4:
        raise FormatError(f"conv weight must be (C_out, C_in, kH, kW[, 1]), got {w.shape}")
    if b.flatten is not None:
        raise UnsupportedOpError(f"{where}: a conv block after flatten layer {b.flatten}")
    in_shape = b.input_shape if b.last is None else b.shape_of(b.last)
    if in_shape is None or len(in_shape) != 3:
        raise FormatError(f"conv needs a (C, H, W) input, got {in_shape}")
    src = _source(b, in_shape, k, where, dense=False)
    # netx flips kH, kW and transposes to Lava's (C_out, W, H, C_in) for a true convolution:
    # that is a cross-correlation with the stored kernel, which is loihi.conv's convention.
    syn = LoihiConv(
        input_shape=in_shape,
        weight=w,
        stride=_pair(g, "stride", 1),
        padding=_pair(g, "padding", 0),
        dilation=_pair(g, "dilation", 1),
        groups=int(g["groups"][()]) if "groups" in g else 1,
        num_message_bits=_message_bits(b, src),
    )
    shape = _shape(g)
    if shape != syn.out_shape:
        raise FormatError(f"shape {shape} differs from the conv output {syn.out_shape}")
    name = b.add(f"layer{k}_syn", syn, src)
    b.last = b.add(f"layer{k}", _lif(b, g["neuron"], shape, _bias(g), where), name)


def _source(b: _Build, in_shape: tuple[int, ...], k: int, where: str, dense: bool) -> str:
    """The node feeding a synapse: the last block (through a pending flatten) or the input."""
    if b.last is None:
        if b.input_shape is None and not dense:
            raise FormatError("a conv block needs an input layer before it to give its shape")
        b.meta.setdefault("input_shape", None)
        b.meta.update(input="synapse", input_layer=None, input_transform=None)
        if b.input_shape is not None and int(np.prod(b.input_shape)) != int(np.prod(in_shape)):
            raise FormatError(
                f"input of shape {b.input_shape} does not fit the layer's input {in_shape}"
            )
        return b.add("input", Input(shape=in_shape), None)
    prev = b.shape_of(b.last)
    if dense and b.flatten is not None:
        b.last = b.add(f"layer{b.flatten}", Flatten(input_shape=prev), b.last)
        b.flatten, prev = None, b.shape_of(b.last)
    if prev != tuple(in_shape):
        hint = " (a flatten layer is missing)" if dense and len(prev) > 1 else ""
        raise FormatError(
            f"takes input {tuple(in_shape)} but the previous layer gives {prev}{hint}"
        )
    return b.last


def _message_bits(b: _Build, src: str) -> int:
    """netx: a synapse reads payloads of its source's ``output_message_bits``."""
    if src == "input" and b.meta.get("input") == "synapse":
        return b.input_message_bits
    nodes = dict(b.nodes)
    while isinstance(nodes[src], Flatten):
        src = next(s for s, d in b.edges if d == src)
    return int(getattr(nodes[src], "num_message_bits", 0))


def _lif(
    b: _Build, neuron: Any, shape: tuple[int, ...], bias: np.ndarray | None, where: str,
    first: bool = False,
) -> Node:
    params = nf.DEFAULT_NEURON if neuron is None else _neuron_fields(neuron)
    kind = str(params["type"])
    if kind == "SDNN":
        b.offset += 1
        return sdnn_neuron(params, shape, nf.bias_from_file(bias, shape, where), first,
                           b.spike_exp, b.reset_interval is not None, where)
    if kind not in nf.LIF_TYPES:
        raise UnsupportedOpError(
            f"{where}: '{kind}' neurons are not supported (only LOIHI and CUBA, i.e. Lava's LIF, "
            "and SDNN, Lava's sigma-delta neurons)"
        )
    if int(params.get("messageBits", 0)):
        raise UnsupportedOpError(
            f"{where}: graded LIF output (messageBits={params['messageBits']}) is not supported"
        )
    reset = {}
    if b.reset_interval is not None:
        reset = {"reset_interval": int(b.reset_interval), "reset_offset": b.offset}
    b.offset += 1
    return LoihiLIF(
        shape=shape,
        du=_scalar(params, "iDecay") - 1,
        dv=_scalar(params, "vDecay"),
        vth=_scalar(params, "vThMant"),
        bias_mant=nf.bias_from_file(bias, shape, where),
        bias_exp=nf.BIAS_EXP,
        **reset,
    )


def _neuron_fields(g: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in g:
        val = g[key][()]
        out[key] = val.decode("ascii") if isinstance(val, bytes) else val
    return out


def _skip(b: _Build, skip: int, count: int) -> None:
    """netx's ``skip_layers``: the first ``skip`` layers are read (they give the message bits of
    what follows) but not built; the stimulus enters the first kept layer's synapse, as lava-dl
    connects a source to ``net.in_layer.synapse.s_in`` (PilotNet SDNN's square network)."""
    if not 0 < skip < count:
        raise SnncError(f"skip_layers={skip}: the file has {count} layers to read; skip 1.."
                        f"{count - 1}")
    if b.reset_interval is not None:
        raise UnsupportedOpError("skip_layers with reset_interval: netx offsets the kept "
                                 "layers' resets differently; not supported")
    first = f"layer{skip}_syn"
    names = dict(b.nodes)
    if first not in names:
        raise UnsupportedOpError(f"{b.path}: layer {skip} is not a dense or conv block; "
                                 "skip_layers must leave a synapse first")
    keep = {n for n in names if n == "output" or not n.startswith("layer")
            or int(n[5:].split("_")[0]) >= skip} - {"input"}
    if b.last not in keep:
        raise SnncError(f"skip_layers={skip} leaves no layer with neurons")
    syn = names[first]
    b.nodes = [("input", Input(shape=syn.in_shape))] + [(n, v) for n, v in b.nodes if n in keep]
    b.edges = [("input", first)] + [(u, v) for u, v in b.edges if u in keep and v in keep]
    b.meta.update(input="synapse", input_layer=None, input_transform=None, input_shape=None,
                  skip_layers=skip, input_message_bits=int(syn.num_message_bits))


def _finish(b: _Build) -> Graph:
    if b.last is None:
        raise FormatError(f"{b.path}: no layer with neurons to read")
    b.add("output", Output(shape=b.shape_of(b.last)), b.last)
    b.meta.update(reset_interval=b.reset_interval, reset_offset=b.reset_offset)
    nodes = sorted(b.nodes, key=lambda item: item[0] != "input")
    return Graph.build(nodes, b.edges, metadata={"netx": dict(sorted(b.meta.items()))})


# ---- field helpers -----------------------------------------------------------------------------


def _text(g: Any, key: str, path: Path, k: int) -> str:
    if key not in g:
        raise FormatError(f"{path}: layer {k} has no '{key}' field")
    val = g[key][()]
    val = val.reshape(-1)[0] if isinstance(val, np.ndarray) else val
    return val.decode("ascii") if isinstance(val, bytes) else str(val)


def _shape(g: Any) -> tuple[int, ...]:
    return tuple(int(v) for v in np.atleast_1d(g["shape"][()]))


def _ints(x: Any) -> np.ndarray:
    return np.trunc(np.asarray(x, dtype=np.float64)).astype(np.int64)  # netx: astype(int)


def _bias(g: Any) -> np.ndarray | None:
    return g["bias"][()] if "bias" in g else None


def _pair(g: Any, key: str, default: int) -> tuple[int, int]:
    v = np.atleast_1d(g[key][()]) if key in g else np.array([default])
    return (int(v[0]), int(v[0])) if v.size == 1 else (int(v[0]), int(v[1]))


def _scalar(params: dict[str, Any], key: str) -> int:
    if key not in params:
        raise FormatError(f"neuron group has no '{key}'")
    v = np.asarray(params[key])
    if v.size != 1:
        raise UnsupportedOpError(f"per-neuron '{key}' values are not supported")
    return int(v.reshape(-1)[0])


def _opt_num(group: Any, key: str) -> int | float | None:
    if group is None or key not in group:
        return None
    value = float(np.asarray(group[key][()]))
    return int(value) if value.is_integer() else value
