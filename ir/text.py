"""Deterministic, lossless text form of a ``Graph``: ``print_graph`` and ``parse_graph``.

One node per line, then the edges, all derived from the dataclass fields of each op (a new op
needs no code here)::

    graph {
      dt = 1.0
      metadata = {"source": "mnist.pt"}
      %in = input(shape=(3,)) : (3,) -> (3,)
      %fc1 = affine(weight=f64[2,3]{0.5, -1.0, ...}, bias=f64[2]{0.0, 0.25}) : (3,) -> (2,)
      %in -> %fc1
    }

Values: ``none``, ``true``/``false``, ints, floats (``repr``, so they round-trip exactly, including
``inf``/``nan``), JSON strings, tuples ``(a, b)``, arrays ``f64[2,3]{...}`` / ``i64[]{7}`` (shape,
then the values in C order), ``qtensor(...)``/``codebook(...)`` with their own fields, and nested
``graph {...}`` blocks. Node names made of other characters than ``[A-Za-z0-9_.-]`` (or holding
``->``) are JSON-quoted: ``%"a b"``.
The ``: in -> out`` suffix is checked when present. ``#`` starts a comment. ``summary=True``
elides large arrays for people; that form is not parseable.
"""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any

import numpy as np

from ..errors import FormatError
from .graph import Graph
from .node import values_equal
from .qtensor import CodebookTensor, QTensor

SUMMARY_HEADER = "# summary form: large arrays elided (not parseable)"
_SUMMARY_MAX = 8
_BARE_NAME = re.compile(r"(?:[A-Za-z0-9_.]|-(?!>))+")
_DTYPES = {"f64": np.float64, "i64": np.int64}
_QTYPES: dict[str, type] = {"qtensor": QTensor, "codebook": CodebookTensor}


def print_graph(graph: Graph, summary: bool = False) -> str:
    """The text form of ``graph``; ``summary=True`` elides arrays of more than 8 values."""
    lines = _graph_lines(graph, 0, summary)
    if summary:
        lines.insert(0, SUMMARY_HEADER)
    return "\n".join(lines) + "\n"


def node_name(name: str) -> str:
    """``%name``, JSON-quoted when it has characters outside ``[A-Za-z0-9_.-]``."""
    return "%" + (name if _BARE_NAME.fullmatch(name) else json.dumps(name))


def _graph_lines(graph: Graph, depth: int, summary: bool) -> list[str]:
    pad = "  " * (depth + 1)
    lines = ["graph {", f"{pad}dt = {_value(graph.dt, depth + 1, summary)}"]
    if graph.metadata:
        try:
            meta = json.dumps(dict(graph.metadata), sort_keys=True, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise FormatError(f"graph metadata is not JSON-serialisable: {exc}") from None
        lines.append(f"{pad}metadata = {meta}")
    for name, node in graph.nodes.items():
        params = _non_default(node) if summary else node.params()
        args = ", ".join(f"{k}={_value(v, depth + 1, summary)}" for k, v in params.items())
        lines.append(f"{pad}{node_name(name)} = {node.op}({args}){_shapes(node)}")
    rank = {n: i for i, n in enumerate(graph.nodes)}
    for a, b in sorted(graph.edges, key=lambda e: (rank[e[0]], rank[e[1]])):
        lines.append(f"{pad}{node_name(a)} -> {node_name(b)}")
    lines.append("  " * depth + "}")
    return lines


def _non_default(node: Any) -> dict[str, Any]:
    """The fields whose value differs from the field's default (summary form only)."""
    out = {}
    for f in dataclasses.fields(node):
        value = getattr(node, f.name)
        factory = f.default_factory
        default = factory() if factory is not dataclasses.MISSING else f.default
        if default is dataclasses.MISSING or not values_equal(value, default):
            out[f.name] = value
    return out


def _shapes(node: Any) -> str:
    try:
        return f" : {_value(node.in_shape, 0, False)} -> {_value(node.out_shape, 0, False)}"
    except (NotImplementedError, AttributeError, IndexError):
        return ""


def _value(v: Any, depth: int, summary: bool) -> str:
    if v is None:
        return "none"
    if isinstance(v, bool | np.bool_):
        return "true" if v else "false"
    if isinstance(v, int | np.integer):
        return str(int(v))
    if isinstance(v, float | np.floating):
        return repr(float(v))
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, tuple | list):
        items = [_value(x, depth, summary) for x in v]
        return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
    if isinstance(v, np.ndarray):
        return _array(v, summary)
    if isinstance(v, QTensor | CodebookTensor):
        name = "qtensor" if isinstance(v, QTensor) else "codebook"
        args = ", ".join(f"{f.name}={_value(getattr(v, f.name), depth, summary)}"
                         for f in dataclasses.fields(v))
        return f"{name}({args})"
    if isinstance(v, Graph):
        return "\n".join(_graph_lines(v, depth, summary))
    raise FormatError(f"the text form cannot hold a value of type {type(v).__name__}: {v!r}")


