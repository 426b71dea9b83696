"""The one definition of Loihi's fixed-point LIF step (Lava's ``PyLifModelBitAcc``).

``lif_step`` is written with integer arithmetic only (shifts, masks, products with comparison
results, no branches and no calls), so the same function runs element-wise on int64 numpy arrays
(``kernels_loihi`` for the reference, ``event/kernels_np``) and, compiled by numba, on scalars in
the event simulator's inner loop (``event/kernels_jit``). shared/reference/loihi.md §3.2 gives
the arithmetic:

    x = wrap32(a)
    u = wrap32(u * fu / 4096 + (x << 6)), then wrapped to 24 bits (> 2**23 and <= -2**23 fold)
    v = clip(wrap32(v * fv / 4096 + u + bias), -(2**23 - 1), 2**23 - 1)
    s = v > vth;  v = 0 where s

with ``/ 4096`` truncating toward zero (``(p + ((p >> 63) & 4095)) >> 12``), ``fu = 4096 -
(du + 1)``, ``fv = 4096 - dv``, ``bias = bias_mant`` shifted by ``bias_exp`` and ``vth = vth_mant
<< 6``.
"""

from __future__ import annotations

from typing import Any

V_MAX = 8388607  # 2**23 - 1


def lif_step(x: Any, u: Any, v: Any, fu: Any, fv: Any, bias: Any, vth: Any
             ) -> tuple[Any, Any, Any]:
    """One step of a Loihi LIF: (u, v after reset, spike) from input ``x`` and state ``u, v``."""
    x = ((x + 2147483648) & 4294967295) - 2147483648
    p = u * fu
    un = ((p + ((p >> 63) & 4095)) >> 12) + (x << 6)
    un = ((un + 2147483648) & 4294967295) - 2147483648
    un = un - 16777216 * (un > 8388608) + 16777216 * (un <= -8388608)
    q = v * fv
    vn = ((q + ((q >> 63) & 4095)) >> 12) + un + bias
    vn = ((vn + 2147483648) & 4294967295) - 2147483648
    vn = vn + (vn < -8388607) * (-8388607 - vn) - (vn > 8388607) * (vn - 8388607)
    s = vn > vth
    return un, vn * (1 - s), s


def prog_lif_step(x: Any, u: Any, v: Any, r: Any, fu: Any, fv: Any, bias: Any, vth: Any,
                  ge: bool, reset: str, decay_reset: bool) -> tuple[Any, Any, Any, Any]:
    """Loihi 2's programmable neuron: ``lif_step``'s u and v with the comparator ``>=`` when
    ``ge``, and a ``"hard"`` (v = 0) or ``"subtract"`` reset (v -= vth at once when
    ``decay_reset``, else on the next step through ``r``, the previous step's spikes).
    Returns (u, v, r, s).

    The u and v arithmetic is ``lif_step``'s: with the threshold at ``V_MAX`` no value spikes
    (v is clipped to V_MAX), so it returns v before any reset; the delayed subtract enters as a
    bias of ``-r * vth`` (v = wrap32(decay + u + bias - r * vth) either way).
    """
    un, vn, _ = lif_step(x, u, v, fu, fv, bias - r * vth, V_MAX)
    s = vn > vth - int(ge)  # integers: v >= vth is v > vth - 1
    if reset == "hard":
        vn = vn * (1 - s)
    elif decay_reset:
        vn = vn - s * vth
    else:
        r = s
    return un, vn, r, s


def shift(acc: Any, exp: int) -> Any:
    """``acc << exp`` for exp >= 0, floor ``acc >> -exp`` otherwise."""
    return acc << exp if exp >= 0 else acc >> -exp
