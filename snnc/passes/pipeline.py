"""Pass registry (explicit, lazy, extensible through entry points) and the pipeline parser.

``"fold-bn,prune{threshold=0.01},quantize-loihi{headroom_bits=4}"`` parses into pass instances:
commas separate passes (commas inside braces separate options), option values are converted
to the field's annotated type (``true``/``false`` for booleans, ``none`` for optional values).

Built-in passes are listed in ``BUILTIN_PASSES`` as import paths, so nothing is imported until a
pass is used. Third-party packages add passes through the entry-point group ``snnc.passes``
(name = the pass's CLI name, value = ``"package.module:PassClass"``).
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib
import logging
import types
import typing
from typing import Any, Union

from ..errors import PassError
from .manager import Pass

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "snnc.passes"

#: CLI name -> "module:Class" (imported on first use).
BUILTIN_PASSES: dict[str, str] = {
    "canonicalize": "snnc.passes.canonicalize:Canonicalize",
    "dce": "snnc.passes.canonicalize:DeadCodeElimination",
    "fold-bn": "snnc.passes.fold:FoldBatchNorm",
    "fold-scale": "snnc.passes.fold:FoldScale",
    "fold-affine": "snnc.passes.fold_affine:FoldAffine",
    "avgpool-to-sumpool": "snnc.passes.fold_affine:AvgPoolToSumPool",
    "prune": "snnc.passes.prune:Prune",
    "lower-spike-products": "snnc.passes.spike_products:LowerSpikeProducts",
    "quantize-loihi": "snnc.passes.quantize:QuantizeLoihi",
    "lower-loihi": "snnc.passes.lower:LowerLoihi",
}


class PassRegistry:
    """Pass name -> class, imported lazily. ``default_registry()`` adds entry-point passes."""

    def __init__(self, paths: dict[str, str] | None = None) -> None:
        self._paths = dict(BUILTIN_PASSES if paths is None else paths)
        self._loaded: dict[str, type[Pass]] = {}

    def add(self, name: str, target: str | type[Pass]) -> None:
        if isinstance(target, str):
            self._paths[name] = target
        else:
            self._paths[name] = f"{target.__module__}:{target.__qualname__}"
            self._loaded[name] = target

    def names(self) -> list[str]:
        return sorted(self._paths)

    def get(self, name: str) -> type[Pass]:
        if name in self._loaded:
            return self._loaded[name]
        if name not in self._paths:
            close = difflib.get_close_matches(name, self._paths, n=3)
            hint = f" Did you mean {', '.join(close)}?" if close else ""
            raise PassError(f"unknown pass {name!r}.{hint} Available passes: "
                            f"{', '.join(self.names())} (see `snnc list passes`).")
        module, _, attr = self._paths[name].partition(":")
        cls = getattr(importlib.import_module(module), attr)
        if getattr(cls, "name", None) != name:
            raise PassError(f"pass class {self._paths[name]} declares name {cls.name!r}, "
                            f"registered as {name!r}")
        self._loaded[name] = cls
        return cls

    def describe(self) -> list[tuple[str, str, str]]:
        """(name, semantics, one-line summary) for every registered pass."""
        rows = []
        for name in self.names():
            cls = self.get(name)
            rows.append((name, cls.semantics.value, cls.summary))
        return rows


def default_registry() -> PassRegistry:
    """Built-in passes plus those of installed packages (entry-point group ``snnc.passes``)."""
    reg = PassRegistry()
    from importlib.metadata import entry_points

    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name in BUILTIN_PASSES:
            log.warning("entry point %s=%s ignored: %r is a built-in pass", ep.name, ep.value,
                        ep.name)
            continue
        reg.add(ep.name, ep.value)
    return reg


# ---- parsing -------------------------------------------------------------------------------------


def split_pipeline(text: str) -> list[tuple[str, dict[str, str]]]:
    """``"a,b{x=1,y=2}"`` -> ``[("a", {}), ("b", {"x": "1", "y": "2"})]`` (values as text)."""
    items: list[tuple[str, dict[str, str]]] = []
    depth, start = 0, 0
    pieces = []
    for i, ch in enumerate(text):
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth < 0:
                raise PassError(f"pipeline {text!r}: unbalanced '}}' at column {i + 1}")
        elif ch == "," and depth == 0:
            pieces.append(text[start:i])
            start = i + 1
    if depth:
        raise PassError(f"pipeline {text!r}: missing '}}'")
    pieces.append(text[start:])
    for piece in (p.strip() for p in pieces):
        if not piece:
            continue
        name, brace, rest = piece.partition("{")
        opts: dict[str, str] = {}
        if brace:
            if not rest.endswith("}"):
                raise PassError(f"pipeline item {piece!r}: text after the closing brace")
            for kv in filter(None, (s.strip() for s in rest[:-1].split(","))):
                key, eq, value = kv.partition("=")
                if not eq:
                    raise PassError(f"pipeline item {piece!r}: option {kv!r} is not key=value")
                opts[key.strip()] = value.strip()
        items.append((name.strip(), opts))
    return items


def parse_pipeline(text: str, registry: PassRegistry | None = None) -> list[Pass]:
    """Pass instances for a pipeline string (see the module docstring)."""
    registry = registry or default_registry()
    passes = []
    for name, opts in split_pipeline(text):
        cls = registry.get(name)
        passes.append(make_pass(cls, opts))
    if not passes:
        raise PassError(f"pipeline {text!r} names no passes")
    return passes


def make_pass(cls: type[Pass], opts: dict[str, str]) -> Pass:
    hints = typing.get_type_hints(cls)
    fields = {f.name for f in dataclasses.fields(cls)}
    values: dict[str, Any] = {}
    for key, text in opts.items():
        if key not in fields:
            known = ", ".join(sorted(fields)) or "none"
            raise PassError(f"pass {cls.name!r} has no option {key!r}; its options: {known}")
        values[key] = _convert(text, hints[key], f"{cls.name}{{{key}}}")
    try:
        return cls(**values)
    except (TypeError, ValueError) as exc:
        raise PassError(f"pass {cls.name!r}: {exc}") from None


def _convert(text: str, typ: Any, where: str) -> Any:
    args = typing.get_args(typ)
    if typing.get_origin(typ) in (Union, types.UnionType):
        if type(None) in args and text.lower() in ("none", "null"):
            return None
        for arg in (a for a in args if a is not type(None)):
            try:
                return _convert(text, arg, where)
            except PassError:
                continue
        raise PassError(f"{where}: cannot read {text!r} as {typ}")
    if typing.get_origin(typ) is typing.Literal:
        if text not in args:
            raise PassError(f"{where}: {text!r} is not one of {', '.join(map(str, args))}")
        return text
    try:
        if typ is bool:
            if text.lower() not in ("true", "false", "1", "0", "yes", "no"):
                raise ValueError(text)
            return text.lower() in ("true", "1", "yes")
        if typ in (int, float):
            return typ(text)
    except ValueError:
        raise PassError(f"{where}: cannot read {text!r} as {typ.__name__}") from None
    return text.strip("\"'")