def _array(a: np.ndarray, summary: bool) -> str:
    if a.dtype.kind in "biu":
        tag, items = "i64", [str(int(x)) for x in a.ravel().tolist()]
    elif a.dtype.kind == "f":
        tag, items = "f64", [repr(float(x)) for x in a.ravel().tolist()]
    else:
        raise FormatError(f"the text form cannot hold arrays of dtype {a.dtype}")
    dims = ",".join(str(d) for d in a.shape)
    if summary and a.ndim == 0:
        return items[0]
    if summary and a.size > _SUMMARY_MAX:
        lo, hi = a.min(), a.max()
        return f"{tag}[{dims}]{{{_value(lo, 0, False)}..{_value(hi, 0, False)}}}"
    return f"{tag}[{dims}]{{{', '.join(items)}}}"


# ---- parsing ---------------------------------------------------------------------------------

_TOKEN = re.compile(r"""
  (?P<ws>[ \t\r\n]+|\#[^\n]*)
| (?P<NODE>%(?:(?:[A-Za-z0-9_.]|-(?!>))+|"(?:[^"\\\n]|\\.)*"))
| (?P<STRING>"(?:[^"\\\n]|\\.)*")
| (?P<ARROW>->)
| (?P<NUMBER>[-+]?(?:(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?|inf\b|nan\b))
| (?P<NAME>[A-Za-z_][A-Za-z0-9_.]*)
| (?P<PUNCT>[()\[\]{},=:])
""", re.VERBOSE)


@dataclasses.dataclass
class _Tok:
    kind: str
    text: str
    line: int


# the values of an array literal, read as one token right after its "[dims]"
_ARRAY_BODY = re.compile(r"\{[-+0-9.eEinfa,\s]*\}")


def _tokenize(text: str, source: str) -> list[_Tok]:
    toks: list[_Tok] = []
    pos, line = 0, 1
    while pos < len(text):
        body = _ARRAY_BODY.match(text, pos) if toks and toks[-1].text == "]" else None
        if body is not None:
            toks.append(_Tok("ARRAY", body.group(), line))
            line += body.group().count("\n")
            pos = body.end()
            continue
        m = _TOKEN.match(text, pos)
        if m is None:
            raise FormatError(f"{source}:{line}: unexpected character {text[pos]!r}")
        kind = m.lastgroup or ""
        if kind != "ws":
            toks.append(_Tok(kind, m.group(), line))
        line += m.group().count("\n")
        pos = m.end()
    toks.append(_Tok("EOF", "", line))
    return toks


def parse_graph(text: str, source: str = "<text>") -> Graph:
    """Parse the text form back into a ``Graph``; ``FormatError`` with the line on any error."""
    if text.lstrip().startswith(SUMMARY_HEADER):
        raise FormatError(f"{source}: this is the summary form of a graph (large arrays elided), "
                          "which cannot be parsed; print it with summary=False")
    from ._text_parse import Parser

    parser = Parser(_tokenize(text, source), source)
    graph = parser.graph()
    parser.expect("EOF")
    return graph


def number(text: str) -> int | float:
    """An int when the literal has no fraction or exponent, else a float."""
    return int(text) if re.fullmatch(r"[-+]?\d+", text) else float(text)


def literal_types() -> tuple[dict[str, Any], dict[str, type]]:
    """Array dtype tags and quantized-tensor constructors known to the text form."""
    return _DTYPES, _QTYPES


def format_fields(fields: dict[str, Any]) -> str:
    """``k=v, ...`` in the text form's value syntax (used for NIR metadata)."""
    return ", ".join(f"{k}={_value(v, 0, False)}" for k, v in fields.items())


def parse_fields(text: str, source: str = "<text>") -> dict[str, Any]:
    """Inverse of ``format_fields``."""
    from ._text_parse import Parser

    parser = Parser(_tokenize(f"({text})", source), source)
    out = parser.kwargs("fields")
    parser.expect("EOF")
    return out
