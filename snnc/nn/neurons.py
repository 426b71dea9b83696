"""Stateful spiking neurons for training deployable models (one time step per call).

Each call advances the neuron by one step, with exactly the update of ``snnc.ir.neurons``
(``decay_reset=True``):

    v_pre = beta * v + x                 (IF: beta = 1)
    s     = v_pre > threshold            (or >=, per ``comparator``)
    v     = 0 where s (reset="hard"), v_pre - threshold where s (reset="subtract"), else v_pre

The forward value of ``s`` is the exact Heaviside step; its gradient is a fast-sigmoid surrogate
``1 / (1 + slope * |v_pre - threshold|)^2``. The trick ``s_hard + (g - g.detach())`` keeps the
forward value bit-exact and traceable (no ``autograd.Function``).

``beta`` and ``threshold`` are buffers (``nn.Parameter`` with ``learn_beta`` /
``learn_threshold``); reset and comparator are plain attributes, also recorded in the buffers
``reset_code`` / ``comparator_code`` so that TorchScript files carry them. Under ``torch.export``
the step runs as the custom op ``snnc::lif_step``, which snnc's ``.pt2`` loader converts back.

For exact deployment on Loihi: use ``IF`` (no leak), ``reset="hard"``, the ``">"`` comparator,
and a threshold on the weight grid (for example 1.0 with power-of-two weight scales).
"""

from __future__ import annotations

import torch
from torch import nn

RESETS = ("hard", "subtract", "none")
COMPARATORS = (">", ">=")


def spike(v_minus_thr: torch.Tensor, slope: float, inclusive: bool) -> torch.Tensor:
    """Heaviside step of ``v - threshold`` with a fast-sigmoid surrogate gradient."""
    hard = (v_minus_thr >= 0) if inclusive else (v_minus_thr > 0)
    hard = hard.to(v_minus_thr.dtype)
    if not v_minus_thr.requires_grad:
        return hard
    soft = v_minus_thr / (1 + slope * v_minus_thr.abs())  # fast sigmoid, up to scale
    return hard + (soft - soft.detach())


def step(x: torch.Tensor, v: torch.Tensor, decay: torch.Tensor, threshold: torch.Tensor,
         reset: int, inclusive: bool, slope: float = 5.0) -> tuple[torch.Tensor, torch.Tensor]:
    """One neuron update: (spikes, new membrane); ``reset`` indexes ``RESETS``."""
    v_pre = decay * v + x
    s = spike(v_pre - threshold, slope, inclusive)
    if RESETS[reset] == "hard":
        return s, v_pre * (1 - s)
    if RESETS[reset] == "subtract":
        return s, v_pre - s * threshold
    return s, v_pre.clone()


@torch.library.custom_op("snnc::lif_step", mutates_args=())
def lif_step(x: torch.Tensor, v: torch.Tensor, decay: torch.Tensor, threshold: torch.Tensor,
             reset: int, inclusive: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """``step`` as an opaque op, so that ``torch.export`` keeps neurons whole."""
    return step(x, v, decay, threshold, reset, inclusive)


@lif_step.register_fake
def _lif_step_fake(x, v, decay, threshold, reset, inclusive):
    return torch.empty_like(x), torch.empty_like(x)


class LIF(nn.Module):
    """Leaky integrate-and-fire neuron; call it once per time step (see the module docstring).

    Args:
        beta: membrane decay per step (scalar or per neuron); Loihi-exact values are k/4096.
        threshold: firing threshold (scalar or per neuron).
        reset: ``"hard"`` (to 0), ``"subtract"`` (by the threshold) or ``"none"``.
        comparator: ``">"`` (Loihi, snnTorch) or ``">="`` (SpikingJelly).
        slope: steepness of the surrogate gradient.
        learn_beta: make ``beta`` a trainable parameter (clamped to [0, 1] in forward).
        learn_threshold: make ``threshold`` a trainable parameter.
    """

    def __init__(self, beta: float | torch.Tensor = 0.5, threshold: float | torch.Tensor = 1.0,
                 reset: str = "hard", comparator: str = ">", slope: float = 5.0,
                 learn_beta: bool = False, learn_threshold: bool = False) -> None:
        super().__init__()
        if reset not in RESETS:
            raise ValueError(f"reset must be one of {RESETS}, got {reset!r}")
        if comparator not in COMPARATORS:
            raise ValueError(f"comparator must be one of {COMPARATORS}, got {comparator!r}")
        self._register("beta", beta, learn_beta)
        self._register("threshold", threshold, learn_threshold)
        self._reset, self._comparator, self.slope = reset, comparator, float(slope)
        self.register_buffer("reset_code", torch.tensor(RESETS.index(reset)))
        self.register_buffer("comparator_code", torch.tensor(COMPARATORS.index(comparator)))
        self.register_buffer("v", torch.zeros(0), persistent=False)

    def _register(self, name: str, value: float | torch.Tensor, learn: bool) -> None:
        t = torch.as_tensor(value, dtype=torch.get_default_dtype()).clone()
        if learn:
            setattr(self, name, nn.Parameter(t))
        else:
            self.register_buffer(name, t)

    @property
    def reset(self) -> str:
        return self._reset

    @property
    def comparator(self) -> str:
        return self._comparator

    def decay(self) -> torch.Tensor:
        return self.beta.clamp(0, 1)

    def reset_state(self) -> None:
        """Forget the membrane potential (the next call starts from v = 0)."""
        self.v = torch.zeros(0, device=self.v.device)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        v = self.v if self.v.shape == x.shape else torch.zeros_like(x)
        args = (x, v, self.decay(), self.threshold, RESETS.index(self._reset),
                self._comparator == ">=")
        if torch.compiler.is_exporting():
            s, v = torch.ops.snnc.lif_step(*args)
        else:
            s, v = step(*args, slope=self.slope)
        self.v = v
        return s

    def extra_repr(self) -> str:
        return (f"beta={self.beta.tolist()}, threshold={self.threshold.tolist()}, "
                f"reset={self.reset!r}, comparator={self.comparator!r}")


class IF(LIF):
    """Integrate-and-fire neuron: ``LIF`` with ``beta = 1`` (no leak)."""

    def __init__(self, threshold: float | torch.Tensor = 1.0, reset: str = "hard",
                 comparator: str = ">", slope: float = 5.0, learn_threshold: bool = False) -> None:
        super().__init__(1.0, threshold, reset, comparator, slope, False, learn_threshold)

    def decay(self) -> torch.Tensor:
        return self.beta


def reset_states(model: nn.Module) -> None:
    """Reset every stateful snnc.nn neuron in ``model``."""
    for m in model.modules():
        if isinstance(m, LIF):
            m.reset_state()


def run(model: nn.Module, x_seq: torch.Tensor) -> torch.Tensor:
    """Reset ``model`` and run it over a time-major input (T, B, ...); stack the outputs."""
    reset_states(model)
    return torch.stack([model(x) for x in x_seq])
