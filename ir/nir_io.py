"""NIR exchange: ``read_nir`` / ``write_nir`` (files) and ``from_nir`` / ``to_nir`` (objects).

The op mapping and its forward-Euler formulas are in ``ir/nir_nodes.py``. ``dt`` is always
explicit: writing needs ``dt`` (argument or ``graph.dt``); reading takes the ``dt`` that snnc
recorded in the file, else the ``dt`` argument (``--dt``), which is required when the graph has
neurons or delays.

What NIR cannot say travels in NIR metadata under ``snnc.*`` keys, so a file written by snnc reads
back structurally equal to the original graph:

- per node: ``snnc.op`` (the snnc op when it differs from the NIR type's twin, e.g. ``add``
  written as Scale), ``snnc.fields`` (in the text form's value syntax: every field whose value the
  NIR parameters do not reproduce exactly, e.g. ``reset="subtract"``, ``comparator=">="``, a bias
  on IF, array shapes, exact decays), ``snnc.q.<field>`` (a quantized weight's scale and bit
  width; its mantissas are the NIR weight divided by the scale) and ``snnc.digest`` (a hash of
  the node's NIR parameters: when another tool changed them, the snnc keys are stale and ignored);
- per graph: ``snnc.version``, ``snnc.dt`` (the step used to convert), ``snnc.graph_dt``,
  ``snnc.order`` (node order) and ``snnc.metadata`` (the graph metadata, JSON).

Other tools ignore these keys and see the plain NIR meaning of each node.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import BackendError, FormatError, IRError, SnncError, UnsupportedOpError
from ..io import atomic_path
from .graph import Graph, Subgraph
from .nir_meta import apply_metadata, digest, export_with_metadata, keep_flags
from .nir_nodes import DT_TYPES, import_node
from .node import Node
from .serialize import h5_reason

log = logging.getLogger(__name__)
SNNC_NIR_VERSION = "1"


def import_nir() -> Any:
    """The ``nir`` module, or a clear error telling how to install it."""
    try:
        import nir
    except ImportError:
        raise BackendError("reading and writing NIR needs the 'nir' package: "
                           "pip install 'snnc[nir]'") from None
    return nir


# ---- files -----------------------------------------------------------------------------------


def write_nir(graph: Graph, path: str | Path, dt: float | None = None) -> Path:
    """Write ``graph`` as a NIR file (atomically); ``dt`` defaults to ``graph.dt``."""
    nir = import_nir()
    nir_graph = to_nir(graph, dt)
    dest = Path(path)
    with atomic_path(dest) as tmp:
        nir.write(tmp, nir_graph)
    return dest


def read_nir(path: str | Path, dt: float | None = None, **_: Any) -> Graph:
    """Read a NIR file; ``dt`` is needed unless snnc wrote the file (it records its dt).

    A file from another tool whose neurons reset (IF, LIF, CubaLIF) gets a ``load_notes``
    entry: NIR resets them to ``v_reset``, so a subtract reset does not survive the export."""
    p = Path(path)
    nir_graph = read_nir_graph(p)
    try:
        graph = from_nir(nir_graph, dt, where=str(p))
    except (KeyError, IndexError, TypeError, ValueError, AttributeError, OverflowError) as exc:
        raise FormatError(f"{p}: malformed snnc metadata or NIR graph ({type(exc).__name__}: "
                          f"{exc})") from None
    note = reset_note(nir_graph, p.name)
    return graph.with_metadata(load_notes=[note]) if note else graph


RESETTING = ("IF", "LIF", "CubaLIF")


def reset_note(nir_graph: Any, where: str) -> str | None:
    """The note on NIR's reset semantics for a file snnc did not write, or None."""
    if "snnc.version" in dict(getattr(nir_graph, "metadata", None) or {}):
        return None  # snnc records a subtract reset in its own metadata: read back exactly

    def kinds(g: Any) -> list[str]:
        out = []
        for n in g.nodes.values():
            k = type(n).__name__
            out += kinds(n) if k == "NIRGraph" else [k] if k in RESETTING else []
        return out

    found = sorted(set(kinds(nir_graph)))
    if not found:
        return None
    return (f"{where}: NIR's {'/'.join(found)} neurons reset the membrane to v_reset (a hard "
            "reset), and that is the model snnc reads; NIR cannot state a subtract reset, so "
            "snnTorch's export_to_nir drops it (snnTorch's default). If the model was trained "
            "with a subtract reset, compile the PyTorch model itself instead")


