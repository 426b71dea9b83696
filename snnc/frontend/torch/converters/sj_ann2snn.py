"""SpikingJelly ``ann2snn`` output: ``VoltageScaler`` (and ``ChannelVoltageScaler``) modules, the
current scalings its converter puts around each ``IFNode``: ``y = x * scale``. The IF nodes
themselves are SpikingJelly neurons (``spikingjelly.py``)."""

from __future__ import annotations

from typing import Any

from spikingjelly.activation_based.ann2snn import modules as sj

from ..context import Context
from . import module_converter
from .functional import _scale


@module_converter(sj.VoltageScaler)
def _voltage_scaler(ctx: Context, mod: Any, path: str, args: list, kwargs: dict, offset: int):
    x = ctx.check_port(args[0])
    if getattr(mod, "step_mode", "s") == "m" and x.lead != 2:
        ctx.fail("multi-step VoltageScaler on a single-step tensor", "(T, B, ...) inputs")
    return _scale(ctx, x, mod.scale, path)


@module_converter(sj.ChannelVoltageScaler)
def _channel_scaler(ctx: Context, mod: Any, path: str, args: list, kwargs: dict, offset: int):
    x = ctx.check_port(args[0])
    dim = getattr(mod, "channel_dim", 1) - offset
    scale = mod.scale.detach().reshape(-1)
    if dim != 0 or scale.numel() not in (1, x.shape[0]):
        ctx.fail(f"ChannelVoltageScaler over dim {mod.channel_dim}", "scaling of channels")
    shape = (-1,) + (1,) * (len(x.shape) - 1)
    return _scale(ctx, x, scale.reshape(shape), path)
