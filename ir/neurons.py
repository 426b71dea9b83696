"""Neuron ops in discrete time. Each states its update equation; units are those of the input.

All neurons share one step, applied element-wise over ``shape`` at every time step t:

    i[t]     = decay_i * i[t-1] + gain_i * x[t]          (cubali / cubalif only; else i[t] = x[t])
    v_pre[t] = decay_v * v[t-1] + gain * i[t] + bias     (i, if: decay_v = 1)
    s[t]     = v_pre[t] > threshold   (or >=, per ``comparator``; spiking ops only)
    v[t]     = v_reset              where s   (reset = "hard")
             = v_pre - threshold    where s   (reset = "subtract")
             = v_pre                          (reset = "none", and where not s)
    output   = s (binary spikes), s * v_pre (``graded``), or v_pre (li, i, cubali: no spikes)

``decay_reset = False`` delays the reset by one step: it acts on the next step's integrated value
(snnTorch's ``reset_delay``). With ``reset = "subtract"`` the subtraction is not decayed:
v_pre[t] = decay_v * v_pre[t-1] + gain * i[t] + bias - threshold * s[t-1]. With
``reset = "hard"``: v_pre[t] = v_reset wherever s[t-1] (that step's input does not reach v; the
current i still integrates), as snnTorch's Synaptic neuron with ``reset_mechanism="zero"``.
Initial state: v[-1] = v_init, i[-1] = 0. Parameters are float64 arrays that broadcast to
``shape`` (scalar, per channel as (C, 1, 1), or per neuron).

NIR import with time step dt (forward Euler): decay = 1 - dt/tau, gain = dt*r/tau,
bias = dt*v_leak/tau.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, cast

import numpy as np

from ..errors import IRError
from .node import Node, SameShape, Shape, check_broadcast, farray, register, shape
from .traits import Trait

RESETS = ("hard", "subtract", "none")


class SpikingFields(Protocol):
    """The fields every op with ``spiking = True`` declares."""

    comparator: str
    reset: str


@dataclass(frozen=True, eq=False, kw_only=True)
class NeuronBase(SameShape, Node):
    """Fields shared by all neuron ops (see the module docstring for the update)."""

    shape: Shape = shape()
    gain: np.ndarray = farray(1.0)
    bias: np.ndarray = farray(0.0)
    v_init: np.ndarray = farray(0.0)

    stateful = True
    spiking = False
    leaky = False
    current = False
    traits = frozenset({Trait.NEURON, Trait.READOUT})

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """A neuron op's traits follow from its ``spiking`` / ``leaky`` / ``current``."""
        super().__init_subclass__(**kwargs)
        cls.traits = frozenset({Trait.NEURON, Trait.SPIKING if cls.spiking else Trait.READOUT,
                                *([Trait.LEAKY] if cls.leaky else []),
                                *([Trait.CURRENT] if cls.current else [])})

    def _param_names(self) -> tuple[str, ...]:
        names = ["gain", "bias", "v_init"]
        if self.leaky:
            names.append("decay_v")
        if self.current:
            names += ["decay_i", "gain_i"]
        if self.spiking:
            names += ["threshold", "v_reset"]
        return tuple(names)

    def _verify(self) -> None:
        for name in self._param_names():
            check_broadcast(getattr(self, name), self.shape, name)
        if self.spiking:  # spiking ops declare comparator and reset (SpikingFields)
            sp = cast(SpikingFields, self)
            if sp.comparator not in (">", ">="):
                raise IRError(f"comparator must be '>' or '>=', got {sp.comparator!r}")
            if sp.reset not in RESETS:
                raise IRError(f"reset must be one of {RESETS}, got {sp.reset!r}")

    def decays(self) -> tuple[np.ndarray, np.ndarray]:
        """(decay_v, decay_i) with the implicit values of non-leaky / current-free ops."""
        dv = getattr(self, "decay_v", np.float64(1.0))
        di = getattr(self, "decay_i", np.float64(0.0))
        return np.asarray(dv), np.asarray(di)


@dataclass(frozen=True, eq=False, kw_only=True)
class _SpikeFields(NeuronBase):
    threshold: np.ndarray = farray(1.0)
    comparator: str = ">"
    reset: str = "hard"
    v_reset: np.ndarray = farray(0.0)
    decay_reset: bool = True
    graded: bool = False
    spiking = True


@register("i")
@dataclass(frozen=True, eq=False, kw_only=True)
class I(NeuronBase):  # noqa: E742 - NIR's name
    """Integrator: v[t] = v[t-1] + gain * x[t] + bias; output v."""


@register("li")
@dataclass(frozen=True, eq=False, kw_only=True)
class LI(NeuronBase):
    """Leaky integrator: v[t] = decay_v * v[t-1] + gain * x[t] + bias; output v."""

    decay_v: np.ndarray = farray(1.0)
    leaky = True


@register("if")
@dataclass(frozen=True, eq=False, kw_only=True)
class IF(_SpikeFields):
    """Integrate-and-fire: v_pre = v + gain * x + bias; spike and reset (module docstring)."""


@register("lif")
@dataclass(frozen=True, eq=False, kw_only=True)
class LIF(_SpikeFields):
    """Leaky integrate-and-fire: v_pre = decay_v * v + gain * x + bias; spike and reset."""

    decay_v: np.ndarray = farray(1.0)
    leaky = True


@register("cubali")
@dataclass(frozen=True, eq=False, kw_only=True)
class CubaLI(NeuronBase):
    """Current-based leaky integrator: i = decay_i*i + gain_i*x; v = decay_v*v + gain*i + bias."""

    decay_v: np.ndarray = farray(1.0)
    decay_i: np.ndarray = farray(0.0)
    gain_i: np.ndarray = farray(1.0)
    leaky = True
    current = True


@register("cubalif")
@dataclass(frozen=True, eq=False, kw_only=True)
class CubaLIF(_SpikeFields):
    """Current-based LIF: i = decay_i*i + gain_i*x; v_pre = decay_v*v + gain*i + bias; spike."""

    decay_v: np.ndarray = farray(1.0)
    decay_i: np.ndarray = farray(0.0)
    gain_i: np.ndarray = farray(1.0)
    leaky = True
    current = True
