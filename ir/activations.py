"""ANN activations as float IR ops, so that an ANN is an ordinary (stateless) ``Graph``.

They exist for ANN-to-SNN conversion (``snnc.convert``): the reference simulator runs the ANN
with them (calibration, the ANN-accuracy baseline), and conversion replaces each one by an
integrate-and-fire neuron. None of them lowers to a chip. Element-wise over ``shape``; parameters
broadcast to ``shape`` (scalar or per channel as (C, 1, 1)):

    relu:   y = max(x, 0)
    clip:   y = min(max(x, lo), hi)                      (torch.clamp, ONNX Clip, ReLU6)
    shift:  y = x + offset                               (adding a constant)
    floor:  y = floor(x)
    round:  y = round(x), halves to even
    qcfs:   y = step * clip(floor(x * levels / threshold + offset), 0, levels)

``qcfs`` is the quantization-clip-floor-shift activation of Bu et al. (ICLR 2022) with L =
``levels`` steps; papers write it as ``floor(clamp(x / theta, 0, 1) * L + 0.5) / L * theta``,
which is ``step = threshold / L`` and ``offset = 0.5``. Front ends emit the elementary ops
literally; ``ir.staircase.fuse_staircases`` recognises such chains as one ``qcfs``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import IRError
from .node import Node, SameShape, Shape, check_broadcast, farray, register, shape
from .traits import Trait

#: every activation is a stateless, non-decreasing function (interval bounds pass through it)
_TRAITS = frozenset({Trait.MONOTONE})


@register("relu")
@dataclass(frozen=True, eq=False, kw_only=True)
class ReLU(SameShape, Node):
    """y = max(x, 0)."""

    shape: Shape = shape()
    traits = _TRAITS


@register("clip")
@dataclass(frozen=True, eq=False, kw_only=True)
class Clip(SameShape, Node):
    """y = min(max(x, lo), hi); ``lo = -inf`` or ``hi = inf`` leave that side open."""

    shape: Shape = shape()
    traits = _TRAITS
    lo: np.ndarray = farray(-np.inf)
    hi: np.ndarray = farray(np.inf)

    def _verify(self) -> None:
        check_broadcast(self.lo, self.shape, "lo")
        check_broadcast(self.hi, self.shape, "hi")
        if np.any(np.isnan(self.lo)) or np.any(np.isnan(self.hi)):
            raise IRError("lo and hi must not be NaN")
        if np.any(np.broadcast_to(self.lo, self.shape) > np.broadcast_to(self.hi, self.shape)):
            raise IRError("lo must not exceed hi")


@register("shift")
@dataclass(frozen=True, eq=False, kw_only=True)
class Shift(SameShape, Node):
    """y = x + offset (element-wise constant)."""

    shape: Shape = shape()
    traits = _TRAITS
    offset: np.ndarray = farray()

    def _verify(self) -> None:
        check_broadcast(self.offset, self.shape, "offset")
        if not np.all(np.isfinite(self.offset)):
            raise IRError("offset must be finite")


@register("floor")
@dataclass(frozen=True, eq=False, kw_only=True)
class Floor(SameShape, Node):
    """y = floor(x)."""

    shape: Shape = shape()
    traits = _TRAITS


@register("round")
@dataclass(frozen=True, eq=False, kw_only=True)
class Round(SameShape, Node):
    """y = round(x), halves to the even neighbour (``torch.round``, ``np.round``)."""

    shape: Shape = shape()
    traits = _TRAITS


#: how ``qcfs`` turns its scaled input into a level
ROUNDINGS = ("floor", "half_even")


@register("qcfs")
@dataclass(frozen=True, eq=False, kw_only=True)
class QCFS(SameShape, Node):
    """y = step * clip(floor(x * levels / threshold + offset), 0, levels).

    With ``rounding = "half_even"`` the floor is ``round`` (halves to even, as ``torch.round``:
    QSD-Transformer's and SpikeYOLO's multi-level spike ``round(clamp(x, 0, D))``).

    ``threshold`` (input units, > 0) is where the staircase reaches its top step; ``step`` is
    the output value of one level (QCFS: threshold / levels). Converted to an IF neuron with
    threshold ``threshold``, initial potential ``offset * threshold`` and subtract reset, the
    spike count over T = levels steps equals the level for a constant input.
    """

    shape: Shape = shape()
    traits = _TRAITS
    threshold: np.ndarray = farray()
    levels: int = 8
    offset: np.ndarray = farray(0.5)
    step: np.ndarray = farray()
    rounding: str = "floor"

    @property
    def floor_offset(self) -> np.ndarray:
        """The offset of the floor staircase this one equals away from ties (round(z) =
        floor(z + 1/2) except where z + 1/2 is an odd integer)."""
        return np.asarray(self.offset) + (0.5 if self.rounding == "half_even" else 0.0)

    def _verify(self) -> None:
        if self.rounding not in ROUNDINGS:
            raise IRError(f"rounding must be one of {ROUNDINGS}, got {self.rounding!r}")
        for name in ("threshold", "offset", "step"):
            check_broadcast(getattr(self, name), self.shape, name)
            if not np.all(np.isfinite(getattr(self, name))):
                raise IRError(f"{name} must be finite")
        if int(self.levels) != self.levels or self.levels < 1:
            raise IRError(f"levels must be a positive integer, got {self.levels!r}")
        if np.any(self.threshold <= 0) or np.any(self.step <= 0):
            raise IRError("threshold and step must be positive")


#: ops that conversion turns into spiking neurons
ACTIVATIONS = ("relu", "clip", "qcfs")
#: every op of this file: none runs on a chip
ANN_OPS = ("relu", "clip", "shift", "floor", "round", "qcfs")
