"""snnc's own graph file (``.snnc``): HDF5, lossless, derived from the node fields.

Layout of a graph group (the file root for ``write_graph``; any group of a bigger file for
``write_graph_group``, which the compiled-program format reuses)::

    attrs      format="snnc-graph", version=1, num_nodes, metadata (JSON), dt (absent when None)
    edges      (E, 2) UTF-8 strings
    nodes/<i>  one group per node, i = 0 .. num_nodes-1 in graph order
      attrs    name, op, params (JSON object of the None / bool / int / float / str / shape fields)
      <field>  dataset for an array field (shape kept, 0-d included; floats as float64, integers
               in the narrowest signed type that holds them: nodes widen them to int64), or a
               group for a QTensor / CodebookTensor (attr kind, fields stored the same way) or
               a nested Graph (attr kind="graph", laid out as above)

Every read problem (missing, truncated, not HDF5, other format, newer version, unknown op,
missing or unknown field, graph that does not verify) raises ``FormatError`` naming the file
and the node and field.
"""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from ..errors import FormatError, IRError
from ..io import atomic_path
from .graph import Graph
from .node import Node, op_class
from .qtensor import CodebookTensor, QTensor

FORMAT = "snnc-graph"
VERSION = 1
SUFFIX = ".snnc"
_TENSORS: dict[str, type] = {"qtensor": QTensor, "codebook": CodebookTensor}
_COMPRESS_MIN = 1024
#: what h5py, numpy and json raise on a corrupt file (each reader turns these into FormatError)
READ_ERRORS = (OSError, KeyError, ValueError, TypeError, RuntimeError, IndexError,
               AttributeError, UnicodeDecodeError, OverflowError, RecursionError, MemoryError)


def write_graph(graph: Graph, path: str | Path) -> Path:
    """Write ``graph`` to an ``.snnc`` file atomically; returns the path."""
    dest = Path(path)
    with atomic_path(dest) as tmp:
        try:
            with h5py.File(tmp, "w") as f:
                write_graph_group(f, graph)
        except OSError as exc:
            raise FormatError(f"{dest}: cannot write the graph file: {exc}") from None
    return dest


def write_graph_group(group: h5py.Group, graph: Graph) -> None:
    """Write ``graph`` into an (empty) HDF5 group."""
    group.attrs["format"] = FORMAT
    group.attrs["version"] = VERSION
    group.attrs["num_nodes"] = len(graph.nodes)
    try:
        group.attrs["metadata"] = json.dumps(dict(graph.metadata), sort_keys=True)
    except (TypeError, ValueError) as exc:
        raise FormatError(f"graph metadata is not JSON-serialisable: {exc}") from None
    if graph.dt is not None:
        group.attrs["dt"] = float(graph.dt)
    edges = np.array(graph.edges, dtype=object).reshape(len(graph.edges), 2)
    group.create_dataset("edges", data=edges, dtype=h5py.string_dtype(), track_times=False)
    nodes = group.create_group("nodes")
    for i, (name, node) in enumerate(graph.nodes.items()):
        sub = nodes.create_group(str(i))
        sub.attrs["name"] = name
        sub.attrs["op"] = node.op
        _write_fields(sub, node.params())


def _write_fields(group: h5py.Group, values: dict[str, Any]) -> None:
    params: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, np.ndarray):
            _write_array(group, key, value)
        elif isinstance(value, QTensor | CodebookTensor):
            sub = group.create_group(key)
            sub.attrs["kind"] = "qtensor" if isinstance(value, QTensor) else "codebook"
            _write_fields(sub, {f.name: getattr(value, f.name) for f in dataclasses.fields(value)})
        elif isinstance(value, Graph):
            sub = group.create_group(key)
            sub.attrs["kind"] = "graph"
            write_graph_group(sub, value)
        else:
            params[key] = _plain(value, key)
    group.attrs["params"] = json.dumps(params, sort_keys=True)


def _write_array(group: h5py.Group, key: str, value: np.ndarray) -> None:
    opts: dict[str, Any] = {}
    if value.dtype.kind in "iu":  # nodes widen integer fields to int64 again when read
        value = _narrowest_int(value)
    elif value.ndim and value.size >= _COMPRESS_MIN:
        opts = {"compression": "gzip", "compression_opts": 4, "shuffle": True}
    group.create_dataset(key, data=value, track_times=False, **opts)


def _narrowest_int(value: np.ndarray) -> np.ndarray:
    """The array in the smallest signed integer type that holds it (fast to read back)."""
    for dtype in (np.int8, np.int16, np.int32):
        info = np.iinfo(dtype)
        if value.size == 0 or (value.min() >= info.min and value.max() <= info.max):
            return value.astype(dtype, copy=False)
    return value


