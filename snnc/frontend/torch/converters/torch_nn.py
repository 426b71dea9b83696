"""torch.nn layers: Linear, Conv1d/2d, BatchNorm1d/2d, AvgPool2d, MaxPool2d, Flatten, Unflatten,
Dropout and Identity (removed). The builders here are shared by the functional converters and
the SpikingJelly wrappers."""

from __future__ import annotations

from typing import Any

import numpy as np
from torch import nn

from ....ir import Affine, AvgPool2d, BatchNorm, Conv1d, Conv2d, Flatten, Linear, MaxPool2d, Reshape
from ..context import Context, Port
from ..quantgrid import to_numpy, weight_value
from . import module_converter


def _tuple(v: Any, n: int) -> tuple[int, ...]:
    return tuple(int(x) for x in v) if isinstance(v, tuple | list) else (int(v),) * n


def linear(ctx: Context, base: str, x: Port, weight: Any, bias: Any) -> Port:
    """``y = x W^T + b`` on the last axis (per-sample shape must be 1-d)."""
    x = ctx.check_port(x)
    if len(x.shape) != 1:
        ctx.fail(f"linear layer applied to per-sample shape {x.shape}",
                 "a 1-d input (flatten first)")
    w = weight_value(weight)
    if bias is None:
        return ctx.add(base, Linear(weight=w), [x])
    return ctx.add(base, Affine(weight=w, bias=to_numpy(bias)), [x])


