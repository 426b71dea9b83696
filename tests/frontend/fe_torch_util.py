"""Helpers of the PyTorch front-end tests: dyadic parameters and the differential check.

Every parameter and input is a dyadic rational (k / 2^m) and batch norms have eps = 0 and
power-of-four variances, so that the framework's float64 forward and snnc's reference simulator
compute exactly the same numbers and must give identical spikes.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from snnc.ir import Graph
from snnc.simulators.reference import simulate


def dyadic(shape: tuple[int, ...], gen: torch.Generator, lo: int = -16, hi: int = 17,
           m: int = 4) -> torch.Tensor:
    return torch.randint(lo, hi, shape, generator=gen).double() / 2**m


def dyadic_model(model: nn.Module, seed: int = 0, weight_m: int = 3) -> nn.Module:
    """Cast to float64 and draw every weight, bias and batch-norm statistic on a dyadic grid."""
    gen = torch.Generator().manual_seed(seed)
    model = model.double().eval()
    for mod in model.modules():
        if isinstance(mod, nn.Linear | nn.Conv1d | nn.Conv2d):
            with torch.no_grad():
                mod.weight.copy_(dyadic(tuple(mod.weight.shape), gen, -8, 9, weight_m))
                if mod.bias is not None:
                    mod.bias.copy_(dyadic(tuple(mod.bias.shape), gen, -4, 5, 4))
        elif isinstance(mod, nn.BatchNorm1d | nn.BatchNorm2d):
            c = mod.num_features
            mod.eps = 0.0
            with torch.no_grad():
                mod.running_mean.copy_(dyadic((c,), gen, -4, 5, 3))
                mod.running_var.copy_(4.0 ** torch.randint(-1, 2, (c,), generator=gen).double())
                mod.weight.copy_(dyadic((c,), gen, 4, 17, 3))
                mod.bias.copy_(dyadic((c,), gen, -4, 5, 3))
    return model


def dyadic_input(t: int, b: int, shape: tuple[int, ...], seed: int = 1,
                 hi: int = 17) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return dyadic((t, b, *shape), gen, -4, hi, 3)


def check_identical(graph: Graph, x: torch.Tensor, framework_out: torch.Tensor | np.ndarray,
                    min_rate: float = 0.01) -> np.ndarray:
    """Reference simulation of ``graph`` on ``x`` (T, B, ...) equals the framework's output,
    and the output is neither silent nor saturated (so the check can fail)."""
    ref = np.asarray(framework_out.detach().numpy() if isinstance(framework_out, torch.Tensor)
                     else framework_out, dtype=np.float64)
    out = simulate(graph, x.numpy()).output
    assert out.shape == ref.shape
    rate = float(np.mean(ref != 0))
    assert min_rate <= rate <= 1 - min_rate, f"output activity {rate} makes the test vacuous"
    mismatch = int(np.sum(out != ref))
    assert mismatch == 0, f"{mismatch} of {ref.size} outputs differ"
    return out


def run_steps(step: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """Framework forward over T steps: ``step`` per time slice, outputs stacked."""
    with torch.no_grad():
        outs = []
        for xt in x:
            y = step(xt)
            outs.append(y[0] if isinstance(y, tuple) else y)
        return torch.stack(outs)