def read_nir_graph(path: str | Path) -> Any:
    """The ``nir.NIRGraph`` in a NIR file, read defensively (``FormatError`` if it is not one)."""
    nir = import_nir()
    p = Path(path)
    if not p.exists():
        raise FormatError(f"{p}: no such file")
    if p.is_dir():
        raise FormatError(f"{p}: is a directory, expected a .nir file")
    try:

        from ..readers import open_hdf5

        with open_hdf5(p, "a NIR file (.nir, HDF5)") as f:
            if f.attrs.get("format") == "snnc-graph":
                raise FormatError(f"{p}: this is an snnc graph file; give it the .snnc suffix")
            if "node" not in f:
                raise FormatError(f"{p}: not a NIR file (no 'node' group)")
            nir_graph = _dict_to_nir(nir, nir.serialization.hdf2dict(f["node"]))
    except SnncError:
        raise
    except Exception as exc:  # nir's reader raises anything on a bad file
        raise FormatError(f"{p}: not a readable NIR file ({h5_reason(exc)})") from None
    return nir_graph


def _dict_to_nir(nir: Any, d: dict[str, Any]) -> Any:
    """``nir.dict2NIRNode`` without type inference, which would add nodes to nested graphs."""
    if d.get("type") != "NIRGraph":
        return nir.dict2NIRNode(d)
    nodes = {k: _dict_to_nir(nir, v) for k, v in d["nodes"].items()}
    edges = [(_text(a), _text(b)) for a, b in d.get("edges", [])]
    return nir.NIRGraph(nodes=nodes, edges=edges, metadata=d.get("metadata") or {},
                        type_check=False)


# ---- export ----------------------------------------------------------------------------------


def to_nir(graph: Graph, dt: float | None = None) -> Any:
    """A ``nir.NIRGraph`` for ``graph`` with time step ``dt`` (default ``graph.dt``)."""
    if dt is None:
        dt = graph.dt
    if dt is None:
        raise FormatError("cannot write NIR for a graph without a time step: NIR is "
                          "continuous-time; give dt (--dt)")
    if graph.dt is not None and float(dt) != graph.dt:
        raise FormatError(f"the graph was built for dt={graph.dt}, not dt={dt}; its discrete "
                          "parameters only mean something at its own dt")
    return _to_nir(import_nir(), graph, float(dt))


def _to_nir(nir: Any, graph: Graph, dt: float) -> Any:
    nodes = {}
    for name, node in graph.nodes.items():
        if "/" in name:
            raise FormatError(f"node name {name!r} contains '/', which NIR files cannot hold")
        if isinstance(node, Subgraph):
            nodes[name] = _to_nir(nir, node.graph, dt)
        else:
            nodes[name] = export_with_metadata(nir, name, node, dt)
    try:
        meta = json.dumps(dict(graph.metadata), sort_keys=True)
    except (TypeError, ValueError) as exc:
        raise FormatError(f"graph metadata is not JSON-serialisable: {exc}") from None
    metadata = {"snnc.version": SNNC_NIR_VERSION, "snnc.dt": repr(dt),
                "snnc.graph_dt": repr(graph.dt) if graph.dt is not None else "none",
                "snnc.order": json.dumps(list(graph.nodes)), "snnc.metadata": meta}
    return nir.NIRGraph(nodes=nodes, edges=[tuple(e) for e in graph.edges], metadata=metadata,
                        type_check=False)


# ---- import ----------------------------------------------------------------------------------


def from_nir(nir_graph: Any, dt: float | None = None, where: str = "NIR graph") -> Graph:
    """An IR ``Graph`` from a ``nir.NIRGraph`` (see the module docstring for ``dt``)."""
    meta = dict(getattr(nir_graph, "metadata", None) or {})
    file_dt = _float_or_none(meta.get("snnc.dt"))
    use_dt = float(dt) if dt is not None else file_dt
    redisc = dt is not None and file_dt is not None and float(dt) != file_dt
    if redisc:
        log.warning("%s: re-discretising at dt=%s (written at dt=%s): the exact snnc values of "
                    "neurons and delays are dropped", where, dt, file_dt)
    try:
        return _from_nir(nir_graph, use_dt, redisc, where)
    except (KeyError, IndexError, TypeError, ValueError, AttributeError, OverflowError) as exc:
        raise FormatError(f"{where}: malformed NIR graph ({type(exc).__name__}: {exc})") from None
    except (IRError, UnsupportedOpError, FormatError) as exc:
        msg = str(exc)
        cls = UnsupportedOpError if isinstance(exc, UnsupportedOpError) else FormatError
        raise cls(msg if msg.startswith(where) else f"{where}: {msg}") from None


