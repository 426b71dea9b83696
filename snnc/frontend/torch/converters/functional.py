"""Functions and tensor methods real models call in forward: linear/conv/pool/batch_norm, shape
ops (flatten, view, reshape, squeeze, unsqueeze), residual ``add``/``sub``, ``mul``/``div`` by a
constant, spike OR (``a + b - a*b``), ``cat`` (as 0/1 selection matrices, small tensors only),
identities (dropout, contiguous, clone, float/double/to) and a final mean/sum over time."""

from __future__ import annotations

import operator
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ....ir import Add, Linear, Or, Scale
from ..context import Context, Port, spike_or
from ..quantgrid import to_numpy
from . import function_converter
from .activations import shift
from .torch_nn import batchnorm, conv, flatten_dims, linear, pool, reshape

LEAD_DIMS = {1: (2,), 2: (3, 2)}  # the example input's leading axes (see states.example_input)
CAT_LIMIT = 1 << 22


def _arg(args: list, kwargs: dict, i: int, name: str, default: Any = None) -> Any:
    return args[i] if len(args) > i else kwargs.get(name, default)


@function_converter(F.linear)
def _linear(ctx: Context, fn: Any, args: list, kwargs: dict, rec: Any) -> Port:
    return linear(ctx, ctx.where.path, args[0], _arg(args, kwargs, 1, "weight"),
                  _arg(args, kwargs, 2, "bias"))


@function_converter(F.conv1d, F.conv2d, torch.conv1d, torch.conv2d)
def _conv(ctx: Context, fn: Any, args: list, kwargs: dict, rec: Any) -> Port:
    nd = 1 if fn in (F.conv1d, torch.conv1d) else 2
    g = lambda i, n, d: _arg(args, kwargs, i, n, d)  # noqa: E731
    return conv(ctx, ctx.where.path, args[0], g(1, "weight", None), g(2, "bias", None),
                g(3, "stride", 1), g(4, "padding", 0), g(5, "dilation", 1), g(6, "groups", 1), nd)


@function_converter(F.avg_pool2d, F.max_pool2d, torch.max_pool2d)
def _pool(ctx: Context, fn: Any, args: list, kwargs: dict, rec: Any) -> Port:
    kind = "avg" if fn is F.avg_pool2d else "max"
    if kind == "avg" and (_arg(args, kwargs, 4, "ceil_mode", False)
                          or not _arg(args, kwargs, 5, "count_include_pad", True)
                          or _arg(args, kwargs, 6, "divisor_override")):
        ctx.fail("avg_pool2d with ceil_mode, count_include_pad=False or divisor_override",
                 "the defaults")
    if kind == "max" and (_arg(args, kwargs, 4, "dilation", 1) not in (1, (1, 1), [1, 1])
                          or _arg(args, kwargs, 5, "ceil_mode", False)):
        ctx.fail("max_pool2d with dilation or ceil_mode", "the defaults")
    return pool(ctx, ctx.where.path, args[0], kind, args[1] if len(args) > 1 else
                kwargs["kernel_size"], _arg(args, kwargs, 2, "stride"),
                _arg(args, kwargs, 3, "padding", 0))


@function_converter(F.batch_norm)
def _batch_norm(ctx: Context, fn: Any, args: list, kwargs: dict, rec: Any) -> Port:
    g = lambda i, n, d=None: _arg(args, kwargs, i, n, d)  # noqa: E731
    return batchnorm(ctx, ctx.where.path, args[0], g(1, "running_mean"), g(2, "running_var"),
                     g(3, "weight"), g(4, "bias"), g(7, "eps", 1e-5))


@function_converter(F.dropout, F.dropout1d, F.dropout2d, "method:contiguous", "method:clone",
                    "method:float", "method:double", "method:to", "method:detach",
                    "method:type_as", torch.clone)
def _identity(ctx: Context, fn: Any, args: list, kwargs: dict, rec: Any) -> Port:
    return ctx.check_port(args[0])


@function_converter(torch.flatten, "method:flatten")
def _flatten(ctx: Context, fn: Any, args: list, kwargs: dict, rec: Any) -> Port:
    x = ctx.check_port(args[0])
    out = flatten_dims(ctx, x, _arg(args, kwargs, 1, "start_dim", 0),
                       _arg(args, kwargs, 2, "end_dim", -1), x.lead)
    return reshape(ctx, ctx.where.path, x, out)


