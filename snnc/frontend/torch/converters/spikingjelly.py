"""SpikingJelly (activation_based) neurons, layer wrappers and containers.

Neurons (``>=`` comparator, ``H - V_th >= 0``; initial ``v = v_reset``, or 0 for soft reset):

    IFNode               H = V + X
    LIFNode              H = V + (X - (V - V_r)) / tau          (decay_input=True)
                         H = V - (V - V_r) / tau + X            (decay_input=False)
    ParametricLIFNode    as LIF with 1/tau = sigmoid(w)
    reset                V = V_r where spiking (hard), or V = H - V_th (v_reset=None, soft)

so decay_v = 1 - 1/tau, gain = 1/tau (or 1), bias = V_r/tau (V_r = 0 for soft reset).
Layer wrappers in step mode 'm' act on (T*B, ...) like their torch.nn twins; containers
(``SeqToANNContainer``, ``MultiStepContainer``) convert their children one after the other.
"""

from __future__ import annotations

from typing import Any

import torch
from spikingjelly.activation_based import layer, neuron

from ....ir import IF, LIF
from ..context import Context, Port
from . import is_stateful, module_converter
from ._neuron import add_neuron, param
from .torch_nn import _avgpool, _bn, _conv, _flatten, _linear, _maxpool


def _check_mode(ctx: Context, mod: Any, x: Port, offset: int) -> None:
    """Mode 'm' needs (T, B, ...) tensors; mode 's' sees (B, ...) (offset 1 inside containers)."""
    mode = getattr(mod, "step_mode", "s")
    if mode == "m" and x.lead != 2:
        ctx.fail("multi-step module on a single-step tensor", "(T, B, ...) inputs in mode 'm'")
    if mode == "s" and offset == 2:
        ctx.fail("single-step module on a (T, B, ...) tensor",
                 "step_mode='m', or wrap it in SeqToANNContainer/MultiStepContainer")


def _reset(mod: Any) -> dict[str, Any]:
    v_reset = mod.v_reset
    if v_reset is None:
        return {"reset": "subtract", "v_init": 0.0}
    return {"reset": "hard", "v_reset": float(v_reset), "v_init": float(v_reset)}


def _lif(ctx: Context, mod: Any, path: str, x: Port, inv_tau: Any) -> Port:
    k = param(ctx, inv_tau, x, "1/tau")
    vr = 0.0 if mod.v_reset is None else float(mod.v_reset)
    return add_neuron(ctx, path, LIF, x, decay_v=1.0 - k, gain=k if mod.decay_input else 1.0,
                      bias=k * vr, threshold=param(ctx, mod.v_threshold, x, "v_threshold"),
                      comparator=">=", **_reset(mod))


@module_converter(neuron.IFNode, stateful=True)
def _if(ctx: Context, mod: Any, path: str, args: list, kwargs: dict, offset: int) -> Port:
    x = ctx.check_port(args[0])
    _check_mode(ctx, mod, x, offset)
    return add_neuron(ctx, path, IF, x, threshold=param(ctx, mod.v_threshold, x, "v_threshold"),
                      comparator=">=", **_reset(mod))


@module_converter(neuron.LIFNode, stateful=True)
def _lif_node(ctx: Context, mod: Any, path: str, args: list, kwargs: dict, offset: int) -> Port:
    x = ctx.check_port(args[0])
    _check_mode(ctx, mod, x, offset)
    return _lif(ctx, mod, path, x, 1.0 / float(mod.tau))


@module_converter(neuron.ParametricLIFNode, stateful=True)
def _plif(ctx: Context, mod: Any, path: str, args: list, kwargs: dict, offset: int) -> Port:
    x = ctx.check_port(args[0])
    _check_mode(ctx, mod, x, offset)
    return _lif(ctx, mod, path, x, torch.sigmoid(mod.w.detach().double()))


def _stepwise(torch_conv: Any):
    """A torch.nn converter applied per step: in mode 'm' the module sees (T*B, ...)."""

    def conv(ctx: Context, mod: Any, path: str, args: list, kwargs: dict, offset: int) -> Any:
        x = ctx.check_port(args[0])
        _check_mode(ctx, mod, x, offset)
        return torch_conv(ctx, mod, path, args, kwargs, 1 if mod.step_mode == "m" else offset)

    return conv


for _cls, _conv_fn in ((layer.Linear, _linear), (layer.Conv1d, _conv), (layer.Conv2d, _conv),
                       (layer.BatchNorm1d, _bn), (layer.BatchNorm2d, _bn),
                       (layer.AvgPool2d, _avgpool), (layer.MaxPool2d, _maxpool),
                       (layer.Flatten, _flatten)):
    module_converter(_cls)(_stepwise(_conv_fn))


@module_converter(layer.Dropout, layer.Dropout2d)
def _dropout(ctx: Context, mod: Any, path: str, args: list, kwargs: dict, offset: int) -> Port:
    return ctx.check_port(args[0])  # identity in eval mode


@module_converter(layer.SeqToANNContainer, layer.MultiStepContainer)
def _container(ctx: Context, mod: Any, path: str, args: list, kwargs: dict, offset: int) -> Any:
    from ..tracer import convert_module

    x = ctx.check_port(args[0])
    if x.lead != 2:
        ctx.fail(f"{type(mod).__name__} on a single-step tensor", "(T, B, ...) inputs")
    for name, child in mod.named_children():
        if isinstance(mod, layer.SeqToANNContainer) and is_stateful(child):
            ctx.fail(f"stateful {type(child).__name__} inside SeqToANNContainer (it would treat "
                     "time as batch)", "neurons outside the container, or MultiStepContainer")
        x = convert_module(ctx, child, f"{path}.{name}", [x], {}, 1)
    return x
