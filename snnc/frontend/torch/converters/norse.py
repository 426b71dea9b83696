"""Norse ``LIFBoxCell`` and ``LIFCell`` (forward Euler with the module's ``dt``).

With ``a = dt * tau_mem_inv`` and ``b = dt * tau_syn_inv``, Norse computes per step

    LIFBoxCell  v' = v + a * (v_leak - v + x)
    LIFCell     j = i + x;  v' = v + a * (v_leak - v + j);  i <- (1 - b) * j
    z = v' - v_th > 0;  v <- v_reset where z (``reset_value``) or v' - v_th (``reset_subtract``)

that is the IR's ``lif`` / ``cubalif`` with decay_v = 1 - a, gain = a, bias = a * v_leak,
decay_i = 1 - b, the ``>`` comparator, and initial v = v_leak. The state returned by the cell
is only usable as an output. ``norse.torch.LIF`` (the sequence module: it loops over the
leading T axis of its (T, B, ...) input with the same step as ``LIFCell``) is the same neuron;
a model that contains one takes time-major input (``states.uses_multi_step``).

Norse 1.1 has no box sequence module (no ``LIFBox``); its way to run a cell over a sequence
is ``norse.torch.Lift(cell)``, which applies the module to each step of a (T, B, ...) input.
``Lift`` of a neuron cell (``LIFBoxCell``, ``LIFCell``) is that cell's neuron on the time-major
input, and ``Lift`` of a stateless layer (``nn.Linear``, ``nn.Conv2d``, ...) is the layer
applied per step, as SpikingJelly's ``SeqToANNContainer``.
"""

from __future__ import annotations

from typing import Any

from norse.torch.functional.reset import reset_subtract, reset_value
from norse.torch.module.lif import LIF as LIFSequence
from norse.torch.module.lif import LIFCell
from norse.torch.module.lif_box import LIFBoxCell
from norse.torch.module.lift import Lift

from ....ir import LIF, CubaLIF
from ..context import Context, Port, State
from . import is_stateful, module_converter
from ._neuron import add_neuron, param, require_no_state


def _reset(ctx: Context, p: Any, x: Port) -> dict[str, Any]:
    method = getattr(p, "reset_method", reset_value)
    if method is reset_subtract:
        return {"reset": "subtract"}
    if method is not reset_value:
        ctx.fail(f"reset_method {getattr(method, '__name__', method)}",
                 "reset_value or reset_subtract")
    return {"reset": "hard", "v_reset": param(ctx, p.v_reset, x, "v_reset")}


def _common(ctx: Context, mod: Any, x: Port) -> dict[str, Any]:
    p, dt = mod.p, float(mod.dt)
    a = dt * param(ctx, p.tau_mem_inv, x, "tau_mem_inv")
    v_leak = param(ctx, p.v_leak, x, "v_leak")
    return {"decay_v": 1.0 - a, "gain": a, "bias": a * v_leak, "v_init": v_leak,
            "threshold": param(ctx, p.v_th, x, "v_th"), "comparator": ">"}


@module_converter(LIFBoxCell, stateful=True)
def _lif_box(ctx: Context, mod: Any, path: str, args: list, kwargs: dict, offset: int) -> Any:
    x = ctx.check_port(args[0])
    require_no_state(ctx, args[1] if len(args) > 1 else kwargs.get("state"), "state")
    out = add_neuron(ctx, path, LIF, x, **_common(ctx, mod, x), **_reset(ctx, mod.p, x))
    return out, State(out.node, "v", ("v",))


@module_converter(LIFSequence, stateful=True)
def _lif_sequence(ctx: Context, mod: Any, path: str, args: list, kwargs: dict,
                  offset: int) -> Any:
    x = ctx.check_port(args[0])
    if x.lead != 2:
        ctx.fail("norse.torch.LIF on a tensor without a leading time axis",
                 "(T, B, ...) input to norse.torch.LIF, or LIFCell for one step")
    return _lif_cell(ctx, mod, path, args, kwargs, offset)


@module_converter(LIFCell, stateful=True)
def _lif_cell(ctx: Context, mod: Any, path: str, args: list, kwargs: dict, offset: int) -> Any:
    x = ctx.check_port(args[0])
    require_no_state(ctx, args[1] if len(args) > 1 else kwargs.get("state"), "state")
    b = float(mod.dt) * param(ctx, mod.p.tau_syn_inv, x, "tau_syn_inv")
    out = add_neuron(ctx, path, CubaLIF, x, decay_i=1.0 - b, **_common(ctx, mod, x),
                     reset="hard", v_reset=param(ctx, mod.p.v_reset, x, "v_reset"))
    return out, State(out.node, "v", ("v", "i"))


@module_converter(Lift, stateful=True)
def _lift(ctx: Context, mod: Any, path: str, args: list, kwargs: dict, offset: int) -> Any:
    from ..tracer import convert_module

    arg = args[0]
    if isinstance(arg, tuple):  # Lift reads (x, state) and starts its cell from that state
        if len(arg) > 1 and isinstance(arg[1], State) and is_stateful(mod.lifted_module):
            ctx.fail("norse.torch.Lift of a cell right after Lift of a cell (Norse's Lift "
                     "starts the second cell from the first cell's final state)",
                     "a layer between the two, e.g. Lift(nn.Linear(...))")
        arg = arg[0]
    x = ctx.check_port(arg)
    if x.lead != 2:
        ctx.fail("norse.torch.Lift on a tensor without a leading time axis",
                 "(T, B, ...) input to Lift")
    inner = mod.lifted_module
    if (is_stateful(inner) or type(inner).__module__.startswith("norse")) and not isinstance(
            inner, LIFBoxCell | LIFCell):
        ctx.fail(f"norse.torch.Lift of {type(inner).__name__}",
                 "Lift of LIFBoxCell or LIFCell, or norse.torch.LIF")
    return convert_module(ctx, inner, f"{path}.lifted_module", [x], {}, 1)
