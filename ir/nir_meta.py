"""The ``snnc.*`` NIR metadata: what NIR cannot say, carried so that snnc reads it back exactly.

On export, each node's NIR twin is read back at once; every field the NIR parameters do not
reproduce exactly goes into ``snnc.fields`` (text-form value syntax), a different snnc op into
``snnc.op``, a quantized weight's scale and bit width into ``snnc.q.<field>`` (its mantissas are
the NIR weight divided by the scale), and ``snnc.digest`` hashes the NIR parameters so that keys
made stale by another tool's edits are ignored. Export checks that the result is lossless.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from typing import Any

import numpy as np

from ..errors import FormatError, IRError, SnncError
from .nir_nodes import export_node, import_node
from .node import Node, as_float, op_class, values_equal
from .qtensor import QTensor
from .text import format_fields, parse_fields

log = logging.getLogger("snnc.ir.nir_io")


def export_with_metadata(nir: Any, name: str, node: Node, dt: float) -> Any:
    """The NIR node for ``node``, with ``snnc.*`` metadata for whatever NIR cannot say."""
    base = export_node(name, node, dt, nir)
    back = import_node(name, base, node.in_shape, dt)
    if back is None:
        raise SnncError(f"internal error: NIR export of node {name!r} cannot be read back")
    changed = {f.name: getattr(node, f.name) for f in dataclasses.fields(node)
               if not (hasattr(back, f.name) and values_equal(getattr(back, f.name),
                                                             getattr(node, f.name)))}
    meta: dict[str, str] = {}
    if back.op != node.op:
        meta["snnc.op"] = node.op
    for key, value in list(changed.items()):
        if isinstance(value, QTensor) and _qweight(back, key, _qparams(value)) == value:
            meta[f"snnc.q.{key}"] = format_fields(_qparams(value))
            del changed[key]
    if changed:
        meta["snnc.fields"] = format_fields(changed)
    if meta:
        meta["snnc.digest"] = digest(base)
        base.metadata.update(meta)
        if apply_metadata(back, meta, name) != node:
            raise SnncError(f"internal error: NIR export of node {name!r} is not lossless")
    extras = _snnc_only(node, changed, meta)
    if extras:
        log.warning("node %r: NIR cannot express %s; kept in snnc.* metadata, which other NIR "
                    "tools ignore", name, extras)
    return base


def _snnc_only(node: Node, changed: dict[str, Any], meta: dict[str, str]) -> str:
    """The semantic extensions other NIR tools will miss (for a warning)."""
    ignore = {"gain", "bias", "decay_v", "decay_i", "gain_i", "threshold", "v_reset", "scale",
              "delay", "shape", "input_shape", "start_dim", "end_dim"}
    items = [f"op {node.op!r}"] if "snnc.op" in meta and node.op not in ("add", "batchnorm",
                                                                         "reshape") else []
    items += [f"{k}={v!r}" for k, v in changed.items() if k not in ignore
              and isinstance(v, str | bool)]
    if node.op in ("i", "if") and "bias" in changed:
        items.append("a bias")
    if "v_init" in changed:
        items.append("v_init")
    return ", ".join(items)


def _qparams(q: QTensor) -> dict[str, Any]:
    return {"scale": q.scale, "bits": q.bits, "signed": q.signed, "kind": q.kind}


def _qweight(base: Node, key: str, params: dict[str, Any]) -> QTensor | None:
    w = as_float(getattr(base, key, None))
    if w is None:
        return None
    with np.errstate(divide="ignore", invalid="ignore"):
        mant = np.nan_to_num(np.rint(w / params["scale"]))
    try:
        return QTensor(mant=mant, **params)
    except (IRError, ValueError, TypeError):
        return None


def digest(n: Any) -> str:
    """A short hash of a NIR node's parameters (type, field names, shapes, float64 values)."""
    h = hashlib.sha256(type(n).__name__.encode())
    fields = [f.name for f in dataclasses.fields(n) if f.name not in
              ("metadata", "input_type", "output_type")]
    values = {k: getattr(n, k) for k in fields}
    if type(n).__name__ in ("Input", "Flatten"):
        values["input_type"] = n.input_type["input"]
    if type(n).__name__ == "Output":
        values["output_type"] = n.output_type["output"]
    for key in sorted(values):
        v = values[key]
        h.update(key.encode())
        if isinstance(v, str | bytes):
            h.update(v.encode() if isinstance(v, str) else v)
            continue
        arr = np.asarray(v, dtype=np.float64)
        h.update(repr(arr.shape).encode() + arr.tobytes())
    return h.hexdigest()[:16]


def keep_flags(meta: dict[str, str]) -> dict[str, str]:
    """Only the str / bool fields (reset, comparator, ...) survive a change of dt."""
    fields = parse_fields(meta.get("snnc.fields", ""))
    flags = {k: v for k, v in fields.items() if isinstance(v, str | bool)}
    return {"snnc.fields": format_fields(flags)} if flags else {}


def apply_metadata(base: Node, meta: dict[str, str], where: str) -> Node:
    """Rebuild the snnc node from its NIR twin and the ``snnc.*`` metadata."""
    cls = op_class(meta.get("snnc.op", base.op))
    changes = parse_fields(meta.get("snnc.fields", ""), where)
    for key, text in meta.items():
        if key.startswith("snnc.q."):
            q = _qweight(base, key[len("snnc.q."):], parse_fields(text, where))
            if q is None:
                raise FormatError(f"{where}: {key} does not fit the node's weight")
            changes[key[len("snnc.q."):]] = q
    names = [f.name for f in dataclasses.fields(cls) if f.init]
    kwargs = {k: getattr(base, k) for k in names if hasattr(base, k)} | changes
    try:
        return cls(**kwargs)
    except (IRError, TypeError) as exc:
        raise FormatError(f"{where}: snnc.* metadata does not fit: {exc}") from None
