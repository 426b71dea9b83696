"""ANN activations for conversion: nn.ReLU / F.relu / relu6, clamp / clip / hardtanh, floor, and
the constants added by quantized activations (QCFS). They become the float ops of
``ir/activations.py``; ``snnc convert`` later turns them into integrate-and-fire neurons.
A QCFS module written as papers write it traces to scale/clip/shift/floor ops, which the loader
fuses into one ``qcfs`` op (``ir.staircase``)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ....ir import Clip, Floor, ReLU, Round, Shift
from ..context import Context, Port
from ..quantgrid import to_numpy
from . import function_converter, module_converter


def _arg(args: list, kwargs: dict, i: int, name: str, default: Any = None) -> Any:
    return args[i] if len(args) > i else kwargs.get(name, default)


def _const(ctx: Context, x: Port, v: Any, what: str) -> np.ndarray:
    if isinstance(v, Port):
        ctx.fail(f"{what} depends on the input", f"a constant {what}")
    arr = np.asarray(to_numpy(v), dtype=np.float64)
    while arr.ndim > len(x.shape) and arr.shape[0] == 1:
        arr = arr[0]
    if arr.ndim > len(x.shape):
        ctx.fail(f"{what} of shape {arr.shape} spans the batch axis", "per-sample constants")
    return arr


def relu(ctx: Context, base: str, x: Any) -> Port:
    x = ctx.check_port(x)
    return ctx.add(base, ReLU(shape=x.shape), [x])


def clip(ctx: Context, base: str, x: Any, lo: Any, hi: Any) -> Port:
    x = ctx.check_port(x)
    lo_a = np.float64(-np.inf) if lo is None else _const(ctx, x, lo, "clamp bound")
    hi_a = np.float64(np.inf) if hi is None else _const(ctx, x, hi, "clamp bound")
    return ctx.add(base, Clip(shape=x.shape, lo=lo_a, hi=hi_a), [x])


def shift(ctx: Context, base: str, x: Any, c: Any) -> Port:
    x = ctx.check_port(x)
    return ctx.add(base, Shift(shape=x.shape, offset=_const(ctx, x, c, "added constant")), [x])


@module_converter(nn.ReLU)
def _relu_mod(ctx: Context, mod: nn.Module, path: str, args: list, kwargs: dict, offset: int):
    return relu(ctx, path, args[0])


@module_converter(nn.ReLU6)
def _relu6_mod(ctx: Context, mod: nn.Module, path: str, args: list, kwargs: dict, offset: int):
    return clip(ctx, path, args[0], 0.0, 6.0)


@module_converter(nn.Hardtanh)
def _hardtanh_mod(ctx: Context, mod: nn.Hardtanh, path: str, args: list, kwargs: dict,
                  offset: int):
    return clip(ctx, path, args[0], mod.min_val, mod.max_val)


@function_converter(F.relu, torch.relu, "method:relu", "method:relu_", F.relu_)
def _relu_fn(ctx: Context, fn: Any, args: list, kwargs: dict, rec: Any) -> Port:
    return relu(ctx, ctx.where.path, args[0])


@function_converter(F.relu6)
def _relu6_fn(ctx: Context, fn: Any, args: list, kwargs: dict, rec: Any) -> Port:
    return clip(ctx, ctx.where.path, args[0], 0.0, 6.0)


@function_converter(torch.clamp, torch.clip, "method:clamp", "method:clip", "method:clamp_",
                    F.hardtanh)
def _clamp(ctx: Context, fn: Any, args: list, kwargs: dict, rec: Any) -> Port:
    if fn is F.hardtanh:
        lo, hi = _arg(args, kwargs, 1, "min_val", -1.0), _arg(args, kwargs, 2, "max_val", 1.0)
    else:
        lo, hi = _arg(args, kwargs, 1, "min"), _arg(args, kwargs, 2, "max")
    return clip(ctx, ctx.where.path, args[0], lo, hi)


@function_converter(torch.round, "method:round")
def _round(ctx: Context, fn: Any, args: list, kwargs: dict, rec: Any) -> Port:
    x = ctx.check_port(args[0])
    if kwargs.get("decimals", args[1] if len(args) > 1 else 0):
        ctx.fail("round to decimals", "torch.round(x) (to integers, halves to even)")
    return ctx.add(ctx.where.path, Round(shape=x.shape), [x])


@function_converter(torch.floor, "method:floor")
def _floor(ctx: Context, fn: Any, args: list, kwargs: dict, rec: Any) -> Port:
    x = ctx.check_port(args[0])
    return ctx.add(ctx.where.path, Floor(shape=x.shape), [x])
