"""Helpers of the snncpt differential tests: random snnc.nn Sequentials and IR-to-IR equality."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any

import numpy as np

from snnc import api
from snnc.frontend.snncpt import try_load
from snnc.ir import Graph


def torch_graph(path: Path, **options: Any) -> Graph:
    """The graph of the torch.fx front end (the fast path switched off)."""
    old = os.environ.get("SNNC_TORCH_LOADER")
    os.environ["SNNC_TORCH_LOADER"] = "1"
    try:
        return api.load(path, **options)
    finally:
        if old is None:
            del os.environ["SNNC_TORCH_LOADER"]
        else:
            os.environ["SNNC_TORCH_LOADER"] = old


def diff(a: Any, b: Any, where: str) -> list[str]:
    """Where ``a`` and ``b`` differ (arrays by dtype, shape and every element)."""
    if type(a) is not type(b):
        return [f"{where}: {type(a).__name__} vs {type(b).__name__}"]
    if isinstance(a, np.ndarray):
        if a.dtype != b.dtype or a.shape != b.shape or not np.array_equal(a, b, equal_nan=True):
            return [f"{where}: arrays differ ({a.dtype}{a.shape} vs {b.dtype}{b.shape})"]
        return []
    if dataclasses.is_dataclass(a):
        return [d for f in dataclasses.fields(a)
                for d in diff(getattr(a, f.name), getattr(b, f.name), f"{where}.{f.name}")]
    if isinstance(a, dict):
        if list(a) != list(b):
            return [f"{where}: keys {list(a)} vs {list(b)}"]
        return [d for k in a for d in diff(a[k], b[k], f"{where}[{k!r}]")]
    if isinstance(a, list | tuple):
        if len(a) != len(b):
            return [f"{where}: length {len(a)} vs {len(b)}"]
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True))
                for d in diff(x, y, f"{where}[{i}]")]
    if hasattr(a, "__dict__") and not isinstance(a, type):
        return diff(vars(a), vars(b), where)
    return [] if a == b else [f"{where}: {a!r} vs {b!r}"]


def graph_diff(fast: Graph, ref: Graph) -> list[str]:
    out = diff(list(fast.nodes), list(ref.nodes), "node names")
    out += diff(fast.edges, ref.edges, "edges") + diff(fast.dt, ref.dt, "dt")
    out += diff(fast.metadata, ref.metadata, "metadata")
    if not out:
        for name in fast.nodes:
            out += diff(fast.nodes[name], ref.nodes[name], name)
    return out


def fast_graph(path: Path, **options: Any) -> Graph | None:
    return try_load(Path(path), options)


def random_model(rng: np.random.Generator) -> tuple[Any, tuple[int, ...]]:
    """A random (sometimes nested) Sequential of snnc.nn layers and its input shape."""
    import torch
    from torch import nn

    import snnc.nn as snn

    torch.manual_seed(int(rng.integers(1 << 30)))
    width = int(rng.integers(3, 40))
    in_width = width
    layers: list[nn.Module] = []
    for _ in range(int(rng.integers(1, 4))):
        out = int(rng.integers(2, 40))
        kind = rng.choice(["quant", "binary"])
        bias = bool(rng.random() < 0.4)
        opts = {"per_channel": bool(rng.random() < 0.6), "pow2": bool(rng.random() < 0.7),
                "bias_bits": int(rng.choice([8, 16]))}
        if kind == "binary":
            opts["pow2"] = True if rng.random() < 0.8 else opts["pow2"]
            layer = snn.BinaryLinear(width, out, bias=bias, **opts)
        else:
            layer = snn.QuantLinear(width, out, bias=bias, bits=int(rng.integers(2, 9)), **opts)
        with torch.no_grad():
            layer.weight.mul_(float(rng.choice([0.3, 1.0, 7.0])))
        layers.append(layer)
        reset = str(rng.choice(["hard", "subtract", "none"]))
        comparator = str(rng.choice([">", ">="]))
        threshold: Any = float(rng.choice([0.5, 1.0, 1.25]))
        if rng.random() < 0.3:
            threshold = torch.tensor(rng.choice([0.5, 1.0, 2.0], size=out), dtype=torch.float32)
        if rng.random() < 0.5:
            layers.append(snn.IF(threshold=threshold, reset=reset, comparator=comparator,
                                 learn_threshold=bool(rng.random() < 0.3)))
        else:
            beta: Any = float(rng.choice([0.25, 0.5, 0.9, 1.0]))
            if rng.random() < 0.3:
                beta = torch.tensor(rng.choice([0.5, 0.75], size=out), dtype=torch.float32)
            layers.append(snn.LIF(beta=beta, threshold=threshold, reset=reset,
                                  comparator=comparator, learn_beta=bool(rng.random() < 0.3)))
        width = out
    lead: tuple[int, ...] = (in_width,)
    if rng.random() < 0.3:  # an image-shaped input flattened first
        lead = [(1, in_width, 1), (in_width, 1), (in_width,)][int(rng.integers(3))]
        layers.insert(0, nn.Flatten())
    if rng.random() < 0.4 and len(layers) >= 2:
        cut = int(rng.integers(1, len(layers)))
        model = nn.Sequential(nn.Sequential(*layers[:cut]), *layers[cut:])
    else:
        model = nn.Sequential(*layers)
    shape = lead
    model.snnc_input_shape = shape
    return model, shape


def random_conv_model(rng: np.random.Generator) -> tuple[Any, tuple[int, ...]]:
    """A random Sequential of snnc.nn conv layers and neurons, flattened into a linear readout."""
    import torch
    from torch import nn

    import snnc.nn as snn

    torch.manual_seed(int(rng.integers(1 << 30)))
    c, h = int(rng.integers(1, 4)), int(rng.integers(6, 11))
    shape = (c, h, h)
    layers: list[nn.Module] = []
    for _ in range(int(rng.integers(1, 3))):
        groups = int(rng.choice([1, c])) if c > 1 else 1
        out = groups * int(rng.integers(1, 4))
        k = int(rng.choice([1, 2, 3]))
        pad: Any = int(rng.integers(0, 2)) if rng.random() < 0.7 else "same" if k % 2 else 0
        opts = {"per_channel": bool(rng.random() < 0.6), "pow2": bool(rng.random() < 0.8),
                "bias": bool(rng.random() < 0.4)}
        stride = 1 if pad == "same" else int(rng.choice([1, 2]))
        if rng.random() < 0.3:
            opts["pow2"] = True
            conv = snn.BinaryConv2d(c, out, k, stride=stride, padding=pad, groups=groups, **opts)
        else:
            conv = snn.QuantConv2d(c, out, k, stride=stride, padding=pad, groups=groups,
                                   bits=int(rng.integers(2, 9)), **opts)
        layers.append(conv)
        layers.append(snn.IF(threshold=float(rng.choice([0.5, 1.0])), reset="subtract")
                      if rng.random() < 0.5 else snn.LIF(beta=0.75, comparator=">="))
        with torch.no_grad():
            y = nn.Sequential(*layers)(torch.zeros(1, *shape))
        c = int(y.shape[1])
    with torch.no_grad():
        n = int(nn.Sequential(*layers)(torch.zeros(1, *shape)).numel())
    layers += [nn.Flatten(), snn.QuantLinear(n, 5, bits=4), snn.IF()]
    model = nn.Sequential(*layers)
    model.snnc_input_shape = shape
    return model, shape
