"""The extension point for neuron modules snnc does not recognise: ``register_neuron``.

snnc converts the neurons of snnTorch, SpikingJelly, Norse and snnc.nn by class, and recognises
plain-PyTorch LIF/IF modules by what they compute (``snnc.frontend.torch.handwritten``). For any
other neuron module, tell snnc which IR neuron it is::

    import numpy as np
    from snnc import ir
    from snnc.frontend import register_neuron

    def my_alif_to_ir(module, shape):
        # one IR neuron node for a layer of per-sample ``shape``
        return ir.LIF(shape=shape, decay_v=np.float64(module.beta),
                      threshold=np.float64(module.th), reset="subtract")

    register_neuron(MyNeuron, my_alif_to_ir)

``to_ir(module, shape)`` returns an IR neuron (``ir.LIF``, ``ir.IF``, ``ir.CubaLIF``,
``ir.Threshold``, ...) whose one-step update equals the module's, starting from zero state.
The module is then a leaf of the trace: its ``forward(x)`` returns spikes, or ``forward(x,
state)`` returns ``(spikes, state)``; a state passed in must be zero at the start. Register
before ``snnc.api.compile``/``load`` (in the script that calls them, or in the module that
defines the class, which ``--model``/``--trust-pickle`` import).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

#: module class -> to_ir(module, shape) -> IR neuron node
REGISTERED: dict[type, Callable[[Any, tuple[int, ...]], Any]] = {}


def register_neuron(cls: type, to_ir: Callable[[Any, tuple[int, ...]], Any]) -> None:
    """Convert modules of class ``cls`` (and its subclasses) with ``to_ir(module, shape)``."""
    if not isinstance(cls, type) or not callable(to_ir):
        raise TypeError("register_neuron(cls, to_ir): a class and a callable")
    REGISTERED[cls] = to_ir


def registered_for(cls: type) -> Callable[[Any, tuple[int, ...]], Any] | None:
    for base in cls.__mro__:
        if base in REGISTERED:
            return REGISTERED[base]
    return None
