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
    """A read-only array of ``dtype``: ``value`` itself when it already is one (no copy of a
    large weight each time a pass rebuilds its tensor), else a copy."""
    if isinstance(value, np.ndarray) and value.dtype == dtype and not value.flags.writeable:
        return value
    arr = np.array(value, dtype=dtype, copy=True)
    arr.setflags(write=False)
    return arr


_INT_TYPES = (np.int8, np.int16, np.int32, np.int64)


def mant_dtype(lo: int, hi: int) -> type:
    """The narrowest signed integer type holding [lo, hi] (a QTensor's mantissa storage)."""
    for t in _INT_TYPES:
        info = np.iinfo(t)
        if info.min <= lo and hi <= info.max:
            return t
    return np.int64


def _check_scale(scale: np.ndarray, shape: tuple[int, ...]) -> None:
    ok = scale.ndim == 0 or (
        scale.ndim == len(shape) and scale.shape[0] == shape[0]
        and all(d == 1 for d in scale.shape[1:])
    )
    if not ok:
        raise IRError(f"scale of shape {scale.shape} is neither per-tensor nor per-channel "
                      f"(axis 0) for a weight of shape {shape}")


@dataclass(frozen=True, eq=False)
class QTensor:
    """``mant * scale``; ``mant`` an integer array within ``bits`` (two's complement if
    ``signed``), stored in the narrowest signed type that holds that range (int8 for 8-bit and
    binary weights, int16, int32 or int64: ``mant_dtype``), so a large quantized weight costs one
    byte per element, not eight. Arithmetic on ``mant`` must widen first (``mant.astype``)."""

    mant: np.ndarray
    scale: np.ndarray
    bits: int
    signed: bool = True
    kind: str = "uniform"  # "uniform" | "binary"

    def __post_init__(self) -> None:
        mant = np.asarray(self.mant)
        if mant.dtype.kind == "f" and not np.all(mant == np.round(mant)):
            raise IRError("QTensor mantissa must hold integers")
        if mant.dtype.kind not in "fiub":
            raise IRError(f"QTensor mantissa must hold integers, got dtype {mant.dtype}")
        object.__setattr__(self, "bits", int(self.bits))
        object.__setattr__(self, "signed", bool(self.signed))
        if self.kind not in ("uniform", "binary"):
            raise IRError(f"QTensor kind must be 'uniform' or 'binary', got {self.kind!r}")
        if self.kind == "binary":
            if self.bits != 1 or not np.all(np.abs(mant) == 1):
                raise IRError("binary QTensor needs bits=1 and mantissas in {-1, +1}")
        elif not 1 <= self.bits <= 32:
            raise IRError(f"QTensor bits must be in 1..32, got {self.bits}")
        lo, hi = self.range()
        # the range is checked on the values given, before they are narrowed (a cast wraps)
        if self.kind != "binary" and mant.size and (mant.min() < lo or mant.max() > hi):
            raise IRError(f"QTensor mantissa outside the {self.bits}-bit range [{lo}, {hi}]")
        object.__setattr__(self, "mant", _frozen(mant, mant_dtype(lo, hi)))
        object.__setattr__(self, "scale", _frozen(self.scale, np.float64))
        _check_scale(self.scale, self.mant.shape)

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
        k = len(self.codebook)
        if self.indices.size and (self.indices.min() < 0 or self.indices.max() >= k):
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


# ---- grid recognition ----------------------------------------------------------------------------
#
# A float weight that lies on a quantization grid (as every fake-quantized model's weights do after
# tracing) becomes a QTensor. First exact grids: binary ±alpha (per tensor, then per channel), then
# uniform with power-of-two scales (mantissas are w / 2^e exactly). Then grids up to float32
# rounding, for weights computed in float32 with arbitrary scales or straight-through tricks like
# ``q + w - w.detach()`` (which round): binary, then uniform with a fitted scale. Fitted scales
# within rounding of a power of two are snapped to it. Among uniform candidates the one with fewer
# bits wins, per tensor on a tie.

