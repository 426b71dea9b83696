"""Quantization of one Loihi layer: the scale S (integer v units per float unit of v), weight
mantissas and exponents per synapse, vth, bias mantissa/exponent, du/dv.

Lava's arithmetic (shared/reference/loihi.md §3): u += (sum W s, shifted by weight_exp) << 6,
v = decayed v + u + bias, spike when v > vth << 6. With v_int = S * v_float, a float weight w
becomes the integer m * 2**E = w * S / 64 (E >= 0 keeps sums exact), the threshold
vth = theta * S / 64 and the bias bias_mant << bias_exp = b * S.

Choice of S. Weights need S at least the "full-precision" scale (the largest mantissa reaches
its range at E = 0); more S buys fractional bits, which make the truncation of the leak and the
rounding of the threshold rarer, and costs room before the 24-bit saturation. S is bounded by:
the threshold at most 2**(17 - headroom_bits) (room for potentials down to -2**headroom_bits
thresholds), the bias within 13 bits << 7, the weights within their mantissa range at the
largest exponent, and the current u = a << 6 below 2**23 (no wrap; from calibration statistics
when given, else the worst case, which is not allowed to cost weight precision).

If every value lies on a dyadic grid that fits ("trained on the grid"), S = 64 * 2**p with p the
finest grid exponent, plus ``frac_bits`` for leaky layers, and every parameter is exact.
Otherwise S = full-precision scale * 2**frac_bits, capped by the bounds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..errors import QuantizationError

V_MAX = 2**23
VTH_NEVER = 2**17  # vth << 6 = 2**23 > any saturated v: never spikes


def pow2_exponent(x: np.ndarray) -> int | None:
    """Largest e with every element of ``x`` an integer multiple of 2**e (None: all zero or not
    finite)."""
    nz = np.asarray(x, dtype=np.float64)
    nz = nz[nz != 0]
    if nz.size == 0 or not np.all(np.isfinite(nz)):
        return None
    frac, exp = np.frexp(nz)
    mant = np.abs(np.ldexp(frac, 53)).astype(np.int64)
    low = np.log2((mant & -mant).astype(np.float64)).astype(np.int64)
    return int(np.min(exp - 53 + low))


def sign_mode(m: np.ndarray) -> str:
    if m.size == 0 or m.min() >= 0:
        return "exc"
    return "inh" if m.max() <= 0 else "mixed"


_RANGE = {"mixed": (-128, 127), "exc": (0, 255), "inh": (-255, 0)}


def dense_encoding(m: np.ndarray, exp: int) -> tuple[np.ndarray, int, int]:
    """Lava Dense storage of effective integer weights ``m * 2**exp``:
    (stored weights W, weight_exp, num_weight_bits) with the fewest bits that hold ``m``."""
    mode = sign_mode(m)
    mixed = mode == "mixed"
    for bits in range(1, 9):
        lo, hi = (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) if mixed else \
            ((0, 2**bits - 1) if mode == "exc" else (-(2**bits - 1), 0))
        k = 8 - bits + int(mixed)
        if (m.size and (m.min() < lo or m.max() > hi)) or exp - k < -8:
            continue
        return (m.astype(np.int16) << k), exp - k, bits  # within [-256, 255]: int16 holds it
    raise QuantizationError(f"weights {int(m.min())}..{int(m.max())} do not fit 8 bits")


@dataclass
class SynapseQ:
    mant: np.ndarray
    exp: int
    clipped: int
    max_error: float  # in units of the float weight
    exact: bool


@dataclass
class LayerQ:
    scale: float
    synapses: dict[str, SynapseQ]
    vth: np.ndarray
    bias_mant: np.ndarray
    bias_exp: int
    du: np.ndarray
    dv: np.ndarray
    exact: bool
    notes: list[str] = field(default_factory=list)
    comparator: str = ">"  # ">=" only on programmable neurons (Loihi 2)
    v_init: np.ndarray = field(default_factory=lambda: np.zeros((), np.int64))  # integer v


@dataclass
class SynapseIn:
    """What the layer quantizer needs about one synapse (weights already effective)."""

    name: str
    weight: np.ndarray  # float, gain folded in, divided by the input scale
    conv: bool
    x_max: float  # largest input magnitude per element per step (1 for spikes)


def _range_ratio(w: np.ndarray, lo: int, hi: int) -> float:
    """Smallest r with lo <= w / r <= hi (0 for all-zero w)."""
    pos, neg = float(w.max(initial=0.0)), float(-w.min(initial=0.0))
    return max(pos / hi if hi > 0 else 0.0, neg / -lo if lo < 0 else 0.0)


def quantize_synapse(s: SynapseIn, f: float, mse: bool, e_min: int = -7) -> SynapseQ:
    """Mantissas for ``w * f`` (f = S / 64), choosing E >= ``e_min`` to minimise the error."""
    target = s.weight * f
    if s.conv:
        cands = [0]
        lo, hi = -256, 255
    else:
        lo, hi = _RANGE[sign_mode(s.weight)]
        ratio = _range_ratio(target, lo, hi)
        e0 = math.ceil(math.log2(ratio)) if ratio > 0 else 0
        e_max = 8 if lo < 0 < hi else 7
        e0 = min(max(e0, e_min), e_max)
        cands = [e0 - 1, e0] if mse and e0 > e_min else [e0]
        if e0 < 0:
            cands.append(0)  # E < 0 floors the sums in Lava: only worth it if E = 0 loses bits
    best: tuple[tuple[float, bool, int], int, np.ndarray, int] | None = None
    for e in cands:  # in place: one float64 array besides target (and int16 mantissas)
        m = np.divide(target, 2.0**e)
        np.round(m, out=m)
        clipped = int(np.count_nonzero(~((m >= lo) & (m <= hi))))  # what the clip changes
        np.clip(m, lo, hi, out=m)
        m16 = m.astype(np.int16)  # |m| <= 256
        np.multiply(m, 2.0**e, out=m)
        m -= target
        err = float(np.sum(np.square(m, out=m)))
        del m
        key = (err, e < 0, -e)
        if best is None or key < best[0]:
            best = (key, e, m16, clipped)
    if best is None:  # cands is never empty
        raise QuantizationError("quantize: no weight exponent to choose from")
    _, e, m16, clipped = best
    deq = np.multiply(m16, 2.0**e)
    exact = bool(e >= 0 and np.array_equal(deq, target))
    deq -= target
    max_err = float(np.abs(deq, out=deq).max(initial=0.0)) / f if f else 0.0
    return SynapseQ(m16, int(e), clipped, max_err, exact)


@dataclass
class Limits:
    """Bounds on S: ``hard`` (beyond it a value does not fit its field, or a calibrated current
    wraps) and ``soft`` (headroom for negative potentials, the worst-case current wrap)."""

    hard: float
    soft: float


def _theta_limit(theta: np.ndarray | None, vth_max: float) -> float:
    if theta is None or not theta.size or theta.max() <= 0:
        return math.inf
    return 64 * vth_max / float(theta.max())


def scale_limit(syns: list[SynapseIn], theta: np.ndarray | None, bias: np.ndarray,
                headroom_bits: int, u_bound: float | None, v_bound: float | None,
                notes: list[str], calibrated: bool = False, max_weight: int = 0) -> Limits:
    """The bounds on S of the module docstring (inf when nothing limits it); ``max_weight``
    (> 0) also bounds every effective integer weight m * 2**E."""
    hard = [_theta_limit(theta, 2**17 - 1)]
    for s in syns if max_weight else ():
        amax = float(np.abs(s.weight).max(initial=0.0))
        if amax > 0:
            hard.append(64 * max_weight / amax)
    soft = [_theta_limit(theta, 2 ** (17 - headroom_bits))]
    bmax = float(np.abs(bias).max(initial=0.0))
    if bmax > 0:
        hard.append(4095 * 2**7 / bmax)
    for s in syns:
        lo, hi = (-256, 255) if s.conv else _RANGE[sign_mode(s.weight)]
        ratio = _range_ratio(s.weight, lo, hi)
        if ratio > 0:
            hard.append(64 / ratio if s.conv else
                        64 * 2 ** (8 if lo < 0 < hi else 7) / ratio)
    if v_bound:
        soft.append(V_MAX / 2 / v_bound)
    if u_bound:
        (hard if calibrated else soft).append((V_MAX - 1) / u_bound)
    lim = Limits(min(hard), min(min(soft), min(hard)))
    full = full_precision_scale(syns)
    if u_bound and not calibrated and (V_MAX - 1) / u_bound < min(full, lim.hard):
        notes.append(f"the worst-case input (bound {u_bound:.3g}) could wrap the 24-bit current "
                     "at full weight precision; calibrate to check")
    return lim


def full_precision_scale(syns: list[SynapseIn]) -> float:
    """The smallest S at which every synapse uses its whole mantissa range with E = 0."""
    out = math.inf
    for s in syns:
        lo, hi = (-256, 255) if s.conv else _RANGE[sign_mode(s.weight)]
        ratio = _range_ratio(s.weight, lo, hi)
        if ratio > 0:
            out = min(out, 64 / ratio)
    return out


def choose_scale(syns: list[SynapseIn], theta: np.ndarray | None, bias: np.ndarray,
                 lim: Limits, whole_units: bool, frac_bits: int,
                 v_init: np.ndarray | None = None) -> tuple[float, bool]:
    """(S, on_grid).

    On the grid (every value dyadic and the finest grid within the hard limit): S = 64 * 2**p
    with p the finest grid exponent, plus up to ``frac_bits`` extra fractional bits for leaky
    layers within the soft limit (integer dynamics, ``whole_units``, gain nothing from them).
    Otherwise S = the full-precision scale times 2**frac_bits, within the soft limit, but not
    below the full-precision scale while the hard limit allows; then lowered by less than one
    part in theta * S / 64 so that a uniform threshold is a whole number of v units (see
    ``snap_to_threshold``).
    """
    needs = [pow2_exponent(s.weight) for s in syns]
    needs += [pow2_exponent(theta) if theta is not None else None]
    eb = pow2_exponent(bias)
    needs.append(None if eb is None else eb + (0 if whole_units else 6))
    ev = None if v_init is None else pow2_exponent(v_init)
    needs.append(None if ev is None else ev + 6)  # v_init * S an integer
    p_min = max((-e for e in needs if e is not None), default=0)
    if lim.hard >= 64 * 2.0**p_min:
        extra = 0 if whole_units else frac_bits
        p_soft = math.floor(math.log2(lim.soft / 64)) if lim.soft < math.inf else p_min + extra
        return 64.0 * 2.0 ** max(p_min, min(p_min + extra, p_soft)), True
    full = full_precision_scale(syns)
    if math.isinf(full):
        return snap_to_threshold(lim.hard if lim.hard < math.inf else 64.0, theta), False
    s = min(full * 2.0**frac_bits, lim.soft)
    return snap_to_threshold(s if s >= full else min(full, lim.hard), theta), False


def snap_to_threshold(s: float, theta: np.ndarray | None) -> float:
    """The largest S' <= S with theta * S' / 64 an integer, for one threshold theta > 0 shared
    by the layer (else S). An off-grid scale would round the threshold independently of the
    weights and the bias, which flips every neuron whose float potential sits between the two
    roundings (e.g. a trained bias of 0.997 theta that rounds up to the rounded threshold);
    with the threshold exact, only the weights' and bias's own rounding remain. S' loses less
    than one part in theta * S / 64 of weight resolution."""
    if theta is None or theta.size == 0:
        return s
    t = float(theta.flat[0])
    if t <= 0 or not np.all(theta == t):
        return s
    units = math.floor(t * s / 64)
    return 64.0 * units / t if units >= 1 else s


def quantize_bias(b_int: np.ndarray, exp: int | None = None) -> tuple[np.ndarray, int, bool]:
    """(bias_mant, bias_exp, exact) with bias_mant << bias_exp ~ b_int, |mant| <= 4095; the
    exponent is the smallest that fits unless ``exp`` fixes it."""
    bmax = float(np.abs(b_int).max(initial=0.0))
    if exp is None:
        exp = max(0, math.ceil(math.log2(bmax / 4095))) if bmax > 0 else 0
    if exp > 7:
        raise QuantizationError(f"bias {bmax:.4g} (integer units) exceeds 4095 << 7")
    mant = np.clip(np.round(b_int / 2.0**exp), -4096, 4095).astype(np.int64)
    return mant, exp, bool(np.array_equal(mant * 2.0**exp, b_int))


def decay_codes(decay_v: np.ndarray, decay_i: np.ndarray) -> tuple[np.ndarray, np.ndarray, bool]:
    """(du, dv, exact): dv = 4096 (1 - decay_v), du = 4095 - 4096 decay_i (Lava offsets)."""
    for what, d in (("decay_v", decay_v), ("decay_i", decay_i)):
        if np.any(d < 0) or np.any(d > 1):
            raise QuantizationError(f"{what} outside [0, 1] ({d.min():.4g}..{d.max():.4g}) has "
                                    "no Loihi equivalent")
    dv_real, du_real = 4096 * (1 - decay_v), 4095 - 4096 * decay_i
    dv, du = np.round(dv_real).astype(np.int64), np.round(du_real).astype(np.int64)
    exact = bool(np.array_equal(dv, dv_real) and np.array_equal(du, du_real))
    return du, dv, exact


def signed_bits(m: np.ndarray) -> int:
    """Bits of a two's complement integer that holds every element of ``m``."""
    hi, lo = int(m.max(initial=0)), int(m.min(initial=0))
    return max(hi.bit_length(), (-lo - 1).bit_length() if lo < 0 else 0) + 1
