"""A torch-free fast path for ``torch.save`` files of snnc's own modules (docs/DESIGN.md).

``try_load(path, options)`` returns the IR graph of a ``.pt`` / ``.pth`` file that holds a
(possibly nested) ``Sequential`` of ``snnc.nn`` linear / conv layers, ``LIF`` / ``IF`` and
``Flatten`` with a ``snnc_input_shape`` attribute (or ``input_shape`` given), equal node for node to
what the torch.fx front end builds, without importing torch; for anything else it returns None
and ``snnc.api.load`` goes on to the torch loader as before. ``SNNC_TORCH_LOADER=1`` in the
environment turns the fast path off (the differential tests compare both).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ...ir import Graph

_ACCEPTED_OPTIONS = {"input_shape", "trust_pickle", "example_input"}


def try_load(path: Path, options: dict[str, Any]) -> Graph | None:
    if os.environ.get("SNNC_TORCH_LOADER") == "1":
        return None
    if path.suffix.lower() not in (".pt", ".pth"):
        return None
    if any(v not in (None, False, (), []) for k, v in options.items()
           if k not in _ACCEPTED_OPTIONS):
        return None
    from ...io import parse_input_shape
    from .build import build_graph
    from .unpickle import read_archive

    try:
        with path.open("rb") as fh:
            if fh.read(4) != b"PK\x03\x04":
                return None
        root = read_archive(path)
        given = options.get("input_shape")
        shape = root.state.get("snnc_input_shape") if given is None else given
        if shape is None:
            return None
        graph = build_graph(root, parse_input_shape(shape))
    except Exception:  # NotSnncModel, a shape the parser refuses etc.: the torch loader says why
        return None
    return graph.with_metadata(file=path.name)
