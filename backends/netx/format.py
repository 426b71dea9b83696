"""The lava-dl netx ``.net`` format: schema constants and netx's own integer arithmetic.

Shared by the reader (``snnc.frontend.netx``) and the writer (``snnc.backends.netx``). Facts from
shared/reference/loihi.md §3.4 and §4 (lava-dl 0.6.0 ``netx/hdf5.py``, ``netx/utils.py``; lava-nc
0.10.0 ``proc/dense/models.py``):

- netx casts ``weight`` and ``bias`` with ``astype(int)`` (truncation toward zero).
- Dense weights go through netx's ``optimize_weight_bits``; Lava's Dense then clips them to the
  sign mode's range and drops ``8 - num_weight_bits (+1 if mixed)`` LSBs. ``dense_from_file``
  applies both, so the IR holds exactly the weights Lava multiplies.
- Conv weights are used as stored: Lava's Conv ignores ``weight_exp`` and ``num_weight_bits``.
- Neurons: ``du = iDecay - 1``, ``dv = vDecay``, ``vth = vThMant``, ``bias_exp = 6``.
"""

from __future__ import annotations

import logging

import numpy as np

from ...errors import FormatError, UnsupportedOpError

log = logging.getLogger(__name__)

BIAS_EXP = 6
MAX_DELAY = 62
#: netx's neuron for a dense layer without a neuron group: never spikes (vth << 6 = 2**23).
DEFAULT_NEURON = {"type": "CUBA", "iDecay": 0, "vDecay": 4096, "vThMant": 1 << 17, "refDelay": 1}
LIF_TYPES = ("LOIHI", "CUBA")
LAYER_TYPE_DTYPE = "S10"  # /layer/<i>/type is a fixed-length ASCII array of shape (1,)


def sign_mode(w: np.ndarray) -> str:
    """Lava Dense's sign mode: 'exc' if min >= 0, else 'inh' if max <= 0, else 'mixed'."""
    if w.size == 0 or w.min() >= 0:
        return "exc"
    return "inh" if w.max() <= 0 else "mixed"


def lava_effective_weights(w: np.ndarray, num_weight_bits: int) -> np.ndarray:
    """The weights Lava's Dense multiplies: sign-mode clip, then LSB truncation (§3.4)."""
    w = np.asarray(w, dtype=np.int64)
    mode = sign_mode(w)
    lo, hi = {"exc": (0, 255), "inh": (-255, 0), "mixed": (-256, 255)}[mode]
    w = np.clip(w, lo, hi)
    k = max(8 - num_weight_bits + (mode == "mixed"), 0)
    if mode == "inh":
        return -((-w >> k) << k)
    return (w >> k) << k


def optimize_weight_bits(w: np.ndarray, where: str) -> tuple[np.ndarray, int, int]:
    """netx's ``optimize_weight_bits`` (lava-dl variant): (weights << s, num_weight_bits, -s)."""
    w = np.asarray(w, dtype=np.int64)
    if w.size == 0 or not w.any():
        return w.copy(), 8, 0  # netx divides by zero here; an all-zero layer needs no scaling
    if (w.max() > 254 and w.min() < 0) or (w.min() < -256 and w.max() > 0):
        log.warning(
            "%s: weights in [%d, %d] clipped to [-256, 254] as netx does", where, w.min(), w.max()
        )
        w = np.clip(w, -256, 254)
    wmax, wmin = int(w.max()), int(w.min())
    signed = int(wmax >= 0 and wmin < 0)  # netx's MIXED test (max < 0 -> inhibitory)
    if signed:
        scale = min(127 / wmax if wmax > 0 else np.inf, -128 / wmin)
    else:
        scale = -256 / wmin if wmax < 0 else 255 / wmax
    shift = int(np.floor(np.log2(scale))) + signed
    if shift < 0:
        raise FormatError(
            f"{where}: single-sign weights in [{wmin}, {wmax}] exceed the range netx can scale "
            "(0..255 excitatory, -256..0 inhibitory; netx would shift by a negative amount); "
            "re-export the layer with smaller weights"
        )
    n = next((m for m in range(8, 0, -1) if not np.any(w % (1 << m))), 0) - signed
    return w << shift, 8 - shift - n, -shift


def dense_from_file(w_file: np.ndarray, where: str) -> tuple[np.ndarray, int, int]:
    """File weights -> (IR weight, weight_exp, num_weight_bits) with netx + Lava arithmetic.

    The IR weight is what Lava multiplies (clipped and truncated already); num_weight_bits is
    netx's value brought into the IR's 1..8 where that leaves the weights unchanged.
    """
    w_opt, bits, exp = optimize_weight_bits(w_file, where)
    w_eff = lava_effective_weights(w_opt, bits)
    ir_bits = min(max(bits, 1), 8)
    if not np.array_equal(lava_effective_weights(w_eff, ir_bits), w_eff):
        raise UnsupportedOpError(
            f"{where}: netx gives these weights {bits} bits (odd values beyond +-128 in a mixed-"
            "sign layer); Loihi synapses hold 8, so snnc cannot represent them exactly. "
            "Re-quantize the layer to even weights (as slayer's export does)."
        )
    return w_eff, exp, ir_bits


