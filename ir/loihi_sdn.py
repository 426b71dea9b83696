"""Loihi 2's sigma-delta neurons: graded spikes with a signed integer payload (Lava's ``sdn``).

A graded spike carries a signed integer of the sender's ``num_message_bits`` (Loihi 2: up to 24
bits; netx's SDNN default 16); a payload of 0 is no spike. The payload is the op's output value
itself (int64 in the simulators); the synapse that reads it has ``num_message_bits > 0`` and
multiplies its weights by it (``loihi.dense``/``loihi.conv``, ``kernels_loihi``). Arithmetic of
Lava 0.10.0's ``fixed_pt`` models (``PyDeltaModelFixed``, ``PySigmaModelFixed``,
``PySigmaDeltaModelFixed``; shared/reference/loihi.md §3.7), every state an int32 that wraps:

- ``loihi.delta`` (input encoder)::

      x = a << (spike_exp + state_exp);  delta = x - act + residue
      cum_error: error += delta; s = delta where |error| >= vth' else 0; error[s != 0] = 0
      else:      s = delta where |delta| >= vth' else 0
      residue = delta - s;  act = x;  send s >> state_exp

- ``loihi.sigma_delta``: ``sigma += a; act = relu(sigma + bias')`` (``act_mode="unit"``: no
  ReLU), then the delta step above on ``act`` (no input shift); send ``s >> state_exp``;
- ``loihi.sigma`` (decoder): ``sigma += a``; send ``sigma``.

with ``vth' = vth << (spike_exp + state_exp)`` and ``bias' = bias << (spike_exp + state_exp)``
(the Lava processes pre-scale them so). All three receive and send in the same step (latency 0).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import IRError
from .node import Node, SameShape, Shape, check_broadcast, iarray, register, shape
from .traits import Trait

TRAITS = frozenset({Trait.CHIP_NEURON, Trait.GRADED})


@dataclass(frozen=True, eq=False, kw_only=True)
class _Graded(SameShape, Node):
    shape: Shape = shape()
    num_message_bits: int = 16  # width of the payload this layer sends

    stateful = True
    traits = TRAITS

    def _check_bits(self) -> None:
        if not 1 <= self.num_message_bits <= 32:
            raise IRError(f"num_message_bits must be in 1..32, got {self.num_message_bits}")


@dataclass(frozen=True, eq=False, kw_only=True)
class _DeltaFields(_Graded):
    vth: int = 0
    spike_exp: int = 0
    state_exp: int = 0
    cum_error: bool = False

    def _check_delta(self) -> None:
        self._check_bits()
        for name in ("spike_exp", "state_exp"):
            if not 0 <= getattr(self, name) <= 7:  # Lava: precision 3 bits
                raise IRError(f"{name} must be in 0..7, got {getattr(self, name)}")
        if not 0 <= self.vth << self.scale_bits < 2**31:
            raise IRError(f"vth << (spike_exp + state_exp) must fit int32, got vth={self.vth}")

    @property
    def scale_bits(self) -> int:
        return self.spike_exp + self.state_exp


@register("loihi.delta")
@dataclass(frozen=True, eq=False, kw_only=True)
class LoihiDelta(_DeltaFields):
    """Lava's ``Delta`` encoder: graded spikes of input changes (module docstring)."""

    def _verify(self) -> None:
        self._check_delta()


@register("loihi.sigma_delta")
@dataclass(frozen=True, eq=False, kw_only=True)
class LoihiSigmaDelta(_DeltaFields):
    """Lava's ``SigmaDelta``: accumulate, ReLU (or unit) with bias, delta-encode (docstring)."""

    bias: np.ndarray = iarray(0)
    act_mode: str = "relu"

    def _verify(self) -> None:
        self._check_delta()
        check_broadcast(self.bias, self.shape, "bias")
        if self.act_mode not in ("relu", "unit"):
            raise IRError(f"act_mode must be 'relu' or 'unit', got {self.act_mode!r}")
        if self.bias.size and np.abs(self.bias).max() << self.scale_bits >= 2**31:
            raise IRError("bias << (spike_exp + state_exp) must fit int32")


@register("loihi.sigma")
@dataclass(frozen=True, eq=False, kw_only=True)
class LoihiSigma(_Graded):
    """Lava's ``Sigma`` decoder: sends its running sum of inputs."""

    def _verify(self) -> None:
        self._check_bits()
