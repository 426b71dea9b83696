"""TorchScript files: a scripted or traced ``Sequential`` of supported layers, rebuilt as modules.

TorchScript keeps each submodule's class name (``original_name``) and its parameters and buffers,
which is enough to rebuild torch.nn layers and snnc.nn neurons (whose settings live in buffers).
Other scripted modules are refused with a message pointing to ``torch.save`` or a state_dict.

SpikingJelly models traced with ``torch.jit.trace`` (multi-step, ``functional.set_step_mode(net,
'm')``; SpikingJelly modules do not script) call SpikingJelly's registered TorchScript ops
(``sj_if::forward``, ``sj_lif::forward``): those are registered (``spikingjelly._ops.*``) before
``torch.jit.load``, and ``IFNode``/``LIFNode`` are rebuilt from the op's constant arguments
(threshold, reset value or None for subtract, tau, decay_input). A Sequential with such neurons
is rebuilt with SpikingJelly's layers in multi-step mode, as it was traced.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from ...errors import FormatError, UnsupportedOpError


def _linear(m: Any) -> nn.Module:
    out_f, in_f = m.weight.shape
    return nn.Linear(in_f, out_f, bias=_has(m, "bias"))


def _conv2d(m: Any) -> nn.Module:
    w = m.weight
    return nn.Conv2d(w.shape[1] * m.groups, w.shape[0], tuple(w.shape[2:]), stride=m.stride,
                     padding=m.padding, dilation=m.dilation, groups=m.groups,
                     bias=m.bias is not None)


def _bn(cls: type) -> Any:
    return lambda m: cls(m.running_mean.shape[0], eps=m.eps, affine=m.weight is not None)


def _snnc(kind: str) -> Any:
    def build(m: Any) -> nn.Module:
        from ...nn import IF, LIF
        from ...nn.neurons import COMPARATORS, RESETS

        reset = RESETS[int(m.reset_code)]
        cmp = COMPARATORS[int(m.comparator_code)]
        if kind == "IF":
            return IF(m.threshold.clone(), reset, cmp)
        return LIF(m.beta.clone(), m.threshold.clone(), reset, cmp)

    return build


_SJ_OPS = ("if_", "lif", "plif")


def _register_spikingjelly_ops() -> None:
    """SpikingJelly registers its TorchScript ops on import of ``spikingjelly._ops.<neuron>``."""
    import importlib
    import importlib.util

    if importlib.util.find_spec("spikingjelly") is None:
        return
    for name in _SJ_OPS:
        try:
            importlib.import_module(f"spikingjelly._ops.{name}")
        except Exception:  # an older SpikingJelly without these ops: nothing to register
            continue


def _const(value: Any) -> Any:
    node = value.node()
    if node.kind() == "prim::Constant":
        return value.toIValue()
    if node.kind() == "prim::ListConstruct":
        return [_const(i) for i in node.inputs()]
    return None


def _sj_op_args(m: Any, op: str, nth: int = 0) -> list[Any]:
    """The constant arguments of the ``nth`` call of ``op`` in a traced module's graph."""
    calls = [n for n in m.graph.nodes() if n.kind() == op]
    if len(calls) <= nth:
        raise ValueError(f"no {op} call in its TorchScript graph")
    return [_const(i) for i in calls[nth].inputs()]


def _has(m: Any, name: str) -> bool:
    return dict(m.named_parameters()).get(name) is not None


def _traced(kind: str, m: Any) -> nn.Module:
    """torch.nn layers of a *traced* module (no attributes kept): settings from its graph."""
    if kind == "Conv2d":
        _x, _w, _b, stride, padding, dilation, _t, _op, groups, *_ = \
            _sj_op_args(m, "aten::_convolution")
        w = m.weight
        return nn.Conv2d(w.shape[1] * groups, w.shape[0], tuple(w.shape[2:]),
                         stride=tuple(stride), padding=tuple(padding),
                         dilation=tuple(dilation), groups=groups, bias=_has(m, "bias"))
    if kind.startswith("BatchNorm"):
        eps = _sj_op_args(m, "aten::batch_norm")[7]
        return getattr(nn, kind)(m.running_mean.shape[0], eps=eps)
    if kind in ("MaxPool2d", "AvgPool2d"):
        op = "aten::max_pool2d" if kind == "MaxPool2d" else "aten::avg_pool2d"
        _x, k, stride, padding, *_ = _sj_op_args(m, op)
        return getattr(nn, kind)(tuple(k), tuple(stride), tuple(padding))
    if kind == "Flatten":
        calls = [n for n in m.graph.nodes() if n.kind() == "aten::flatten"]
        _x, start, end = _sj_op_args(m, "aten::flatten", len(calls) - 1)
        return nn.Flatten(start, end)
    raise ValueError(f"no settings for a traced {kind}")


