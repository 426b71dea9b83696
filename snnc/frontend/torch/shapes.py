"""The per-sample input shape of a PyTorch model when the user did not pass ``--input-shape``.

Sources, tried in order (the first that gives a shape wins; ``infer_input_shape`` returns it
with a note saying where it came from, or ``None`` with the list of what was tried):

1. a shape saved inside the checkpoint: a dict holding the state_dict also holds
   ``input_shape`` (a list of ints) or an example input tensor (``example_input``,
   ``sample_input``, ``input_example``);
2. an example input array: the ``--calibration``/``--input`` file given on the command line, or
   one saved beside the model (``<model>.input.npy``, ``example_input.npy``, ``X.npy``); files
   keep time on the last axis, so the trailing non-time axes are the sample's;
3. the first layer alone: an ``nn.Linear`` first layer (not behind an ``nn.Flatten``) says the
   sample is ``(in_features,)``.

An example is read against the first layer (the first ``Linear``/``Conv1d``/``Conv2d`` among the
module's submodules, as registered): a conv needs its ``in_channels`` followed by the spatial
axes, a linear layer its ``in_features`` as the last axis or as the product of the trailing axes
(a model that flattens its input). A conv first layer without an example cannot be inferred:
its height and width are nowhere in the weights.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from torch import nn

EXAMPLE_KEYS = ("example_input", "sample_input", "input_example")
SHAPE_KEYS = ("input_shape", "snnc_input_shape")
SIBLINGS = ("{stem}.input.npy", "example_input.npy", "X.npy")


@dataclass(frozen=True)
class FirstLayer:
    """What the first weight layer says about the sample: its kind and input width."""

    name: str
    kind: str  # "linear" | "conv1d" | "conv2d"
    width: int  # in_features or in_channels
    flattened: bool  # an nn.Flatten comes before it

    def describe(self) -> str:
        what = "in_features" if self.kind == "linear" else "in_channels"
        return f"first layer {self.name!r} ({type_name(self.kind)}, {what}={self.width})"


def type_name(kind: str) -> str:
    return {"linear": "Linear", "conv1d": "Conv1d", "conv2d": "Conv2d"}[kind]


def first_layer(module: nn.Module) -> FirstLayer | None:
    """The first Linear/Conv1d/Conv2d submodule (registration order), or None."""
    flattened = False
    for name, sub in module.named_modules():
        if isinstance(sub, nn.Flatten):
            flattened = True
        elif isinstance(sub, nn.Linear):
            return FirstLayer(name, "linear", int(sub.in_features), flattened)
        elif isinstance(sub, nn.Conv2d):
            return FirstLayer(name, "conv2d", int(sub.in_channels), flattened)
        elif isinstance(sub, nn.Conv1d):
            return FirstLayer(name, "conv1d", int(sub.in_channels), flattened)
        elif isinstance(sub, (nn.Conv3d, nn.RNNBase, nn.Embedding)):
            return None
    return None


def shape_from_dims(dims: Sequence[int], layer: FirstLayer) -> tuple[int, ...] | None:
    """The per-sample shape at the end of ``dims`` (an example's axes, time removed) that fits
    ``layer``, or None."""
    dims = tuple(int(d) for d in dims)
    if layer.kind in ("conv1d", "conv2d"):
        n = 2 if layer.kind == "conv1d" else 3
        if len(dims) >= n and dims[-n] == layer.width:
            return dims[-n:]
        return None
    if dims and dims[-1] == layer.width and not layer.flattened:
        return (layer.width,)
    best = None
    for k in range(1, len(dims) + 1):  # the longest trailing run whose product is in_features
        if math.prod(dims[-k:]) == layer.width:
            best = dims[-k:]
    return best


def shape_in_checkpoint(obj: Any, layer: FirstLayer | None
                        ) -> tuple[tuple[int, ...] | None, str | None]:
    """A shape stored in a checkpoint dict: ``(shape, key)`` or ``(None, None)``."""
    if not isinstance(obj, Mapping):
        return None, None
    for key in SHAPE_KEYS:
        value = obj.get(key)
        if isinstance(value, Sequence) and not isinstance(value, str) and value \
                and all(isinstance(v, int) for v in value):
            return tuple(int(v) for v in value), key
    for key in EXAMPLE_KEYS:
        value = obj.get(key)
        if hasattr(value, "shape") and layer is not None:
            shape = shape_from_dims(tuple(value.shape), layer)  # tensors as forward takes them
            if shape is not None:
                return shape, key
    return None, None


def example_files(path: Path, given: Sequence[Path]) -> list[Path]:
    """Example inputs to look at: the ones given, then the model's siblings that exist."""
    out = [Path(p) for p in given if p is not None and Path(p).suffix.lower() in (".npy", ".npz")]
    out += [path.with_name(s.format(stem=path.stem)) for s in SIBLINGS]
    seen: list[Path] = []
    for p in out:
        if p not in seen:
            seen.append(p)
    return seen


def array_dims(path: Path) -> tuple[int, ...] | None:
    """The axes of a .npy (or the single/``input``/``x`` array of a .npz) without loading it
    whole; None if unreadable."""
    from ...readers import regular_file

    try:
        regular_file(path, "an example input")
        if path.suffix.lower() == ".npy":
            arr = np.load(path, mmap_mode="r", allow_pickle=False)
            return tuple(arr.shape)
        with np.load(path, allow_pickle=False) as data:
            names = list(data.files)
            key = next((k for k in ("input", "x") if k in names), names[0] if len(names) == 1
                       else None)
            return None if key is None else tuple(data[key].shape)
    except Exception:  # an unreadable example is just not a source
        return None


def infer_input_shape(path: Path, module: nn.Module, checkpoint: Any,
                      examples: Sequence[Path] = ()
                      ) -> tuple[tuple[int, ...] | None, str]:
    """``(shape, note)`` when the shape can be inferred, else ``(None, what was tried)``."""
    layer = first_layer(module)
    tried: list[str] = []
    shape, key = shape_in_checkpoint(checkpoint, layer)
    if shape is not None:
        return shape, f"input shape {shape} taken from the checkpoint's {key!r} entry"
    tried.append("an 'input_shape' or 'example_input' entry in the checkpoint (none)")
    if layer is None:
        tried.append("the first layer (no Linear or Conv1d/Conv2d layer found)")
        return None, "; ".join(tried)
    for p in example_files(path, examples):
        if not p.is_file():
            continue
        dims = array_dims(p)
        if dims is None or len(dims) < 2:
            tried.append(f"{p.name} (not a readable array)")
            continue
        shape = shape_from_dims(dims[:-1], layer)  # time is the last axis of user files
        if shape is not None:
            return shape, (f"input shape {shape} inferred from the {layer.describe()} and "
                           f"the example input {p} {dims}")
        tried.append(f"{p.name} (shape {dims} does not fit the {layer.describe()})")
    if not any("(shape" in t or "readable" in t for t in tried):
        names = ", ".join(s.format(stem=path.stem) for s in SIBLINGS)
        tried.append(f"an example input (--calibration/--input, or {names} beside the model: "
                     "none found)")
    if layer.kind == "linear":
        shape = (layer.width,)
        extra = (" (the model flattens its input: pass --input-shape if samples have more "
                 "axes)") if layer.flattened else ""
        return shape, f"input shape {shape} inferred from the {layer.describe()}{extra}"
    tried.append(f"the {layer.describe()}: a conv layer does not say its input's "
                 "height and width")
    return None, "; ".join(tried)
