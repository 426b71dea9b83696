"""Converter for neurons registered with ``snnc.frontend.register_neuron`` and for plain-PyTorch
LIF/IF modules recognised by ``snnc.frontend.torch.handwritten`` (not a family: chosen in
``find_module_converter`` before the class registry)."""

from __future__ import annotations

from typing import Any

from ...neurons import registered_for
from ..context import Context, State
from ..handwritten import NotANeuron, describe, fit, forward_takes_state
from ._neuron import require_no_state

_FIX = ("a LIF/IF module of the recognised form (v = beta * v + x; s = v > threshold, through a "
        "surrogate autograd.Function if you like; hard or subtract reset; see README), or "
        "register the class: snnc.frontend.register_neuron(cls, to_ir)")


def convert_user_neuron(ctx: Context, mod: Any, path: str, args: list, kwargs: dict,
                        offset: int) -> Any:
    x = ctx.check_port(args[0])
    for st in [*args[1:], *kwargs.values()]:
        require_no_state(ctx, st, "the initial state")
    threaded = forward_takes_state(mod, args, kwargs)
    to_ir = registered_for(type(mod))
    spike_index: int | None = 0
    if to_ir is not None:
        node = to_ir(mod, x.shape)
    else:
        try:
            found = fit(mod, x.shape, threaded)
        except NotANeuron as exc:
            ctx.fail(f"{describe(mod)} looks like a neuron (it compares a value with a "
                     f"threshold) but is not recognised: {exc}", _FIX)
            raise AssertionError from exc  # unreachable: ctx.fail raises
        node, spike_index = found.node, found.spike_index
    p = ctx.add(path, node, [x], spiking=bool(getattr(node, "spiking", False))
                or node.op == "threshold")
    if not threaded:
        return p
    out = [p, State(p.node, "v")]
    return tuple(out if spike_index in (0, None) else out[::-1])
