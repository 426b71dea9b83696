"""Array layouts: snnc's IR (PyTorch order) versus Lava's (reversed axes, flipped kernels).

The IR stores tensors in PyTorch order: feature maps (C, H, W), conv weights
(C_out, C_in/groups, kH, kW) applied as a cross-correlation, stride/padding/dilation as (y, x).
Lava stores the same data with the axes reversed: feature maps (W, H, C) = (X, Y, C), conv
weights (C_out, kW, kH, C_in/groups) applied as a true convolution (kernel flipped in both
spatial axes), stride/padding/dilation as (x, y). A 1-d vector is the same in both.

Nothing here imports Lava: these are pure NumPy conversions, testable anywhere.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def to_lava(x: np.ndarray, lead: int = 0) -> np.ndarray:
    """IR layout -> Lava layout: reverse the axes after the first ``lead`` ones."""
    x = np.asarray(x)
    axes = list(range(lead)) + list(range(x.ndim - 1, lead - 1, -1))
    return x.transpose(axes)


def from_lava(x: np.ndarray, lead: int = 0) -> np.ndarray:
    """Lava layout -> IR layout (reversing axes is its own inverse)."""
    return to_lava(x, lead)


def lava_shape(shape: Sequence[int]) -> tuple[int, ...]:
    return tuple(int(n) for n in reversed(tuple(shape)))


def conv_weight_to_lava(weight: np.ndarray) -> np.ndarray:
    """(C_out, C_in/g, kH, kW) cross-correlation -> (C_out, kW, kH, C_in/g) convolution."""
    w = np.asarray(weight)
    return np.ascontiguousarray(w[:, :, ::-1, ::-1].transpose(0, 3, 2, 1))


def conv_weight_from_lava(weight: np.ndarray) -> np.ndarray:
    """Inverse of ``conv_weight_to_lava``."""
    w = np.asarray(weight).transpose(0, 3, 2, 1)
    return np.ascontiguousarray(w[:, :, ::-1, ::-1])


def xy(pair: Sequence[int]) -> tuple[int, int]:
    """(y, x) as the IR stores stride/padding/dilation -> (x, y) as Lava takes them."""
    y, x = (int(v) for v in pair)
    return x, y


def neuron_param(value: np.ndarray, shape: Sequence[int]) -> int | np.ndarray:
    """A LIF parameter for Lava: a Python int when uniform, else the full array in Lava layout.

    Lava declares ``du``, ``dv`` and ``vth`` as one value per population, but its CPU models
    use whatever array they are given (the builder does not check the shape), so per-neuron
    values work when passed at the population's full (Lava-layout) shape.
    """
    arr = np.broadcast_to(np.asarray(value, dtype=np.int64), tuple(shape))
    if arr.size and (arr == arr.flat[0]).all():
        return int(arr.flat[0])
    return np.ascontiguousarray(to_lava(arr))


def neuron_array(value: np.ndarray, shape: Sequence[int]) -> np.ndarray:
    """A per-neuron parameter (bias_mant, bias_exp) at full shape, Lava layout."""
    arr = np.broadcast_to(np.asarray(value, dtype=np.int64), tuple(shape))
    return np.ascontiguousarray(to_lava(arr))
