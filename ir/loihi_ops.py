"""Hardware ops after lowering: integers only, with Lava's bit-accurate (``fixed_pt``) semantics.

The exact arithmetic lives in ``simulators/reference.py`` (shared/reference/loihi.md §3):

- ``loihi.dense``: W clipped to the sign mode's 8-bit range and truncated to ``num_weight_bits``;
  a[t+1] = (sum_j W_ij s_j[t]) shifted by ``weight_exp`` (floor shift); one step of latency.
  With ``delays`` (DelayDense) a synapse of delay d arrives d+1 steps after the spike.
- ``loihi.conv``: weight (C_out, C_in/g, kH, kW), cross-correlation in PyTorch's layout (the Lava
  backend converts to Lava's flipped (C_out, W, H, C_in) layout); output wraps to 24 bits.
- ``loihi.lif``: 24-bit u and v, 12-bit du/dv, threshold vth << 6, input a << 6,
  bias = bias_mant << bias_exp; hard reset of v to 0; optional periodic reset of u and v
  (LIFReset: when t % reset_interval == reset_offset % reset_interval, with t starting at 1).
  Loihi 2's programmable neurons add ``comparator`` ``>=`` and ``reset = "subtract"``
  (v -= vth << 6 on a spike; with ``decay_reset = False`` the subtraction acts, undecayed, on the
  next step's v, as snnTorch's default ``reset_delay``). Lava's LIF has neither: these nodes run
  in snnc's own Lava process (``backends/lava/programmable_lif.py``), and Loihi 1 refuses them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import IRError
from .node import (
    InputShaped,
    Node,
    SameShape,
    Shape,
    check_broadcast,
    chip_weight,
    iarray,
    optional_iarray,
    register,
    shape,
)
from .ops import check_groups, conv_out_shape
from .traits import Trait


def _check_range(arr: np.ndarray, lo: int, hi: int, name: str) -> None:
    if arr.size and (arr.min() < lo or arr.max() > hi):
        raise IRError(f"{name} must lie in [{lo}, {hi}], got [{arr.min()}, {arr.max()}]")


@dataclass(frozen=True, eq=False, kw_only=True)
class _LoihiSynapse(Node):
    weight_exp: int = 0
    num_weight_bits: int = 8
    num_message_bits: int = 0  # 0: binary spikes; > 0: graded payloads of that many bits

    stateful = True

    def _check_common(self, weight: np.ndarray) -> None:
        _check_range(weight, -256, 255, "weight")
        if not 1 <= self.num_weight_bits <= 8:
            raise IRError(f"num_weight_bits must be in 1..8, got {self.num_weight_bits}")
        if not -8 <= self.weight_exp <= 7:
            raise IRError(f"weight_exp must be in -8..7, got {self.weight_exp}")
        if not 0 <= self.num_message_bits <= 32:
            raise IRError(f"num_message_bits must be in 0..32, got {self.num_message_bits}")

    @property
    def latency(self) -> int:
        return 1


@register("loihi.dense")
@dataclass(frozen=True, eq=False, kw_only=True)
class LoihiDense(_LoihiSynapse):
    """Integer dense synapses, weight (out, in); ``delays`` (out, in) in 0..62: DelayDense."""
    traits = frozenset({Trait.CHIP_SYNAPSE})

    weight: np.ndarray = chip_weight()
    delays: np.ndarray | None = optional_iarray()

    def _verify(self) -> None:
        if self.weight.ndim != 2:
            raise IRError(f"weight must be 2-d (out, in), got {self.weight.shape}")
        self._check_common(self.weight)
        if self.delays is not None:
            if self.delays.shape != self.weight.shape and self.delays.ndim != 0:
                raise IRError(f"delays must be a scalar or {self.weight.shape}")
            _check_range(self.delays, 0, 62, "delays")

    @property
    def in_shape(self) -> Shape:
        return (self.weight.shape[1],)

    @property
    def out_shape(self) -> Shape:
        return (self.weight.shape[0],)


@register("loihi.conv")
@dataclass(frozen=True, eq=False, kw_only=True)
class LoihiConv(InputShaped, _LoihiSynapse):
    """Integer 2-d convolution synapses (see module docstring for layout)."""
    traits = frozenset({Trait.CHIP_SYNAPSE})

    input_shape: Shape = shape()
    weight: np.ndarray = chip_weight()
    stride: Shape = shape(default=(1, 1))
    padding: Shape = shape(default=(0, 0))
    dilation: Shape = shape(default=(1, 1))
    groups: int = 1

    def _verify(self) -> None:
        if self.weight.ndim != 4 or len(self.input_shape) != 3:
            raise IRError(f"needs a 4-d weight and (C, H, W) input, got {self.weight.shape}, "
                          f"{self.input_shape}")
        check_groups(self.input_shape[0], self.groups, self.weight.shape)
        self._check_common(self.weight)
        if any(d <= 0 for d in self.out_shape):
            raise IRError(f"output shape {self.out_shape} is empty")

    @property
    def out_shape(self) -> Shape:
        return conv_out_shape(self, self.weight.shape)


@register("loihi.lif")
@dataclass(frozen=True, eq=False, kw_only=True)
class LoihiLIF(SameShape, Node):
    """Lava's bit-accurate CUBA LIF (shared/reference/loihi.md §3.2)."""
    traits = frozenset({Trait.CHIP_NEURON})

    shape: Shape = shape()
    du: np.ndarray = iarray(0)
    dv: np.ndarray = iarray(0)
    vth: np.ndarray = iarray(0)
    bias_mant: np.ndarray = iarray(0)
    bias_exp: np.ndarray = iarray(0)
    reset_interval: int = 0  # 0: no periodic reset (LIF); > 0: LIFReset
    reset_offset: int = 0
    reset: str = "hard"  # "hard": v = 0 on a spike (Lava's LIF); "subtract": v -= vth << 6
    comparator: str = ">"  # ">": Lava's LIF; ">=": Loihi 2 programmable neuron
    decay_reset: bool = True  # False: the subtraction acts on the next step's v, undecayed
    # v at the start and after every periodic reset (integer v units, like vth << 6); Loihi 2
    v_init: np.ndarray = iarray(0)

    stateful = True

    @property
    def programmable(self) -> bool:
        """Whether the neuron needs Loihi 2's programmable neuron model (not Lava's LIF)."""
        return self.reset != "hard" or self.comparator != ">" or bool(np.any(self.v_init != 0))

    def _verify(self) -> None:
        # Ranges are those Lava's models accept (netx yields du = -1 for iDecay 0, dv = 4096 for
        # vDecay 4096 and vth = 2**17 for its default non-spiking neuron); the chip's design
        # rules check the narrower hardware widths.
        for name, lo, hi in (("du", -1, 4095), ("dv", 0, 4096), ("vth", 0, 2**17),
                             ("bias_mant", -4096, 4095), ("bias_exp", -8, 7),
                             ("v_init", -(2**23 - 1), 2**23 - 1)):
            arr = getattr(self, name)
            check_broadcast(arr, self.shape, name)
            _check_range(arr, lo, hi, name)
        if self.reset_interval < 0:
            raise IRError("reset_interval must be >= 0")
        if self.reset not in ("hard", "subtract"):
            raise IRError(f"reset must be 'hard' or 'subtract', got {self.reset!r}")
        if self.comparator not in (">", ">="):
            raise IRError(f"comparator must be '>' or '>=', got {self.comparator!r}")
        if not self.decay_reset and self.reset != "subtract":
            raise IRError("decay_reset=False (a delayed reset) needs reset='subtract'")