def _from_nir(nir_graph: Any, dt: float | None, redisc: bool, where: str) -> Graph:
    meta = dict(getattr(nir_graph, "metadata", None) or {})
    edges = [(_text(a), _text(b)) for a, b in nir_graph.edges]
    nodes = _convert_nodes(nir_graph.nodes, edges, dt, redisc, where)
    snnc = "snnc.version" in meta
    graph_dt = dt if (redisc or not snnc) else _float_or_none(meta.get("snnc.graph_dt"))
    metadata = json.loads(_text(meta["snnc.metadata"])) if "snnc.metadata" in meta else {}
    order = json.loads(_text(meta["snnc.order"])) if "snnc.order" in meta else []
    if sorted(order) != sorted(nodes):
        order = list(Graph(nodes, tuple(edges)).schedule().order)
    return Graph({k: nodes[k] for k in order}, tuple(edges), graph_dt, metadata)


def _bfs_order(names: list[str], edges: list[tuple[str, str]]) -> list[str]:
    has_pred = {b for _, b in edges}
    order = [n for n in names if n not in has_pred]
    seen = set(order)
    for n in order:  # grows while iterating
        for a, b in edges:
            if a == n and b not in seen:
                seen.add(b)
                order.append(b)
    return order + [n for n in names if n not in seen]


def _convert_nodes(nir_nodes: dict[str, Any], edges: list[tuple[str, str]], dt: float | None,
                   redisc: bool, where: str) -> dict[str, Node]:
    """Convert node by node, taking input shapes from already converted predecessors."""
    preds = {name: [a for a, b in edges if b == name] for name in nir_nodes}
    todo = _bfs_order(list(nir_nodes), edges)
    done: dict[str, Node] = {}
    while todo:
        left = []
        for name in todo:
            in_shape = next((done[p].out_shape for p in preds[name] if p in done), None)
            node = _import(nir_nodes[name], name, in_shape, dt, redisc, where)
            if node is None:
                left.append(name)
            else:
                done[name] = node
        if len(left) == len(todo):
            raise FormatError(f"cannot infer the input shape of NIR node(s) {left}: they need a "
                              "predecessor of known shape")
        todo = left
    return _fix_flatten(done, edges)


def _import(n: Any, name: str, in_shape: Any, dt: float | None, redisc: bool,
            where: str) -> Node | None:
    if type(n).__name__ == "NIRGraph":
        return Subgraph(graph=_from_nir(n, dt, redisc, f"{where}: {name}"))
    base = import_node(name, n, in_shape, dt)
    meta = {k: _text(v) for k, v in (getattr(n, "metadata", None) or {}).items()
            if k.startswith("snnc.")}
    if base is None or not meta:
        return base
    if meta.get("snnc.digest") != digest(n):
        log.warning("%s: node %r: its NIR parameters changed since snnc wrote them; ignoring "
                    "its snnc.* metadata", where, name)
        return base
    if redisc and type(n).__name__ in DT_TYPES:
        meta = keep_flags(meta)
    return apply_metadata(base, meta, f"{where}: node {name!r}")


def _fix_flatten(nodes: dict[str, Node], edges: list[tuple[str, str]]) -> dict[str, Node]:
    """Accept a Flatten whose start_dim counted the batch dim (a known exporter quirk)."""
    for name, node in nodes.items():
        succ = [nodes[b].in_shape for a, b in edges if a == name]
        if node.op != "flatten" or not succ or all(s == node.out_shape for s in succ):
            continue
        s, e = node.start_dim, node.end_dim  # type: ignore[attr-defined]
        try:
            alt = node.replace(start_dim=s - 1, end_dim=e - 1 if e > 0 else e)
        except IRError:
            continue
        if s > 0 and all(x == alt.out_shape for x in succ):
            log.warning("NIR Flatten %r: start_dim=%d counts the batch dimension; using %d",
                        name, s, s - 1)
            nodes[name] = alt
    return nodes


def _float_or_none(value: Any) -> float | None:
    if value is None:
        return None
    text = _text(value)
    return None if text == "none" else float(text)


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return _text(value.item())
    return str(value)