def dense_to_file(
    w_ir: np.ndarray, num_weight_bits: int, weight_exp: int, where: str
) -> np.ndarray:
    """IR dense weights -> the integers netx must read back to compute the same currents."""
    w_eff = lava_effective_weights(w_ir, num_weight_bits)
    if weight_exp >= 0:
        w_file = w_eff << weight_exp
    else:
        if np.any(w_eff % (1 << -weight_exp)):
            raise UnsupportedOpError(
                f"{where}: weights are not multiples of 2**{-weight_exp} (weight_exp="
                f"{weight_exp}); netx stores integer weights and cannot express the floor shift. "
                "Quantize with weight_exp >= 0 or weights on that grid."
            )
        w_file = w_eff >> -weight_exp
    w_back, exp_back, _ = dense_from_file(w_file, where)
    ok = (
        np.array_equal(w_back << exp_back, w_file)
        if exp_back >= 0
        else not np.any(w_back % (1 << -exp_back)) and np.array_equal(w_back >> -exp_back, w_file)
    )
    if not ok:
        raise UnsupportedOpError(
            f"{where}: netx would read weights in [{w_file.min()}, {w_file.max()}] back with a "
            "different effective value (its weight-bit search clips them); use weights in "
            "[-256, 254] that keep their value under netx's optimize_weight_bits."
        )
    return w_file


def delays_from_file(delay: np.ndarray, w_shape: tuple[int, int], where: str) -> np.ndarray:
    """netx's delay expansion: scalar, per output (axonal), per input or full; clamp above 62.

    Returns a 0-d array when every synapse has the same delay, else the (out, in) matrix.
    """
    d = np.asarray(delay, dtype=np.float64)
    if d.size and d.max() > MAX_DELAY:
        log.warning("%s: delays up to %g clamped to %d as netx does", where, d.max(), MAX_DELAY)
        d = np.clip(d, 0, MAX_DELAY)
    d = np.trunc(d).astype(np.int64)
    n_out, n_in = w_shape
    if d.ndim == 0 or d.size == 1:
        full = np.full(w_shape, int(d.reshape(-1)[0]) if d.size else 0)
    elif d.ndim == 1 and d.size == n_out:
        full = np.repeat(d.reshape(-1, 1), n_in, axis=1)
    elif d.ndim == 1 and d.size == n_in:
        full = np.repeat(d.reshape(1, -1), n_out, axis=0)
    elif d.shape == tuple(w_shape):
        full = d
    else:
        raise FormatError(
            f"{where}: delay of shape {d.shape} fits neither the weight {w_shape}, "
            "its outputs nor its inputs"
        )
    if full.size and full.min() < 0:
        raise FormatError(f"{where}: negative delay {full.min()}")
    return np.asarray(full.flat[0]) if full.size and np.all(full == full.flat[0]) else full


def delays_to_file(delays: np.ndarray, w_shape: tuple[int, int]) -> np.ndarray:
    """The most compact delay array netx expands back to the same (out, in) delays."""
    d = np.broadcast_to(np.asarray(delays, dtype=np.int64), w_shape)
    n_out, n_in = w_shape
    if d.size and np.all(d == d.flat[0]):
        return np.asarray(d.flat[0], dtype=np.float32)
    if np.all(d == d[:, :1]):
        return d[:, 0].astype(np.float32)  # axonal, as slayer writes them
    if n_in != n_out and np.all(d == d[:1, :]):
        return d[0].astype(np.float32)
    return d.astype(np.float32)


def uniform(arr: np.ndarray) -> np.ndarray:
    """A 0-d array when all entries are equal, else ``arr``."""
    arr = np.asarray(arr)
    return np.asarray(arr.flat[0]) if arr.size and np.all(arr == arr.flat[0]) else arr


def bias_from_file(bias: np.ndarray | None, chw: tuple[int, ...], where: str) -> np.ndarray:
    """netx's bias broadcast (scalar, per neuron in (W, H, C), per channel) in snnc's (C, H, W).

    Returns a 0-d array when uniform, (C, 1, 1) when per channel, else per neuron.
    """
    if bias is None:
        return np.asarray(0, dtype=np.int64)
    b = np.trunc(np.asarray(bias, dtype=np.float64)).astype(np.int64)
    if len(chw) == 1 or b.size == 1:
        if b.size not in (1, chw[0]):
            raise FormatError(f"{where}: bias of shape {b.shape} does not fit {chw[0]} neurons")
        return uniform(b.reshape(-1) if b.size > 1 else b.reshape(()))
    if list(b.shape) == list(chw[::-1]):
        return uniform(b.transpose(tuple(range(b.ndim))[::-1]))
    if b.ndim == 1 and b.size == chw[0]:
        return uniform(b.reshape(-1, *([1] * (len(chw) - 1))))
    raise FormatError(
        f"{where}: bias of shape {b.shape} fits neither the neurons "
        f"{chw[::-1]} (W, H, C) nor their {chw[0]} channels"
    )


def bias_to_file(bias: np.ndarray, chw: tuple[int, ...]) -> np.ndarray | None:
    """The array netx broadcasts back to ``bias`` (None when it is zero)."""
    b = np.broadcast_to(np.asarray(bias, dtype=np.int64), chw)
    if not b.any():
        return None
    if len(chw) == 1:
        return b.astype(np.float32)
    per_channel = b.reshape(chw[0], -1)
    if np.all(per_channel == per_channel[:, :1]):
        return per_channel[:, 0].astype(np.float32)
    return b.transpose(tuple(range(b.ndim))[::-1]).astype(np.float32)