_F32_TOL = 4 * np.finfo(np.float32).eps


def _channels(w: np.ndarray, axis: int) -> np.ndarray:
    """``w`` as (C, N) with channel axis first."""
    return np.moveaxis(w, axis, 0).reshape(w.shape[axis], -1)


def _scale_shape(scale: np.ndarray, ndim: int, axis: int) -> np.ndarray:
    shp = [1] * ndim
    shp[axis] = -1
    return scale.reshape(shp)


def _signed_bits(mant: np.ndarray) -> int:
    hi, lo = int(mant.max(initial=0)), int(mant.min(initial=0))
    need = max(int(hi).bit_length(), int(-lo - 1).bit_length() if lo < 0 else 0)
    return need + 1


def _snap(s: float) -> float:
    p = float(np.exp2(np.round(np.log2(s))))
    return p if abs(s - p) <= 2 * _F32_TOL * s else s


def _pow2_exponent(w: np.ndarray) -> int | None:
    """Largest e with every element of ``w`` an integer multiple of 2^e (None if all zero)."""
    nz = w[w != 0]
    if nz.size == 0:
        return None
    frac, exp = np.frexp(nz)
    mant = np.abs(np.ldexp(frac, 53)).astype(np.int64)
    low = np.log2((mant & -mant).astype(np.float64)).astype(np.int64)
    return int(np.min(exp - 53 + low))


_NONE = np.iinfo(np.int64).max  # no non-zero element: no exponent


def _min_exponents(r: np.ndarray) -> np.ndarray:
    """Per row of a 2-D block: the smallest e with a non-zero element an odd multiple of 2^e
    (``_NONE`` for an all-zero row); ``_pow2_exponent``'s arithmetic element by element."""
    nonzero = r != 0
    with np.errstate(divide="ignore", invalid="ignore"):  # zeros: log2(0), masked below
        frac, exp = np.frexp(r)
        mant = np.abs(np.ldexp(frac, 53)).astype(np.int64)
        low = np.where(nonzero, np.log2((mant & -mant).astype(np.float64)), 0.0)
    return np.where(nonzero, exp - 53 + low.astype(np.int64), _NONE).min(axis=1)


