"""snnTorch ``Leaky`` and ``Synaptic``.

snnTorch (``reset_delay=True``, the default) computes, with ``r[t] = mem[t-1] > threshold``:

    Leaky     mem[t] = beta * mem[t-1] + x[t] - r[t] * threshold         ("subtract")
              mem[t] = beta * (1 - r[t]) * mem[t-1] + x[t]               ("zero")
    Synaptic  syn[t] = alpha * syn[t-1] + x[t]; mem[t] = beta * mem[t-1] + syn[t] - r[t] * thr
    spk[t] = mem[t] > threshold (times ``graded_spikes_factor``)

so "subtract" is the IR's subtract reset with ``decay_reset=False`` and Leaky's "zero" is the IR's
hard reset to 0. Synaptic's "zero" reset zeroes the whole next update including that step's input
(``mem[t] = (1 - r[t]) * (beta * mem[t-1] + syn[t])``): the IR's delayed hard reset
(``reset="hard", decay_reset=False``).
``beta``/``alpha`` are clamped to [0, 1] as snnTorch does; learnable values are read out.
"""

from __future__ import annotations

from typing import Any

import snntorch

from ....ir import LIF, CubaLIF
from ..context import Context, State
from . import module_converter
from ._neuron import add_neuron, graded, param, require_no_state

_MODES = {"_base_sub": "subtract", "_base_zero": "zero", "_base_int": "none"}


def _mode(ctx: Context, mod: Any) -> str:
    fn = getattr(mod.state_function, "__name__", "")
    mode = _MODES.get(fn)
    if mode is None:
        ctx.fail(f"unknown snnTorch state function {fn!r}", "reset_mechanism subtract/zero/none")
    if getattr(mod, "inhibition", False):
        ctx.fail("inhibition=True", "inhibition=False")
    if getattr(mod, "state_quant", False):
        ctx.fail("state_quant (membrane quantisation)", "state_quant=False")
    if not getattr(mod, "reset_delay", True):
        ctx.fail("reset_delay=False", "reset_delay=True (the default)")
    return str(mode)


def _reset_fields(mode: str, synaptic: bool = False) -> dict[str, Any]:
    """Leaky's "zero" clears mem before integrating (the IR's hard reset); Synaptic's zeroes the
    integrated value of the step after a spike (a delayed hard reset, ``decay_reset=False``)."""
    if mode == "subtract":
        return {"reset": "subtract", "decay_reset": False}
    if mode == "zero":
        return {"reset": "hard", "v_reset": 0.0, "decay_reset": not synaptic}
    return {"reset": "none"}


@module_converter(snntorch.Leaky, stateful=True)
def _leaky(ctx: Context, mod: Any, path: str, args: list, kwargs: dict, offset: int) -> Any:
    x = ctx.check_port(args[0])
    require_no_state(ctx, args[1] if len(args) > 1 else kwargs.get("mem"), "mem")
    mode = _mode(ctx, mod)
    p = add_neuron(ctx, path, LIF, x, decay_v=param(ctx, mod.beta.clamp(0, 1), x, "beta"),
                   threshold=param(ctx, mod.threshold, x, "threshold"), comparator=">",
                   **_reset_fields(mode))
    spk = graded(ctx, path, p, mod.graded_spikes_factor)
    if mod.init_hidden and not mod.output:
        return spk
    return spk, State(p.node, "v")


@module_converter(snntorch.Synaptic, stateful=True)
def _synaptic(ctx: Context, mod: Any, path: str, args: list, kwargs: dict, offset: int) -> Any:
    x = ctx.check_port(args[0])
    require_no_state(ctx, args[1] if len(args) > 1 else kwargs.get("syn"), "syn")
    require_no_state(ctx, args[2] if len(args) > 2 else kwargs.get("mem"), "mem")
    mode = _mode(ctx, mod)
    p = add_neuron(ctx, path, CubaLIF, x, decay_i=param(ctx, mod.alpha.clamp(0, 1), x, "alpha"),
                   decay_v=param(ctx, mod.beta.clamp(0, 1), x, "beta"),
                   threshold=param(ctx, mod.threshold, x, "threshold"), comparator=">",
                   **_reset_fields(mode, synaptic=True))
    spk = graded(ctx, path, p, mod.graded_spikes_factor)
    if mod.init_hidden and not mod.output:
        return spk
    return spk, State(p.node, "i"), State(p.node, "v")