def conv(ctx: Context, base: str, x: Port, weight: Any, bias: Any, stride: Any, padding: Any,
         dilation: Any, groups: int, nd: int) -> Port:
    x = ctx.check_port(x)
    if len(x.shape) != nd + 1:
        dims = "L" if nd == 1 else "H, W"
        ctx.fail(f"conv{nd}d applied to per-sample shape {x.shape}", f"(C, {dims}) inputs")
    k = tuple(weight.shape[2:])
    dil = _tuple(dilation, nd)
    if isinstance(padding, str):
        if padding == "valid":
            padding = (0,) * nd
        elif all((d * (kk - 1)) % 2 == 0 for d, kk in zip(dil, k, strict=True)):
            padding = tuple(d * (kk - 1) // 2 for d, kk in zip(dil, k, strict=True))
        else:
            ctx.fail("padding='same' with an even kernel (asymmetric padding)",
                     "explicit symmetric padding")
    cls = Conv1d if nd == 1 else Conv2d
    node = cls(input_shape=x.shape, weight=weight_value(weight),
               bias=0.0 if bias is None else to_numpy(bias), stride=_tuple(stride, nd),
               padding=_tuple(padding, nd), dilation=dil, groups=int(groups))
    return ctx.add(base, node, [x])


def batchnorm(ctx: Context, base: str, x: Port, mean: Any, var: Any, weight: Any, bias: Any,
              eps: float) -> Port:
    x = ctx.check_port(x)
    if mean is None or var is None:
        ctx.fail("batch norm without running statistics", "track_running_stats=True")
    c = x.shape[0] if x.shape else 0
    w = np.ones(c) if weight is None else to_numpy(weight)
    b = np.zeros(c) if bias is None else to_numpy(bias)
    node = BatchNorm(shape=x.shape, mean=to_numpy(mean), var=to_numpy(var), weight=w, bias=b,
                     eps=float(eps))
    return ctx.add(base, node, [x])


def pool(ctx: Context, base: str, x: Port, kind: str, kernel: Any, stride: Any,
         padding: Any) -> Port:
    x = ctx.check_port(x)
    if len(x.shape) != 3:
        ctx.fail(f"2-d pooling applied to per-sample shape {x.shape}", "(C, H, W) inputs")
    k = _tuple(kernel, 2)
    s = k if stride is None or stride == [] or stride == () else _tuple(stride, 2)
    cls = AvgPool2d if kind == "avg" else MaxPool2d
    node = cls(input_shape=x.shape, kernel_size=k, stride=s, padding=_tuple(padding, 2))
    return ctx.add(base, node, [x], spiking=x.spiking and kind == "max")


def reshape(ctx: Context, base: str, x: Port, out_shape: tuple[int, ...]) -> Port:
    """A per-sample reshape: ``Flatten`` when it flattens everything, else ``Reshape``."""
    x = ctx.check_port(x)
    out_shape = tuple(int(d) for d in out_shape)
    if int(np.prod(out_shape)) != int(np.prod(x.shape)):
        ctx.fail(f"reshape of per-sample shape {x.shape} to {out_shape} mixes in the batch "
                 "or time axes", "reshapes that keep the leading batch (and time) axes")
    if out_shape == x.shape:
        return x
    if len(out_shape) == 1 and len(x.shape) > 1:
        p = ctx.add(base, Flatten(input_shape=x.shape, start_dim=0, end_dim=-1), [x])
    else:
        p = ctx.add(base, Reshape(input_shape=x.shape, output_shape=out_shape), [x])
    return Port(p.node, p.shape, x.lead, x.spiking)


def flatten_dims(ctx: Context, x: Port, start: int, end: int, offset: int) -> tuple[int, ...]:
    """Output per-sample shape of ``flatten(start, end)`` on a tensor with ``offset`` lead axes."""
    nd = len(x.shape) + offset
    s, e = start % nd, end % nd
    if s < offset:
        ctx.fail(f"flatten(start_dim={start}) merges the batch or time axis into the features",
                 f"start_dim >= {offset}")
    s, e = s - offset, e - offset
    shp = x.shape
    return (*shp[:s], int(np.prod(shp[s:e + 1])), *shp[e + 1:])


@module_converter(nn.Linear)
def _linear(ctx: Context, mod: nn.Linear, path: str, args: list, kwargs: dict, offset: int):
    return linear(ctx, path, args[0], mod.weight, mod.bias)


@module_converter(nn.Conv1d, nn.Conv2d)
def _conv(ctx: Context, mod: nn.Conv2d, path: str, args: list, kwargs: dict, offset: int):
    if mod.padding_mode != "zeros":
        ctx.fail(f"padding_mode={mod.padding_mode!r}", "padding_mode='zeros'")
    nd = 1 if isinstance(mod, nn.Conv1d) else 2
    return conv(ctx, path, args[0], mod.weight, mod.bias, mod.stride, mod.padding, mod.dilation,
                mod.groups, nd)


@module_converter(nn.BatchNorm1d, nn.BatchNorm2d)
def _bn(ctx: Context, mod: nn.BatchNorm2d, path: str, args: list, kwargs: dict, offset: int):
    return batchnorm(ctx, path, args[0], mod.running_mean, mod.running_var, mod.weight, mod.bias,
                     mod.eps)


@module_converter(nn.AvgPool2d)
def _avgpool(ctx: Context, mod: nn.AvgPool2d, path: str, args: list, kwargs: dict, offset: int):
    if mod.ceil_mode or not mod.count_include_pad or mod.divisor_override:
        ctx.fail("AvgPool2d with ceil_mode, count_include_pad=False or divisor_override",
                 "the defaults (floor, zero padding counted)")
    return pool(ctx, path, args[0], "avg", mod.kernel_size, mod.stride, mod.padding)


@module_converter(nn.MaxPool2d)
def _maxpool(ctx: Context, mod: nn.MaxPool2d, path: str, args: list, kwargs: dict, offset: int):
    if mod.ceil_mode or mod.return_indices or _tuple(mod.dilation, 2) != (1, 1):
        ctx.fail("MaxPool2d with ceil_mode, return_indices or dilation", "the defaults")
    return pool(ctx, path, args[0], "max", mod.kernel_size, mod.stride, mod.padding)


@module_converter(nn.Flatten)
def _flatten(ctx: Context, mod: nn.Flatten, path: str, args: list, kwargs: dict, offset: int):
    x = ctx.check_port(args[0])
    return reshape(ctx, path, x, flatten_dims(ctx, x, mod.start_dim, mod.end_dim, offset))


@module_converter(nn.Unflatten)
def _unflatten(ctx: Context, mod: nn.Unflatten, path: str, args: list, kwargs: dict, offset: int):
    x = ctx.check_port(args[0])
    d = mod.dim % (len(x.shape) + offset) - offset
    if d < 0:
        ctx.fail("Unflatten of the batch or time axis", "dims after the batch axis")
    return reshape(ctx, path, x, (*x.shape[:d], *mod.unflattened_size, *x.shape[d + 1:]))


@module_converter(nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Identity)
def _identity(ctx: Context, mod: nn.Module, path: str, args: list, kwargs: dict, offset: int):
    return ctx.check_port(args[0])
