"""Brian2 model equations and per-step code for each kind of value node.

Every unit is a ``NeuronGroup`` without differential equations: its state advances once per
``dt`` through a ``run_regularly`` update, followed by Brian2's own threshold and reset, so the
discrete-time update of ``ir/neurons.py`` is reproduced statement by statement:

    isyn = decay_i*isyn + gain_i*x      (cubali/cubalif; otherwise isyn = x)
    vpre = decay_v*v + gain*isyn + bias - theta*sprev
    v = vpre;  y = 0 (spiking) or vpre (li, i, cubali)
    threshold:  vpre > theta  (or >=)
    reset:      y = 1 (or vpre if graded);  v = v_reset | v = vpre - theta | sprev = 1 | nothing

``x`` is the unit's input: ``xs`` (accumulated by ``on_pre`` of spike synapses, cleared once
read), ``xa<k>`` (summed variables of analog synapses) and ``xc<d>`` (constants from biases,
active from step ``d``). ``sprev`` is the delayed reset of ``decay_reset=False``: a subtraction of
theta, or for a hard reset ``vpre = v_reset`` on the step after a spike.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class UnitSpec:
    """What the network builder needs to create one unit's ``NeuronGroup``."""

    model: list[str]
    update: str
    threshold: str | None = None
    reset: str | None = None
    values: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass
class Inflow:
    """The input variables of a unit: spike accumulator, analog sums, delayed constants."""

    spikes: bool = False
    analog: list[str] = field(default_factory=list)
    consts: dict[int, np.ndarray] = field(default_factory=dict)

    def model(self) -> list[str]:
        lines = ["xs : 1"] if self.spikes else []
        lines += [f"{a} : 1" for a in self.analog]
        lines += [f"xc{d} : 1 (constant)" for d in sorted(self.consts)]
        return lines

    def expr(self) -> str:
        parts = ["xs"] if self.spikes else []
        parts += self.analog
        parts += [f"xc{d}" if d == 0 else f"xc{d}*int(t_in_timesteps >= {d})"
                  for d in sorted(self.consts)]
        return " + ".join(parts) if parts else "0"

    def values(self) -> dict[str, np.ndarray]:
        return {f"xc{d}": v for d, v in self.consts.items()}

    def clear(self) -> list[str]:
        return ["xs = 0"] if self.spikes else []


def _flat(value: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    return np.broadcast_to(np.asarray(value, dtype=np.float64), shape).ravel().copy()


def neuron_spec(node: Any, inflow: Inflow) -> UnitSpec:
    """The unit of a float neuron op (i, li, if, lif, cubali, cubalif)."""
    decay_v, decay_i = node.decays()
    params = {"decay_v": decay_v, "gain": node.gain, "bias": node.bias}
    x = inflow.expr()
    code = [f"isyn = decay_i*isyn + gain_i*({x})" if node.current else f"isyn = {x}"]
    if node.current:
        params.update(decay_i=decay_i, gain_i=node.gain_i)
    pending = node.spiking and node.reset in ("subtract", "hard") and not node.decay_reset
    vpre = "decay_v*v + gain*isyn + bias"
    if pending and node.reset == "subtract":
        vpre += " - theta*sprev"
    elif pending:  # delayed hard reset: the step after a spike holds v_reset
        vpre = f"({vpre})*(1 - sprev) + v_reset*sprev"
    code.append(f"vpre = {vpre}")
    code += ["v = vpre", "y = 0" if node.spiking else "y = vpre"]
    code += ["sprev = 0"] if pending else []
    state = ["v : 1", "vpre : 1", "y : 1", "isyn : 1"] + (["sprev : 1"] if pending else [])
    values = {"v": _flat(node.v_init, node.shape)}
    spec = UnitSpec(state + inflow.model(), "\n".join(code + inflow.clear()), values=values)
    if node.spiking:
        params.update(theta=node.threshold, v_reset=node.v_reset)
        spec.threshold = f"vpre {node.comparator} theta"
        spec.reset = "\n".join(_reset_code(node, pending))
    spec.model += [f"{p} : 1 (constant)" for p in params]
    spec.values.update({p: _flat(v, node.shape) for p, v in params.items()})
    spec.values.update(inflow.values())
    return spec


def _reset_code(node: Any, pending: bool) -> list[str]:
    lines = ["y = vpre" if node.graded else "y = 1"]
    if pending:
        lines.append("sprev = 1")
    elif node.reset == "hard":
        lines.append("v = v_reset")
    elif node.reset == "subtract":
        lines.append("v = vpre - theta")
    return lines


def threshold_spec(node: Any, inflow: Inflow) -> UnitSpec:
    """The stateless ``threshold`` op: y = x > theta."""
    spec = UnitSpec(["vpre : 1", "y : 1", "theta : 1 (constant)", *inflow.model()],
                    "\n".join([f"vpre = {inflow.expr()}", "y = 0", *inflow.clear()]),
                    threshold=f"vpre {node.comparator} theta", reset="y = 1")
    spec.values = {"theta": _flat(node.threshold, node.shape), **inflow.values()}
    return spec


def relay_spec(inflow: Inflow) -> UnitSpec:
    """A unit that shows a value (output nodes, probes of linear nodes): y = x."""
    return UnitSpec(["y : 1", *inflow.model()],
                    "\n".join([f"y = {inflow.expr()}", *inflow.clear()]),
                    values=inflow.values())


def analog_input_spec(stim_name: str) -> UnitSpec:
    """An input of analog values, read from a ``TimedArray`` each step."""
    return UnitSpec(["y : 1"], f"y = {stim_name}(t, i)")


def ring_code(depth: int) -> tuple[list[str], str]:
    """History variables h1..h<depth> (h<d> = y d steps ago) and the shift run at step start."""
    model = [f"h{d} : 1" for d in range(1, depth + 1)]
    shift = [f"h{d} = h{d - 1}" for d in range(depth, 1, -1)] + ["h1 = y"]
    return model, "\n".join(shift)