def _pow2_scales(rows: np.ndarray) -> np.ndarray:
    """Per row of (C, N) ``rows``: 2^e with e the ``_pow2_exponent`` of the row (1.0 for an
    all-zero row), in blocks of about 2^20 elements (rows, or columns of a wider row) rather
    than one Python call per row or whole-matrix temporaries (a 10^6-row weight took most of a
    load's time, a 64 M-element tensor 3 GB of temporaries)."""
    out = np.ones(rows.shape[0])
    cols = max(1, min(rows.shape[1], 2**20))
    block = max(1, 2**20 // cols)
    for start in range(0, rows.shape[0], block):
        r = rows[start:start + block]
        e = np.full(r.shape[0], _NONE)
        for c in range(0, r.shape[1], cols):  # min of minima: the same integer
            e = np.minimum(e, _min_exponents(r[:, c:c + cols]))
        has = e != _NONE
        out[start:start + block][has] = np.ldexp(1.0, e[has])
    return out


def _fit_scale(w: np.ndarray, max_bits: int) -> float | None:
    """A scale s with w = m * s up to float32 rounding and |m| <= 2^(max_bits-1)."""
    nz = np.abs(w[w != 0])
    if nz.size == 0:
        return None
    lo, hi = nz.min(), nz.max()
    for k in range(1, int(2 ** (max_bits - 1) * lo / hi * (1 + _F32_TOL)) + 1):
        m = np.round(w / (lo / k))
        s = _snap(float(np.dot(m, w) / np.dot(m, m)))
        if np.all(np.abs(m * s - w) <= _F32_TOL * np.abs(w)):
            return s
    return None


def _uniform(w: np.ndarray, axis: int | None, max_bits: int, exact: bool) -> QTensor | None:
    """Per-tensor (axis None) or per-channel uniform grid, or None."""
    rows = w.reshape(1, -1) if axis is None else _channels(w, axis)
    scales = []
    for row in [] if exact else rows:
        s = _fit_scale(row, max_bits)
        if s is None and np.any(row):
            return None
        scales.append(1.0 if s is None else s)
    scale = _pow2_scales(rows) if exact else np.asarray(scales)
    full = scale.reshape(()) if axis is None else _scale_shape(scale, w.ndim, axis)
    mant = np.round(w / full)
    if np.abs(mant).max() >= 2.0**max_bits or (exact and not np.array_equal(mant * full, w)):
        return None
    bits = _signed_bits(mant.astype(np.int64))
    if bits > max_bits:
        return None
    return _qtensor(mant, full, bits, "uniform", axis)


def _binary(w: np.ndarray, axis: int | None, exact: bool) -> QTensor | None:
    rows = np.abs(w.reshape(1, -1) if axis is None else _channels(w, axis))
    if rows.size == 0 or np.any(rows == 0):
        return None
    if exact:
        if np.any(rows != rows[:, :1]):
            return None
        alpha = rows[:, 0]
    else:
        mean = rows.mean(axis=1, keepdims=True)
        if np.any(np.abs(rows - mean) > _F32_TOL * mean):
            return None
        alpha = np.array([_snap(float(a)) for a in mean[:, 0]])
    scale = alpha.reshape(()) if axis is None else _scale_shape(alpha, w.ndim, axis)
    return _qtensor(np.sign(w), scale, 1, "binary", axis)


def _qtensor(mant: np.ndarray, scale: np.ndarray, bits: int, kind: str,
             axis: int | None) -> QTensor:
    if axis not in (None, 0):  # QTensor keeps per-channel scales on axis 0
        mant, scale = np.moveaxis(mant, axis, 0), np.moveaxis(scale, axis, 0)
    return QTensor(mant.astype(np.int64), scale, bits, kind=kind)


BLOCK_ELEMENTS = 2**18  # rows per block of ``recognise_grid_rows``: about this many elements
LARGE = 2**22  # tensors from this many elements are recognised block by block


def recognise_grid_rows(rows_of: Any, n_rows: int, row_shape: tuple[int, ...],
                        max_bits: int = 8) -> QTensor | None:
    """``recognise_grid(w, max_bits, channel_axis=0)`` of a tensor given by blocks of its rows,
    for exact grids, without the tensor or its float64 copy in memory.

    ``rows_of(a, b)`` returns rows a..b-1 as a float64 (b - a, prod(row_shape)) array (computed
    on demand, e.g. a fake-quantised weight from its float32 parameter). The result equals
    ``recognise_grid`` of the whole tensor whenever that finds an exact grid (binary, or uniform
    with power-of-two scales): the tests per element, the maxima and minima and the per-row
    power-of-two exponents do not depend on the blocks. When the tensor lies on no exact grid
    (a fitted scale, per row, from float32 rounding) the answer is ``NotImplemented``: the caller
    recognises the whole tensor as before. Mantissas go straight into their narrow type."""
    n_cols = int(np.prod(row_shape, dtype=np.int64))
    shape = (n_rows, *row_shape)
    if n_rows == 0 or n_cols == 0:
        return None
    step = max(1, BLOCK_ELEMENTS // n_cols)
    spans = [(a, min(a + step, n_rows)) for a in range(0, n_rows, step)]
    per_channel = n_rows > 1
    e_rows = np.full(n_rows, _NONE)
    any_nonzero, bin_tensor, bin_rows, first = False, True, per_channel, None
    for a, b in spans:  # pass 1: finiteness, binary tests, per-row exponents
        r = rows_of(a, b)
        if not np.all(np.isfinite(r)):
            return None
        any_nonzero = any_nonzero or bool(np.any(r))
        ab = np.abs(r)
        if first is None:
            first = ab[0, 0]
        zero = bool(np.any(ab == 0))
        bin_tensor = bin_tensor and not zero and bool(np.all(ab == first))
        bin_rows = bin_rows and not zero and bool(np.all(ab == ab[:, :1]))
        e_rows[a:b] = _min_exponents(r)
    if not any_nonzero:
        return None
    if bin_tensor or bin_rows:
        alpha = (np.full(1, first) if bin_tensor else np.empty(n_rows))
        mant = np.empty(shape, np.int8)
        for a, b in spans:
            r = rows_of(a, b)
            if not bin_tensor:
                alpha[a:b] = np.abs(r[:, 0])
            mant[a:b] = np.sign(r).reshape((b - a, *row_shape))
        scale = alpha.reshape(()) if bin_tensor else alpha.reshape((-1,) + (1,) * len(row_shape))
        mant.setflags(write=False)  # handed over: QTensor keeps it without a copy
        return QTensor(mant, scale, 1, kind="binary")
    has = e_rows != _NONE
    e_tensor = int(e_rows[has].min())
    row_scale = np.ones(n_rows)
    row_scale[has] = np.ldexp(1.0, e_rows[has])
    cands = {"tensor": np.float64(np.ldexp(1.0, e_tensor)), "channel": row_scale}
    if not per_channel:
        del cands["channel"]
    stats = {k: [True, 0, 0] for k in cands}  # ok, min, max mantissa
    for a, b in spans:  # pass 2: each candidate's mantissa range and exactness
        r = rows_of(a, b)
        for k, sc in cands.items():
            st = stats[k]
            if not st[0]:
                continue
            full = sc if sc.ndim == 0 else sc[a:b, None]
            m = np.round(r / full)
            if np.abs(m).max() >= 2.0**max_bits or not np.array_equal(m * full, r):
                st[0] = False
                continue
            st[1], st[2] = min(st[1], int(m.min())), max(st[2], int(m.max()))
    found = []
    for k in cands:
        ok, lo, hi = stats[k]
        if not ok:
            continue
        bits = max(int(hi).bit_length(), int(-lo - 1).bit_length() if lo < 0 else 0) + 1
        if bits <= max_bits:
            found.append((bits, k))
    if not found:
        return NotImplemented
    bits, k = min(found, key=lambda f: f[0])  # per tensor first: wins a tie, as min() does
    sc = cands[k]
    lo, hi = stats[k][1], stats[k][2]
    mant = np.empty(shape, mant_dtype(lo, hi))
    for a, b in spans:  # pass 3: the chosen mantissas
        full = sc if sc.ndim == 0 else sc[a:b, None]
        mant[a:b] = np.round(rows_of(a, b) / full).reshape((b - a, *row_shape))
    scale = sc.reshape(()) if sc.ndim == 0 else sc.reshape((-1,) + (1,) * len(row_shape))
    mant.setflags(write=False)  # handed over: QTensor keeps it without a copy
    return QTensor(mant, scale, bits, kind="uniform")


def recognise_grid(w: Any, max_bits: int = 8, channel_axis: int = 0) -> QTensor | None:
    """The quantized tensor that ``w`` lies on, or None (see the comment above).

    Per-channel scales run along ``channel_axis``; the result keeps them on axis 0, as QTensor
    requires (so ``channel_axis`` other than 0 also moves that axis first in the mantissas).
    An all-zero tensor gives None.
    """
    w = np.asarray(w, dtype=np.float64)
    if channel_axis == 0 and w.ndim >= 1 and w.size >= LARGE:  # the same answer, in blocks
        q = recognise_grid_rows(lambda a, b: w[a:b].reshape(b - a, -1), w.shape[0],
                                w.shape[1:], max_bits)
        if q is not NotImplemented:
            return q
    if w.size == 0 or not np.all(np.isfinite(w)) or not np.any(w):
        return None
    per_channel = w.ndim >= 1 and w.shape[channel_axis] > 1
    axes = [None, channel_axis] if per_channel else [None]
    for exact in (True, False):
        for axis in axes:
            q = _binary(w, axis, exact)
            if q is not None:
                return q
        found = [q for axis in axes if (q := _uniform(w, axis, max_bits, exact)) is not None]
        if found:
            return min(found, key=lambda q: q.bits)
    return None
