"""PyTorch front end: load ``model.pt`` / ``.pth`` / ``.pt2`` and trace one time step into IR.

``load_torch`` is what ``snnc.api.load`` calls for these suffixes; ``trace`` converts a model
object in memory. See ``loading`` for the accepted files and ``tracer`` for what is traced.
"""

from __future__ import annotations

from .loading import load_torch
from .tracer import trace

__all__ = ["load_torch", "trace"]
