"""Loihi 2 programmable neurons on the event simulator: ``loihi.lif`` with ``comparator`` ``>=``
or ``reset = "subtract"`` (immediate, or delayed with ``decay_reset = False``).

Same step as ``kernels_np.lif_run`` (Lava's 24-bit u and v, shared/reference/loihi.md §3.2), with
the comparator and reset of the node (``simulators/kernels_loihi.py`` states the arithmetic). A
delayed subtract keeps the previous step's spikes ``r`` per neuron: the one extra state bit the
mapper charges for it. ``v_init`` is v at the start and after every periodic reset (OPI and
QCFS conversions start at half the threshold). Vectorised over the batch and the neurons;
loops over time only.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .kernels_np import wrap32


def _decay(x: np.ndarray, f: np.ndarray) -> np.ndarray:
    p = x * f
    return np.sign(p) * (np.abs(p) >> 12)


def prog_lif_run(node: Any, a, u, v, r, fu, fv, bias, vth, interval, offset, t0, s, act,
                 rec_u, rec_v, record, v_init=0) -> None:
    """a (T, B, N) -> s, act (T, B, N); u, v, r (B, N) updated in place; a periodic reset sets
    u and r to 0 and v to ``v_init`` (N,)."""
    ge = node.comparator == ">="
    for t in range(a.shape[0]):
        if interval > 0 and (t0 + t + 1) % interval == offset:
            u[:], v[:], r[:] = 0, v_init, 0
        x = wrap32(a[t])
        act[t] = (x != 0) | (u != 0) | (v != 0) | (bias != 0) | (r != 0)
        un = wrap32(_decay(u, fu) + (x << 6))
        un = np.where(un > 2**23, un - 2**24, np.where(un <= -(2**23), un + 2**24, un))
        vn = np.clip(wrap32(_decay(v, fv) + un + bias - r * vth), -(2**23 - 1), 2**23 - 1)
        sp = vn >= vth if ge else vn > vth
        if node.reset == "hard":
            vn = np.where(sp, 0, vn)
        elif node.decay_reset:
            vn = np.where(sp, vn - vth, vn)
        else:
            r[:] = sp
        u[:], v[:] = un, vn
        s[t] = sp
        if record:
            rec_u[t], rec_v[t] = u, v
