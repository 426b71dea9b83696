"""The public Python API, which the CLI calls: ``load``, ``compile``, ``simulate``.

Front ends are chosen by file suffix through ``LOADERS`` (module path + function name, imported
lazily so that the core never imports torch). Each loader has the signature
``load(path: Path, **options) -> Graph`` and raises ``FormatError`` / ``UnsupportedOpError``.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from .errors import FormatError
from .ir import Graph

# suffix -> (module, function)
LOADERS: dict[str, tuple[str, str]] = {
    ".snnc": ("snnc.ir.serialize", "read_graph"),
    ".nir": ("snnc.ir.nir_io", "read_nir"),
    ".net": ("snnc.frontend.netx", "read_netx"),
    ".pt": ("snnc.frontend.torch", "load_torch"),
    ".pth": ("snnc.frontend.torch", "load_torch"),
    ".pt2": ("snnc.frontend.torch", "load_torch"),
}


def loader_for(path: Path) -> Any:
    suffix = path.suffix.lower()
    if suffix not in LOADERS:
        known = ", ".join(sorted(LOADERS))
        raise FormatError(f"{path}: unknown file type {suffix or '(no suffix)'!r}; snnc reads {known}")
    module, func = LOADERS[suffix]
    return getattr(importlib.import_module(module), func)


def load(path: str | Path, **options: Any) -> Graph:
    """Read any model or graph file snnc understands into an IR ``Graph``."""
    p = Path(path)
    if not p.exists():
        raise FormatError(f"{p}: no such file")
    if p.is_dir():
        raise FormatError(f"{p}: is a directory, expected a model file")
    return loader_for(p)(p, **options)
