"""ATen ops of ``torch.export`` programs (``.pt2``), mapped onto the functional converters, and
``snnc::lif_step``, the custom op that snnc.nn neurons become under ``torch.export``.

Neurons of other frameworks are decomposed into elementwise ATen ops by ``torch.export`` and
cannot be recovered: such programs are refused at the first of those ops (save the module
itself instead).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

import snnc.nn  # noqa: F401  (registers snnc::lif_step)

from ....ir import IF, LIF
from ....nn.neurons import COMPARATORS, RESETS
from ..context import Context, Port, State
from . import activations as act
from . import function_converter
from . import functional as fn
from ._neuron import add_neuron, param

aten = torch.ops.aten

ALIASES = {
    fn._linear: [aten.linear.default],
    fn._identity: [aten.dropout.default, aten.clone.default, aten.contiguous.default,
                   aten.alias.default, aten.detach.default, aten._to_copy.default],
    fn._flatten: [aten.flatten.using_ints],
    fn._reshape: [aten.view.default, aten.reshape.default, aten._unsafe_view.default,
                  aten.unsqueeze.default, aten.squeeze.dim, aten.squeeze.default],
    fn._add: [aten.add.Tensor],
    fn._sub: [aten.sub.Tensor],
    fn._mul: [aten.mul.Tensor, aten.mul.Scalar],
    fn._div: [aten.div.Tensor, aten.div.Scalar],
    fn._neg: [aten.neg.default],
    fn._time_reduce: [aten.mean.dim, aten.sum.dim_IntList],
    fn._cat: [aten.cat.default],
}
ALIASES.update({
    act._relu_fn: [aten.relu.default, aten.relu_.default],
    act._clamp: [aten.clamp.default, aten.clip.default, aten.clamp.Tensor],
    act._floor: [aten.floor.default],
})
for _conv, _targets in ALIASES.items():
    function_converter(*_targets)(_conv)


@function_converter(aten.hardtanh.default)
def _hardtanh(ctx: Context, op: Any, args: list, kwargs: dict, rec: Any) -> Port:
    return act._clamp(ctx, torch.nn.functional.hardtanh, args, kwargs, rec)


@function_converter(aten.conv1d.default, aten.conv2d.default)
def _conv(ctx: Context, op: Any, args: list, kwargs: dict, rec: Any) -> Port:
    f = torch.nn.functional.conv1d if op is aten.conv1d.default else torch.nn.functional.conv2d
    return fn._conv(ctx, f, args, kwargs, rec)


@function_converter(aten.avg_pool2d.default, aten.max_pool2d.default)
def _pool(ctx: Context, op: Any, args: list, kwargs: dict, rec: Any) -> Port:
    f = torch.nn.functional.avg_pool2d if op is aten.avg_pool2d.default else \
        torch.nn.functional.max_pool2d
    return fn._pool(ctx, f, args, kwargs, rec)


@function_converter(aten._native_batch_norm_legit_no_training.default)
def _bn(ctx: Context, op: Any, args: list, kwargs: dict, rec: Any) -> tuple:
    x, w, b, mean, var = args[:5]
    eps = args[6] if len(args) > 6 else kwargs.get("eps", 1e-5)
    out = fn.batchnorm(ctx, ctx.where.path, x, mean, var, w, b, eps)
    return out, None, None


@function_converter(aten.zeros_like.default)
def _zeros_like(ctx: Context, op: Any, args: list, kwargs: dict, rec: Any) -> Any:
    return rec  # a zero tensor: the initial neuron state, used only by lif_step


@function_converter(torch.ops.snnc.lif_step.default)
def _lif_step(ctx: Context, op: Any, args: list, kwargs: dict, rec: Any) -> tuple:
    x, v, decay, threshold, reset, inclusive = args
    x = ctx.check_port(x)
    if isinstance(v, Port) or np.any(fn.to_numpy(v) != 0):
        ctx.fail("neuron state passed in from a computation", "a fresh state per forward")
    d = param(ctx, decay, x, "beta")
    fields = {"threshold": param(ctx, threshold, x, "threshold"),
              "comparator": COMPARATORS[1 if inclusive else 0], "reset": RESETS[int(reset)]}
    node = ctx.where.path
    out = (add_neuron(ctx, node, IF, x, **fields) if np.all(d == 1)
           else add_neuron(ctx, node, LIF, x, decay_v=d, **fields))
    return out, State(out.node, "v")


@function_converter(aten.batch_norm.default)
def _batch_norm(ctx: Context, op: Any, args: list, kwargs: dict, rec: Any) -> Port:
    x, w, b, mean, var = args[:5]
    if len(args) > 5 and args[5]:
        ctx.fail("batch norm in training mode", "an eval-mode export (model.eval())")
    eps = args[7] if len(args) > 7 else kwargs.get("eps", 1e-5)
    return fn.batchnorm(ctx, ctx.where.path, x, mean, var, w, b, eps)
