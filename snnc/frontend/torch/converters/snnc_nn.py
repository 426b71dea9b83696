"""snnc.nn neurons: their update is the IR's ``lif`` / ``if`` by construction. The quantized
layers need no converter: the tracer evaluates their weight quantizers and sees ``F.linear`` /
``F.conv2d`` with weights on a grid."""

from __future__ import annotations

from typing import Any

from ....ir import IF, LIF
from ....nn import IF as NnIF
from ....nn import LIF as NnLIF
from ..context import Context, Port
from . import module_converter
from ._neuron import add_neuron, param


@module_converter(NnLIF, NnIF, stateful=True)
def _lif(ctx: Context, mod: Any, path: str, args: list, kwargs: dict, offset: int) -> Port:
    x = ctx.check_port(args[0])
    fields = {"threshold": param(ctx, mod.threshold, x, "threshold"),
              "comparator": mod.comparator, "reset": mod.reset}
    if isinstance(mod, NnIF):
        return add_neuron(ctx, path, IF, x, **fields)
    return add_neuron(ctx, path, LIF, x, decay_v=param(ctx, mod.decay(), x, "beta"), **fields)