def _sj_neuron(kind: str) -> Any:
    def build(m: Any) -> nn.Module:
        from spikingjelly.activation_based import neuron

        if kind == "IFNode":
            _x, _v, th, reset, detach, *_ = _sj_op_args(m, "sj_if::forward")
            return neuron.IFNode(v_threshold=float(th), v_reset=reset, detach_reset=bool(detach),
                                 step_mode="m")
        _x, _v, tau, decay_input, th, reset, detach, *_ = _sj_op_args(m, "sj_lif::forward")
        return neuron.LIFNode(tau=float(tau), decay_input=bool(decay_input),
                              v_threshold=float(th), v_reset=reset,
                              detach_reset=bool(detach), step_mode="m")

    return build


def _sj_layer(kind: str) -> Any:
    """The SpikingJelly layer of the same settings as torch's (for multi-step Sequentials)."""
    def build(m: Any) -> nn.Module:
        from spikingjelly.activation_based import layer

        try:
            torch_mod = BUILDERS[kind](m)
        except (AttributeError, RuntimeError):  # traced, not scripted: read its graph
            torch_mod = _traced(kind, m)
        cls = getattr(layer, kind)
        if kind == "Linear":
            return cls(torch_mod.in_features, torch_mod.out_features, bias=_has(m, "bias"))
        if kind == "Conv2d":
            c = torch_mod
            return cls(c.in_channels, c.out_channels, c.kernel_size, stride=c.stride,
                       padding=c.padding, dilation=c.dilation, groups=c.groups,
                       bias=_has(m, "bias"))
        if kind.startswith("BatchNorm"):
            return cls(torch_mod.num_features, eps=torch_mod.eps, affine=torch_mod.affine)
        if kind == "Flatten":
            return cls(torch_mod.start_dim, torch_mod.end_dim)
        return cls(torch_mod.kernel_size, torch_mod.stride, torch_mod.padding)

    return build


SJ_LAYERS = ("Linear", "Conv2d", "BatchNorm1d", "BatchNorm2d", "Flatten", "AvgPool2d",
             "MaxPool2d")
SJ_NEURONS = {"IFNode": _sj_neuron("IFNode"), "LIFNode": _sj_neuron("LIFNode")}

BUILDERS = {
    "Linear": _linear,
    "Conv2d": _conv2d,
    "BatchNorm1d": _bn(nn.BatchNorm1d),
    "BatchNorm2d": _bn(nn.BatchNorm2d),
    "Flatten": lambda m: nn.Flatten(m.start_dim, m.end_dim),
    "Dropout": lambda m: nn.Identity(),
    "Identity": lambda m: nn.Identity(),
    "AvgPool2d": lambda m: nn.AvgPool2d(m.kernel_size, m.stride, m.padding),
    "MaxPool2d": lambda m: nn.MaxPool2d(m.kernel_size, m.stride, m.padding),
    "LIF": _snnc("LIF"),
    "IF": _snnc("IF"),
}


def _rebuild(sm: Any, path: str, multi_step: bool = False) -> nn.Module:
    kind = sm.original_name
    builders = {**BUILDERS, **SJ_NEURONS}
    if multi_step:
        builders.update({k: _sj_layer(k) for k in SJ_LAYERS})
    if kind not in builders:
        raise UnsupportedOpError(
            f"TorchScript module {path or 'top'} [{kind}]: snnc rebuilds scripted Sequential "
            f"models of {', '.join(sorted(builders))} only. Save the model with "
            "torch.save(model) or as a state_dict with --model package.module:factory.")
    try:
        mod = builders[kind](sm)
    except Exception as exc:
        raise UnsupportedOpError(f"TorchScript module {path} [{kind}]: cannot read its "
                                 f"settings ({exc}); save it with torch.save instead") from None
    state = {k: v for k, v in sm.state_dict().items()}
    mod.load_state_dict(state, strict=False)
    return mod


def rebuild_script_module(path: Path) -> nn.Module:
    _register_spikingjelly_ops()
    try:
        sm = torch.jit.load(str(path), map_location="cpu")
    except Exception as exc:
        raise FormatError(f"{path}: not a loadable TorchScript file: {exc}") from None
    if sm.original_name != "Sequential":
        return _rebuild(sm, "")
    multi = any(c.original_name in SJ_NEURONS for _, c in sm.named_children())
    net = nn.Sequential(*[_rebuild(child, name, multi) for name, child in sm.named_children()])
    if multi:
        from spikingjelly.activation_based import functional

        functional.set_step_mode(net, "m")
    return net