@function_converter("method:view", "method:reshape", torch.reshape, "method:squeeze",
                    "method:unsqueeze", torch.squeeze, torch.unsqueeze, "method:view_as",
                    "method:reshape_as", "method:unflatten", torch.unflatten)
def _reshape(ctx: Context, fn: Any, args: list, kwargs: dict, rec: Any) -> Port:
    x = ctx.check_port(args[0])
    if not isinstance(rec, torch.Tensor) or tuple(rec.shape[:x.lead]) != LEAD_DIMS[x.lead]:
        ctx.fail("reshape that changes the batch (or time) axes",
                 "reshapes of the per-sample axes, e.g. x.view(x.size(0), -1)")
    return reshape(ctx, ctx.where.path, x, tuple(rec.shape[x.lead:]))


def _is_zero(v: Any) -> bool:
    return not isinstance(v, Port) and bool(np.all(to_numpy(v) == 0))


def _scale(ctx: Context, x: Port, s: Any, base: str) -> Port:
    s = np.asarray(to_numpy(s))
    while s.ndim > len(x.shape) and s.shape[0] == 1:
        s = s[0]
    if s.ndim > len(x.shape):
        ctx.fail(f"multiplies by a constant of shape {s.shape} that spans the batch axis",
                 "scalars or per-sample constants")
    if np.all(s == 1):
        return x
    return ctx.add(base, Scale(shape=x.shape, scale=s), [x])


def _add_ports(ctx: Context, ports: list[Port]) -> Port:
    ports = [ctx.check_port(p) for p in ports]
    shapes = {p.shape for p in ports}
    if len(shapes) != 1 or len({p.lead for p in ports}) != 1:
        ctx.fail(f"adds tensors of different shapes {sorted(shapes)}", "equal shapes")
    return ctx.add(ctx.where.path, Add(shape=ports[0].shape), ports)


@function_converter(operator.add, operator.iadd, torch.add, "method:add", "method:add_")
def _add(ctx: Context, fn: Any, args: list, kwargs: dict, rec: Any) -> Port:
    a, b = args[0], args[1] if len(args) > 1 else kwargs["other"]
    alpha = kwargs.get("alpha", 1)
    if isinstance(b, Port) and alpha != 1:
        b = _scale(ctx, b, alpha, f"{ctx.where.path}_alpha")
    if isinstance(a, Port) and isinstance(b, Port):
        return _add_ports(ctx, [a, b])
    port, const = (a, b) if isinstance(a, Port) else (b, a)
    if not _is_zero(const):
        return shift(ctx, ctx.where.path, port, const)  # quantized activations: + 0.5
    return ctx.check_port(port)


@function_converter(operator.sub, operator.isub, torch.sub, "method:sub")
def _sub(ctx: Context, fn: Any, args: list, kwargs: dict, rec: Any) -> Port:
    a, b = args[0], args[1]
    if isinstance(a, Port) and _is_zero(b):
        return a
    if isinstance(a, Port) and not isinstance(b, Port):
        return shift(ctx, ctx.where.path, a, -to_numpy(b))
    if not (isinstance(a, Port) and isinstance(b, Port)):
        ctx.fail("subtracts a tensor from a constant", "subtracting tensors")
    return _add_ports(ctx, [a, _scale(ctx, ctx.check_port(b), -1.0, f"{ctx.where.path}_neg")])


@function_converter(operator.neg, torch.neg, "method:neg")
def _neg(ctx: Context, fn: Any, args: list, kwargs: dict, rec: Any) -> Port:
    return _scale(ctx, ctx.check_port(args[0]), -1.0, ctx.where.path)


@function_converter(operator.mul, operator.imul, torch.mul, "method:mul")
def _mul(ctx: Context, fn: Any, args: list, kwargs: dict, rec: Any) -> Port:
    a, b = args[0], args[1]
    if isinstance(a, Port) and isinstance(b, Port):
        from .attention import port_product

        return port_product(ctx, a, b)
    port, const = (a, b) if isinstance(a, Port) else (b, a)
    return _scale(ctx, ctx.check_port(port), const, ctx.where.path)


@function_converter(operator.truediv, operator.itruediv, torch.div, "method:div")
def _div(ctx: Context, fn: Any, args: list, kwargs: dict, rec: Any) -> Port:
    a, b = args[0], args[1]
    if not isinstance(a, Port) or isinstance(b, Port) or kwargs.get("rounding_mode"):
        ctx.fail("divides by an input-dependent tensor", "division by constants")
    return _scale(ctx, ctx.check_port(a), 1.0 / to_numpy(b), ctx.where.path)