def _plain(value: Any, key: str) -> Any:
    """A JSON-ready copy of a scalar, string, None or tuple field."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value)
    if isinstance(value, tuple | list):
        return [_plain(v, key) for v in value]
    raise FormatError(f"field {key!r}: cannot store a value of type {type(value).__name__}")


# ---- reading ---------------------------------------------------------------------------------


def read_graph(path: str | Path, **_: Any) -> Graph:
    """Read an ``.snnc`` file (extra keyword options of ``snnc.api.load`` are ignored)."""
    from ..readers import open_hdf5

    p = Path(path)
    with open_hdf5(p, "an .snnc graph file (HDF5, written by snnc)") as f:
        return read_graph_group(f, str(p))


def read_graph_group(group: h5py.Group, where: str) -> Graph:
    """Read a graph written by ``write_graph_group``; ``where`` names it in error messages."""
    at = "graph attributes"
    try:
        _check_format(group, where)
        meta = json.loads(_attr(group, "metadata"))
        dt = float(group.attrs["dt"]) if "dt" in group.attrs else None
        edges = [(_text(a), _text(b)) for a, b in
                 read_dataset(group["edges"], f"{where}: edges").reshape(-1, 2)]
        nodes: dict[str, Node] = {}
        for i in range(int(group.attrs["num_nodes"])):
            at = f"node #{i}"
            sub = group["nodes"][str(i)]
            name = _attr(sub, "name")
            at = f"node {name!r}"
            nodes[name] = _read_node(sub, name, f"{where}: {at}")
    except FormatError:
        raise
    except READ_ERRORS as exc:
        raise FormatError(f"{where}: {at}: cannot be read ({exc}); the file is truncated or "
                          "corrupt") from None
    if not isinstance(meta, dict):
        raise FormatError(f"{where}: graph attribute 'metadata' must be a JSON object")
    try:
        return Graph(nodes, tuple(edges), dt, meta)
    except (IRError, *READ_ERRORS) as exc:
        raise FormatError(f"{where}: the graph does not verify: {exc}") from None


def _check_format(group: h5py.Group, where: str) -> None:
    fmt = group.attrs.get("format")
    fmt = _text(fmt) if fmt is not None else None
    if fmt != FORMAT:
        hint = ("it looks like a NIR file: give it the .nir suffix" if "node" in group
                and "version" in group else "expected the attribute format='snnc-graph'")
        raise FormatError(f"{where}: not an snnc graph file ({hint})")
    version = int(group.attrs.get("version", -1))
    if version != VERSION:
        raise FormatError(f"{where}: snnc graph format version {version} is not supported "
                          f"(this snnc reads version {VERSION}); upgrade snnc")


def _read_node(group: h5py.Group, name: str, where: str) -> Node:
    op = _attr(group, "op")
    try:
        cls = op_class(op)
    except IRError:
        raise FormatError(f"{where}: unknown op {op!r} (written by a newer snnc or a plugin "
                          "that is not installed)") from None
    values = _read_fields(group, where)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    for key in values:
        if key not in fields:
            raise FormatError(f"{where}: op {op!r} has no field {key!r}")
    for key, f in fields.items():
        missing = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        if key not in values and missing:
            raise FormatError(f"{where}: field {key!r} of op {op!r} is missing")
    try:
        return cls(**values)
    except (IRError, *READ_ERRORS) as exc:
        raise FormatError(f"{where}: {exc}") from None


def _read_fields(group: h5py.Group, where: str) -> dict[str, Any]:
    params = json.loads(_attr(group, "params"))
    if not isinstance(params, dict):
        raise FormatError(f"{where}: attribute 'params' must be a JSON object")
    values = {k: _tuples(v) for k, v in params.items()}
    for key, item in group.items():
        if isinstance(item, h5py.Dataset):
            value = read_dataset(item, f"{where}: field {key!r}")
            if isinstance(value, np.ndarray):  # nobody else holds it: the node may keep it
                value.setflags(write=False)
            values[key] = value
            continue
        kind = _attr(item, "kind")
        if kind == "graph":
            values[key] = read_graph_group(item, f"{where}: field {key!r}")
        elif kind in _TENSORS:
            try:
                values[key] = _TENSORS[kind](**_read_fields(item, f"{where}: field {key!r}"))
            except (IRError, *READ_ERRORS) as exc:
                raise FormatError(f"{where}: field {key!r}: {exc}") from None
        else:
            raise FormatError(f"{where}: field {key!r} has unknown kind {kind!r}")
    return values


def read_dataset(ds: h5py.Dataset, where: str) -> Any:
    """A dataset's values, refusing ones too large to be real (a small file declaring TBs)."""
    from ..readers import MAX_DATASET_BYTES

    nbytes = int(np.prod(ds.shape, dtype=np.float64) * ds.dtype.itemsize) if ds.shape else 0
    if nbytes > MAX_DATASET_BYTES:
        raise FormatError(f"{where}: declares {nbytes} bytes of data, more than the limit of "
                          f"{MAX_DATASET_BYTES}; the file is corrupt")
    return ds[()]


def h5_reason(exc: BaseException) -> str:
    """The informative part of an h5py error: "file signature not found", "truncated file"."""
    text = str(exc)
    inner = re.search(r"\(([^()]*)\)\s*$", text)
    reason = inner.group(1) if inner else text
    return reason.split(":")[0].strip()[:80] or type(exc).__name__


def _attr(obj: h5py.Group, key: str) -> str:
    if key not in obj.attrs:
        raise KeyError(f"attribute {key!r} is missing")
    return _text(obj.attrs[key])


def _text(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _tuples(value: Any) -> Any:
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value
