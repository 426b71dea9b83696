"""Quantized weight tensors: data, not flags.

``QTensor``: integer mantissas times a scale (per tensor, or per output channel along axis 0;
power-of-two or not). Binary weights are ``QTensor(kind="binary")`` with mantissas in {-1, +1}
and the scale as alpha. ``CodebookTensor``: sub-bit weights, every (out, in) kernel drawn from a
small codebook of binary kernels, times a per-output-channel alpha.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import IRError


def _frozen(value: Any, dtype: Any) -> np.ndarray:
    arr = np.array(value, dtype=dtype, copy=True)
    arr.setflags(write=False)
    return arr


def _check_scale(scale: np.ndarray, shape: tuple[int, ...]) -> None:
    ok = scale.ndim == 0 or (
        scale.ndim == len(shape) and scale.shape[0] == shape[0] and all(d == 1 for d in scale.shape[1:])
    )
    if not ok:
        raise IRError(f"scale of shape {scale.shape} is neither per-tensor nor per-channel "
                      f"(axis 0) for a weight of shape {shape}")


@dataclass(frozen=True, eq=False)
class QTensor:
    """``mant * scale``; ``mant`` int64 within ``bits`` (two's complement if ``signed``)."""

    mant: np.ndarray
    scale: np.ndarray
    bits: int
    signed: bool = True
    kind: str = "uniform"  # "uniform" | "binary"

    def __post_init__(self) -> None:
        mant = np.asarray(self.mant)
        if mant.dtype.kind == "f" and not np.all(mant == np.round(mant)):
            raise IRError("QTensor mantissa must hold integers")
        object.__setattr__(self, "mant", _frozen(mant, np.int64))
        object.__setattr__(self, "scale", _frozen(self.scale, np.float64))
        object.__setattr__(self, "bits", int(self.bits))
        object.__setattr__(self, "signed", bool(self.signed))
        _check_scale(self.scale, self.mant.shape)
        if self.kind not in ("uniform", "binary"):
            raise IRError(f"QTensor kind must be 'uniform' or 'binary', got {self.kind!r}")
        if self.kind == "binary":
            if self.bits != 1 or not np.all(np.abs(self.mant) == 1):
                raise IRError("binary QTensor needs bits=1 and mantissas in {-1, +1}")
            return
        if not 1 <= self.bits <= 32:
            raise IRError(f"QTensor bits must be in 1..32, got {self.bits}")
        lo, hi = self.range()
        if self.mant.size and (self.mant.min() < lo or self.mant.max() > hi):
            raise IRError(f"QTensor mantissa outside the {self.bits}-bit range [{lo}, {hi}]")

    def range(self) -> tuple[int, int]:
        if self.kind == "binary":
            return -1, 1
        if self.signed:
            return -(2 ** (self.bits - 1)), 2 ** (self.bits - 1) - 1
        return 0, 2**self.bits - 1

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.mant.shape)

    @property
    def per_channel(self) -> bool:
        return self.scale.ndim > 0

    def dequant(self) -> np.ndarray:
        return self.mant.astype(np.float64) * self.scale

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, QTensor):
            return False
        return (self.bits, self.signed, self.kind) == (other.bits, other.signed, other.kind) and (
            np.array_equal(self.mant, other.mant) and self.scale.shape == other.scale.shape
            and np.array_equal(self.scale, other.scale))

    def __hash__(self) -> int:
        return hash((self.shape, self.bits, self.kind))


@dataclass(frozen=True, eq=False)
class CodebookTensor:
    """Sub-bit weights: ``w[o, i] = alpha[o] * codebook[indices[o, i]]``.

    ``codebook``: (K, *kernel) of ±1; ``indices``: (C_out, C_in) in [0, K); ``alpha``: (C_out,).
    """

    codebook: np.ndarray
    indices: np.ndarray
    alpha: np.ndarray

    def __post_init__(self) -> None:
        object.__setattr__(self, "codebook", _frozen(self.codebook, np.int64))
        object.__setattr__(self, "indices", _frozen(self.indices, np.int64))
        object.__setattr__(self, "alpha", _frozen(self.alpha, np.float64))
        if not np.all(np.abs(self.codebook) == 1):
            raise IRError("codebook entries must be ±1")
        if self.indices.ndim != 2:
            raise IRError(f"codebook indices must be (C_out, C_in), got {self.indices.shape}")
        if self.indices.size and (self.indices.min() < 0 or self.indices.max() >= len(self.codebook)):
            raise IRError(f"codebook index outside [0, {len(self.codebook)})")
        if self.alpha.shape != (self.indices.shape[0],):
            raise IRError(f"codebook alpha must have shape ({self.indices.shape[0]},)")

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.indices.shape) + tuple(self.codebook.shape[1:])

    def dequant(self) -> np.ndarray:
        w = self.codebook[self.indices].astype(np.float64)
        return w * self.alpha.reshape((-1,) + (1,) * (w.ndim - 1))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CodebookTensor):
            return False
        return all(np.array_equal(getattr(self, k), getattr(other, k))
                   and getattr(self, k).shape == getattr(other, k).shape
                   for k in ("codebook", "indices", "alpha"))

    def __hash__(self) -> int:
        return hash(self.shape)


def is_qweight(value: Any) -> bool:
    return isinstance(value, QTensor | CodebookTensor)


def weight_shape(w: Any) -> tuple[int, ...]:
    return tuple(w.shape) if is_qweight(w) else tuple(np.shape(w))
