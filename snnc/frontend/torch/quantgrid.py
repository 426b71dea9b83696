"""Weights as IR data: a torch weight that lies on a quantization grid becomes a ``QTensor``.

The tracer has already evaluated every parameter-only subgraph (sign, round, clamp, scale
multiplies, straight-through ``w + (q - w).detach()``), so the weights that reach a converter are
the values the model computes with. ``snnc.ir.qtensor.recognise_grid`` finds binary ±alpha and
k-bit uniform grids (per tensor or per output channel, power-of-two or arbitrary scales); a weight
on no grid of at most ``max_bits`` bits stays a float64 array.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...ir.qtensor import QTensor, recognise_grid

MAX_BITS = 8


def to_numpy(t: Any) -> np.ndarray:
    import torch

    if isinstance(t, torch.Tensor):
        return t.detach().to("cpu", torch.float64).numpy().copy()
    return np.asarray(t, dtype=np.float64)


def weight_value(t: Any, max_bits: int = MAX_BITS) -> QTensor | np.ndarray:
    """The IR value of a weight tensor (out channels on axis 0)."""
    w = to_numpy(t)
    q = recognise_grid(w, max_bits=max_bits, channel_axis=0)
    return w if q is None else q
