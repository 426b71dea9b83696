"""TorchScript files: a scripted or traced ``Sequential`` of supported layers, rebuilt as modules.

TorchScript keeps each submodule's class name (``original_name``) and its parameters and buffers,
which is enough to rebuild torch.nn layers and snnc.nn neurons (whose settings live in buffers).
Other scripted modules are refused with a message pointing to ``torch.save`` or a state_dict.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from ...errors import FormatError, UnsupportedOpError


def _linear(m: Any) -> nn.Module:
    out_f, in_f = m.weight.shape
    return nn.Linear(in_f, out_f, bias=m.bias is not None)


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


def _rebuild(sm: Any, path: str) -> nn.Module:
    kind = sm.original_name
    if kind not in BUILDERS:
        raise UnsupportedOpError(
            f"TorchScript module {path or 'top'} [{kind}]: snnc rebuilds scripted Sequential "
            f"models of {', '.join(sorted(BUILDERS))} only. Save the model with "
            "torch.save(model) or as a state_dict with --model package.module:factory.")
    try:
        mod = BUILDERS[kind](sm)
    except Exception as exc:
        raise UnsupportedOpError(f"TorchScript module {path} [{kind}]: cannot read its "
                                 f"settings ({exc}); save it with torch.save instead") from None
    state = {k: v for k, v in sm.state_dict().items()}
    mod.load_state_dict(state, strict=False)
    return mod


def rebuild_script_module(path: Path) -> nn.Module:
    try:
        sm = torch.jit.load(str(path), map_location="cpu")
    except Exception as exc:
        raise FormatError(f"{path}: not a loadable TorchScript file: {exc}") from None
    if sm.original_name != "Sequential":
        return _rebuild(sm, "")
    return nn.Sequential(*[_rebuild(child, name) for name, child in sm.named_children()])
