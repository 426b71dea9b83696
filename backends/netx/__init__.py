"""lava-dl netx ``.net`` export: ``write_netx(graph, path)`` (reader: ``snnc.frontend.netx``)."""

from __future__ import annotations

from .writer import write_netx

__all__ = ["write_netx"]
