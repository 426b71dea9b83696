"""Plastic synapses: a ``loihi.dense`` block whose weights learn on chip.

The learning rule is stored as data (Lava-style sum-of-products strings plus trace parameters),
so a learned program saves, loads and prints like any other graph. Semantics: the block behaves as
Lava's ``LearningDense`` (bit-approximate model, shared/reference/loihi.md §5): weights are
truncated once, at the first step, by ``sign_mode`` (``"mixed"`` as in Lava by default); after
that learning changes them within [-256, 255]. Its post-synaptic population is the single
``loihi.lif`` it feeds; the reference kernel lives in ``simulators/learning/kernel.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import IRError
from .learning_rule import parse_rule
from .loihi_ops import LoihiDense
from .node import farray, optional_iarray, register
from .traits import Trait


@register("loihi.plastic_dense")
@dataclass(frozen=True, eq=False, kw_only=True)
class LoihiPlasticDense(LoihiDense):
    """Integer dense synapses with an on-chip learning rule (one step of latency, like Dense)."""
    traits = frozenset({Trait.CHIP_SYNAPSE, Trait.PLASTIC})

    dw: str = ""
    dd: str = ""
    dt: str = ""
    x_impulse: np.ndarray = farray((0.0, 0.0))  # x1, x2 impulses (may have 8 fraction bits)
    x_tau: np.ndarray = farray((0.0, 0.0))
    y_impulse: np.ndarray = farray((0.0, 0.0, 0.0))  # y1, y2, y3
    y_tau: np.ndarray = farray((0.0, 0.0, 0.0))
    t_epoch: int = 1
    rng_seed: int = 0
    third_factor: bool = False
    sign_mode: str = "mixed"
    flip_threshold: int = -1  # >= 0: BSO-style flips (snnc extension); -1: none
    tag_1: np.ndarray | None = optional_iarray()
    tag_2: np.ndarray | None = optional_iarray()

    def _verify(self) -> None:
        super()._verify()
        if self.delays is not None:
            raise IRError("plastic synapses do not take axonal delays")
        if self.x_impulse.shape != (2,) or self.x_tau.shape != (2,):
            raise IRError("x_impulse and x_tau need 2 entries (x1, x2)")
        if self.y_impulse.shape != (3,) or self.y_tau.shape != (3,):
            raise IRError("y_impulse and y_tau need 3 entries (y1, y2, y3)")
        if not 1 <= self.t_epoch <= 63:
            raise IRError(f"t_epoch must be in 1..63, got {self.t_epoch}")
        if self.sign_mode not in ("mixed", "exc", "inh"):
            raise IRError(f"sign_mode must be mixed, exc or inh, got {self.sign_mode!r}")
        for name in ("tag_1", "tag_2"):
            tag = getattr(self, name)
            if tag is not None and tag.shape != self.weight.shape:
                raise IRError(f"{name} must have the weight's shape {self.weight.shape}")
        for text in (self.dw, self.dd, self.dt):
            parse_rule(text)
