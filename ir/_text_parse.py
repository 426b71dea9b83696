"""Recursive-descent parser for the text form (grammar in ``ir/text.py``)."""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any

import numpy as np

from ..errors import FormatError, IRError
from .graph import Graph
from .node import Node, op_class
from .text import _Tok, literal_types, number

_MISSING = dataclasses.MISSING
_NUMBER = re.compile(r"[-+]?(?:(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?|inf|nan)")
_INT = re.compile(r"[-+]?\d+")


class Parser:
    """Consumes tokens from ``_tokenize``; every error names ``source`` and the line."""

    def __init__(self, toks: list[_Tok], source: str) -> None:
        self.toks, self.i, self.source = toks, 0, source

    # ---- token helpers ---------------------------------------------------------------------

    def peek(self) -> _Tok:
        return self.toks[self.i]

    def next(self) -> _Tok:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def error(self, msg: str, tok: _Tok | None = None) -> FormatError:
        line = (tok or self.peek()).line
        return FormatError(f"{self.source}:{line}: {msg}")

    def expect(self, kind: str, text: str | None = None) -> _Tok:
        tok = self.next()
        if tok.kind != kind or (text is not None and tok.text != text):
            want = repr(text) if text is not None else kind
            got = repr(tok.text) if tok.kind != "EOF" else "end of text"
            raise self.error(f"expected {want}, found {got}", tok)
        return tok

    def accept(self, kind: str, text: str | None = None) -> bool:
        tok = self.peek()
        if tok.kind == kind and (text is None or tok.text == text):
            self.i += 1
            return True
        return False

    # ---- graph -----------------------------------------------------------------------------

    def graph(self) -> Graph:
        start = self.expect("NAME", "graph")
        self.expect("PUNCT", "{")
        dt: float | None = None
        metadata: dict[str, Any] = {}
        nodes: dict[str, Node] = {}
        edges: list[tuple[str, str]] = []
        while not self.accept("PUNCT", "}"):
            tok = self.peek()
            if tok.kind == "NAME" and tok.text in ("dt", "metadata"):
                self.next()
                self.expect("PUNCT", "=")
                if tok.text == "dt":
                    dt = self.value()
                else:
                    metadata = self.json_value()
                continue
            name = self.node_ref()
            if self.accept("ARROW"):
                edges.append((name, self.node_ref()))
                continue
            if name in nodes:
                raise self.error(f"node %{name} is defined twice", tok)
            self.expect("PUNCT", "=")
            nodes[name] = self.node(name)
        try:
            return Graph(nodes, tuple(edges), dt, metadata)
        except IRError as exc:
            raise self.error(f"graph does not verify: {exc}", start) from None

    def node_ref(self) -> str:
        tok = self.expect("NODE")
        body = tok.text[1:]
        return json.loads(body) if body.startswith('"') else body

    def node(self, name: str) -> Node:
        tok = self.expect("NAME")
        try:
            cls = op_class(tok.text)
        except IRError as exc:
            raise self.error(f"node %{name}: {exc}", tok) from None
        kwargs = self.kwargs(f"node %{name}")
        fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
        for key in kwargs:
            if key not in fields:
                raise self.error(f"node %{name}: op {tok.text!r} has no field {key!r} "
                                 f"(fields: {', '.join(fields)})", tok)
        for key, f in fields.items():
            if key not in kwargs and f.default is _MISSING and f.default_factory is _MISSING:
                raise self.error(f"node %{name} ({tok.text}) is missing field {key!r}", tok)
        try:
            node = cls(**kwargs)
        except (IRError, TypeError, ValueError) as exc:
            raise self.error(f"node %{name}: {exc}", tok) from None
        if self.accept("PUNCT", ":"):
            shapes = self.value(), (self.expect("ARROW"), self.value())[1]
            if shapes != (node.in_shape, node.out_shape):
                raise self.error(f"node %{name} is declared {shapes[0]} -> {shapes[1]} but its "
                                 f"fields give {node.in_shape} -> {node.out_shape}", tok)
        return node

    def kwargs(self, what: str) -> dict[str, Any]:
        self.expect("PUNCT", "(")
        out: dict[str, Any] = {}
        while not self.accept("PUNCT", ")"):
            if out:
                self.expect("PUNCT", ",")
            key = self.expect("NAME")
            if key.text in out:
                raise self.error(f"{what}: field {key.text!r} given twice", key)
            self.expect("PUNCT", "=")
            out[key.text] = self.value()
        return out

    # ---- values ----------------------------------------------------------------------------

    def value(self) -> Any:
        tok = self.peek()
        if tok.kind == "NUMBER":
            return number(self.next().text)
        if tok.kind == "STRING":
            return json.loads(self.next().text)
        if tok.kind == "PUNCT" and tok.text == "(":
            return self.tuple_value()
        if tok.kind != "NAME":
            raise self.error(f"expected a value, found {tok.text!r}")
        consts = {"none": None, "true": True, "false": False}
        if tok.text in consts:
            return consts[self.next().text]
        dtypes, qtypes = literal_types()
        if tok.text in dtypes:
            return self.array(dtypes[self.next().text])
        if tok.text in qtypes:
            self.next()
            try:
                return qtypes[tok.text](**self.kwargs(tok.text))
            except (IRError, TypeError, ValueError) as exc:
                raise self.error(f"bad {tok.text}: {exc}", tok) from None
        if tok.text == "graph":
            return self.graph()
        raise self.error(f"unknown value {tok.text!r}")

    def tuple_value(self) -> tuple[Any, ...]:
        self.expect("PUNCT", "(")
        items: list[Any] = []
        while not self.accept("PUNCT", ")"):
            items.append(self.value())
            if not self.accept("PUNCT", ","):
                self.expect("PUNCT", ")")
                break
        return tuple(items)

    def array(self, dtype: Any) -> np.ndarray:
        start = self.peek()
        dims = self.number_list("[", "]")
        if any(not isinstance(d, int) or d < 0 for d in dims):
            raise self.error(f"bad array shape {dims}", start)
        body = self.expect("ARRAY").text[1:-1].replace("\n", " ").strip()
        items = [v.strip() for v in body.split(",")] if body else []
        if len(items) != int(np.prod(dims, dtype=np.int64)):
            raise self.error(f"array of shape {tuple(dims)} needs {int(np.prod(dims))} values, "
                             f"found {len(items)}", start)
        if any(not _NUMBER.fullmatch(v) for v in items):
            raise self.error("bad number in array literal", start)
        if dtype is np.int64 and any(not _INT.fullmatch(v) for v in items):
            raise self.error("integer array holds a non-integer value", start)
        shape = tuple(int(d) for d in dims)
        return np.array(items, dtype=dtype).reshape(shape) if items else np.zeros(shape, dtype)

    def number_list(self, open_: str, close: str) -> list[int | float]:
        self.expect("PUNCT", open_)
        out: list[int | float] = []
        while not self.accept("PUNCT", close):
            if out:
                self.expect("PUNCT", ",")
            out.append(number(self.expect("NUMBER").text))
        return out

    def json_value(self) -> Any:
        """A JSON value spelled in the token stream (graph metadata)."""
        tok = self.next()
        if tok.kind == "STRING":
            return json.loads(tok.text)
        if tok.kind == "NUMBER":
            return number(tok.text)
        if tok.kind == "NAME" and tok.text in ("true", "false", "null"):
            return {"true": True, "false": False, "null": None}[tok.text]
        if tok.kind == "PUNCT" and tok.text in "[{":
            close = "]" if tok.text == "[" else "}"
            items: list[Any] = []
            while not self.accept("PUNCT", close):
                if items:
                    self.expect("PUNCT", ",")
                if close == "}":
                    key = json.loads(self.expect("STRING").text)
                    self.expect("PUNCT", ":")
                    items.append((key, self.json_value()))
                else:
                    items.append(self.json_value())
            return dict(items) if close == "}" else items
        raise self.error(f"expected a JSON value, found {tok.text!r}", tok)
