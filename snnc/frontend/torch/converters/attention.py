"""Spiking self-attention: products of input-dependent tensors, sums over tokens, multi-head
transposes, ``matmul`` of spike matrices, and the attention forms snnc refuses (softmax).

- ``a * b`` of two input-dependent tensors is a ``mul`` node; operands of different shapes are
  broadcast first (``broadcast`` of their size-1 axes). The product of two spike tensors is
  spikes (an AND), anything else is an integer- or real-valued product.
- ``x.sum(dim)`` / ``x.mean(dim)`` over per-sample axes: ``axis_sum`` (then a ``scale`` for the
  mean). Over SpikingJelly's time axis they remain the readout (``functional._time_reduce``).
- ``transpose`` / ``permute`` / ``.T`` of per-sample axes: ``permute``.
- ``a @ b`` (``matmul``) of two input-dependent tensors: ``A[..., n, k] @ B[..., k, m]`` is the
  sum over k of the product of both broadcast to (..., n, k, m), so Q(KᵀV) of spike matrices is
  built from the same three ops, with integer results.
- softmax (and the other float normalisations of vanilla attention: log-softmax, layer norm,
  ``scaled_dot_product_attention``, and the modules ``nn.MultiheadAttention``, ``nn.Softmax``,
  ``nn.LayerNorm``, ``nn.Transformer*``) is refused by name: it has no exact lowering to neurons
  and synapses. The spike-matrix products with integer results (and multi-level integer
  operands) lower in ``snnc/passes/integer_products.py``.
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ....ir import AxisSum, Broadcast, Mul, Permute, Reshape, Scale
from ..context import Context, Port
from . import function_converter


def _axis(ctx: Context, x: Port, dim: int, what: str) -> int:
    nd = len(x.shape) + x.lead
    d = int(dim) % nd - x.lead
    if d < 0:
        ctx.fail(f"{what} over the batch or time axis", f"{what} over per-sample axes")
    return d


def _to_shape(ctx: Context, x: Port, shape: tuple[int, ...], base: str) -> Port:
    if x.shape == shape:
        return x
    if len(x.shape) != len(shape):
        x = _view(ctx, x, (1,) * (len(shape) - len(x.shape)) + x.shape, f"{base}_rank")
    node = Broadcast(input_shape=x.shape, output_shape=shape)
    return ctx.add(f"{base}_bcast", node, [x], spiking=x.spiking)


def _view(ctx: Context, x: Port, shape: tuple[int, ...], base: str) -> Port:
    if x.shape == shape:
        return x
    return ctx.add(base, Reshape(input_shape=x.shape, output_shape=shape), [x], spiking=x.spiking)


def port_product(ctx: Context, a: Port, b: Port) -> Port:
    """``a * b`` of two input-dependent tensors (``functional._mul`` delegates here)."""
    a, b = ctx.check_port(a), ctx.check_port(b)
    if a.lead != b.lead:
        ctx.fail("multiplies a single-step and a multi-step tensor", "operands of one kind")
    try:
        shape = tuple(np.broadcast_shapes(a.shape, b.shape))
    except ValueError:
        ctx.fail(f"multiplies shapes {a.shape} and {b.shape}", "broadcastable shapes")
    base = ctx.where.path
    ops = [_to_shape(ctx, p, shape, f"{base}_{i}") for i, p in enumerate((a, b))]
    return ctx.add(base, Mul(shape=shape), ops, spiking=a.spiking and b.spiking)


def axis_reduce(ctx: Context, x: Port, dim: Any, keepdim: bool, kind: str) -> Port:
    """``x.sum(dim)`` / ``x.mean(dim)`` over per-sample axes."""
    dims = dim if isinstance(dim, tuple | list) else (dim,)
    if dim is None:
        ctx.fail(f"{kind} over all axes (batch included)", f"{kind} over per-sample axes")
    axes = tuple(sorted({_axis(ctx, x, d, kind) for d in dims}))
    node = AxisSum(input_shape=x.shape, axes=axes, keepdim=bool(keepdim))
    out = ctx.add(ctx.where.path, node, [x])
    if kind == "mean":
        n = int(np.prod([x.shape[a] for a in axes]))
        out = ctx.add(f"{ctx.where.path}_mean", Scale(shape=out.shape, scale=1.0 / n), [out])
    return out


def _permute(ctx: Context, x: Port, perm: tuple[int, ...]) -> Port:
    if perm == tuple(range(len(perm))):
        return x
    node = Permute(input_shape=x.shape, perm=perm)
    return ctx.add(ctx.where.path, node, [x], spiking=x.spiking)


@function_converter(torch.transpose, "method:transpose", "method:swapaxes", torch.swapaxes)
def _transpose(ctx: Context, fn: Any, args: list, kwargs: dict, rec: Any) -> Port:
    x = ctx.check_port(args[0])
    d0 = _axis(ctx, x, args[1] if len(args) > 1 else kwargs["dim0"], "transpose")
    d1 = _axis(ctx, x, args[2] if len(args) > 2 else kwargs["dim1"], "transpose")
    perm = list(range(len(x.shape)))
    perm[d0], perm[d1] = perm[d1], perm[d0]
    return _permute(ctx, x, tuple(perm))


@function_converter(torch.permute, "method:permute")
def _permute_fn(ctx: Context, fn: Any, args: list, kwargs: dict, rec: Any) -> Port:
    x = ctx.check_port(args[0])
    dims = args[1:] if len(args) > 2 else (args[1] if len(args) > 1 else kwargs["dims"])
    dims = [int(d) % (len(x.shape) + x.lead) for d in dims]
    if dims[:x.lead] != list(range(x.lead)):
        ctx.fail("permute that moves the batch or time axis", "permutes of per-sample axes")
    return _permute(ctx, x, tuple(d - x.lead for d in dims[x.lead:]))


@function_converter(torch.matmul, operator.matmul, "method:matmul")
def _matmul(ctx: Context, fn: Any, args: list, kwargs: dict, rec: Any) -> Port:
    a, b = args[0], args[1]
    if not (isinstance(a, Port) and isinstance(b, Port)):
        ctx.fail("matmul with a constant matrix", "nn.Linear / nn.Conv1d(kernel_size=1) for "
                 "fixed weights; matmul of two input-dependent tensors (Q(KᵀV))")
    a, b = ctx.check_port(a), ctx.check_port(b)
    if len(a.shape) < 2 or len(b.shape) < 2 or a.shape[-1] != b.shape[-2]:
        ctx.fail(f"matmul of per-sample shapes {a.shape} and {b.shape}",
                 "(..., n, k) @ (..., k, m)")
    n, k, m = a.shape[-2], a.shape[-1], b.shape[-1]
    try:
        batch = tuple(np.broadcast_shapes(a.shape[:-2], b.shape[:-2]))
    except ValueError:
        ctx.fail(f"matmul batch axes {a.shape[:-2]} and {b.shape[:-2]}", "broadcastable axes")
    base = ctx.where.path
    full = (*batch, n, k, m)
    ea = _to_shape(ctx, _view(ctx, a, (*a.shape, 1), f"{base}_a"), full, f"{base}_a")
    eb = _to_shape(ctx, _view(ctx, b, (*b.shape[:-2], 1, k, m), f"{base}_b"), full, f"{base}_b")
    prod = ctx.add(f"{base}_prod", Mul(shape=full), [ea, eb], spiking=a.spiking and b.spiking)
    node = AxisSum(input_shape=full, axes=(len(full) - 2,))
    return ctx.add(base, node, [prod])


#: torch modules of float attention and normalisation, refused with the attention hint
FLOAT_MODULES = (nn.MultiheadAttention, nn.Softmax, nn.LogSoftmax, nn.Softmax2d, nn.LayerNorm,
                 nn.TransformerEncoderLayer, nn.TransformerDecoderLayer, nn.TransformerEncoder,
                 nn.TransformerDecoder, nn.Transformer)
ATTENTION_HINT = ("spike-driven self-attention (Q * SNN(sum over tokens of K * V)) or the "
                  "spike-matrix form Q @ (K^T @ V) with spiking or multi-level integer Q, K, V, "
                  "and BatchNorm instead of LayerNorm")


def refuse_float_module(ctx: Context, mod: nn.Module) -> None:
    """A float attention or normalisation module: refused naming it and the attention forms
    that do lower (called by the tracer for modules without a converter)."""
    if isinstance(mod, FLOAT_MODULES):
        ctx.fail(f"{type(mod).__name__} (float attention or normalisation: softmax, layer norm) "
                 "has no exact lowering to neurons and synapses", ATTENTION_HINT)


@function_converter(F.softmax, torch.softmax, "method:softmax", F.log_softmax,
                    torch.log_softmax, "method:log_softmax", F.layer_norm,
                    F.scaled_dot_product_attention)
def _float_attention(ctx: Context, fn: Any, args: list, kwargs: dict, rec: Any) -> Port:
    name = getattr(fn, "__name__", str(fn))
    ctx.fail(f"{name} on input-dependent values (float attention or normalisation) has no exact "
             "lowering to neurons and synapses", ATTENTION_HINT)
    raise AssertionError  # unreachable