@function_converter(spike_or)
def _spike_or(ctx: Context, fn: Any, args: list, kwargs: dict, rec: Any) -> Port:
    a, b = ctx.check_port(args[0]), ctx.check_port(args[1])
    if not (a.spiking and b.spiking):
        ctx.fail("a + b - a*b on values that are not both spikes",
                 "spike OR between outputs of spiking neurons")
    if a.shape != b.shape:
        ctx.fail(f"spike OR of shapes {a.shape} and {b.shape}", "equal shapes")
    return ctx.add(ctx.where.path, Or(shape=a.shape), [a, b], spiking=True)


@function_converter(torch.logical_or, torch.maximum, torch.max)
def _logical_or(ctx: Context, fn: Any, args: list, kwargs: dict, rec: Any) -> Port:
    if len(args) != 2 or not all(isinstance(a, Port) for a in args):
        ctx.fail(f"{getattr(fn, '__name__', fn)} outside a spike OR", "torch.max(a, b) on spikes")
    return _spike_or(ctx, fn, args, kwargs, rec)


@function_converter(torch.mean, torch.sum, "method:mean", "method:sum")
def _time_reduce(ctx: Context, fn: Any, args: list, kwargs: dict, rec: Any) -> Port:
    x = ctx.check_port(args[0])
    dim = _arg(args, kwargs, 1, "dim")
    kind = "mean" if fn in (torch.mean, "mean") else "sum"
    if dim is not None and not (x.lead == 2 and dim in (0, (0,), [0])):
        from .attention import axis_reduce

        return axis_reduce(ctx, x, dim, bool(_arg(args, kwargs, 2, "keepdim", False)), kind)
    if x.lead != 2 or dim not in (0, (0,), [0]) or kwargs.get("keepdim"):
        ctx.fail("reduces over axes other than the time axis",
                 "mean(0)/sum(0) over SpikingJelly's time axis as the last operation")
    return Port(x.node, x.shape, 1, x.spiking, time_reduced=kind)


@function_converter(torch.cat, torch.concat)
def _cat(ctx: Context, fn: Any, args: list, kwargs: dict, rec: Any) -> Port:
    xs = [ctx.check_port(p) for p in args[0]]
    lead = xs[0].lead
    dim = _arg(args, kwargs, 1, "dim", 0) % (len(xs[0].shape) + lead) - lead
    if dim < 0 or len({p.lead for p in xs}) != 1:
        ctx.fail("concatenates along the batch or time axis", "concatenation of features")
    out_shape = list(xs[0].shape)
    out_shape[dim] = sum(p.shape[dim] for p in xs)
    n_out = int(np.prod(out_shape))
    if n_out * n_out > CAT_LIMIT:
        ctx.fail(f"cat with {n_out} output values (the IR has no concatenation; snnc builds "
                 "0/1 selection matrices, limited to small tensors)", "smaller concatenations")
    index = np.arange(n_out).reshape(out_shape)
    parts, start = [], 0
    for i, p in enumerate(xs):
        sl = [slice(None)] * len(out_shape)
        sl[dim] = slice(start, start + p.shape[dim])
        start += p.shape[dim]
        sel = np.zeros((n_out, int(np.prod(p.shape))))
        sel[index[tuple(sl)].ravel(), np.arange(sel.shape[1])] = 1.0
        flat = reshape(ctx, f"{ctx.where.path}_in{i}", p, (sel.shape[1],))
        parts.append(ctx.add(f"{ctx.where.path}_sel{i}", Linear(weight=sel), [flat]))
    total = ctx.add(ctx.where.path, Add(shape=(n_out,)), parts)
    return reshape(ctx, f"{ctx.where.path}_out", total, tuple(out_shape))


@function_converter(operator.getitem)
def _getitem(ctx: Context, fn: Any, args: list, kwargs: dict, rec: Any) -> Any:
    """``x[step]`` on a time-major input inside a time loop: step 0 is the per-step input."""
    from ..loops import StepValue

    x, idx = ctx.check_port(args[0]), args[1]
    if x.lead != 2 or not isinstance(idx, int) or idx < 0:
        ctx.fail("indexes a tensor", "x[step] on a (T, B, ...) input inside a loop over time")
    if idx > 0:
        return StepValue(idx)
    return Port(x.node, x.shape, 1, x.spiking)
