"""Loihi 2 programmable neurons on the event simulator: ``loihi.lif`` with ``comparator`` ``>=``
or ``reset = "subtract"`` (immediate, or delayed with ``decay_reset = False``).

The step is ``simulators/loihi_lif.prog_lif_step`` (``lif_step``'s 24-bit u and v, Lava's
arithmetic, shared/reference/loihi.md §3.2, with the node's comparator and reset), the same
function the reference kernel (``simulators/kernels_loihi.py``) runs. A
delayed subtract keeps the previous step's spikes ``r`` per neuron: the one extra state bit the
mapper charges for it. ``v_init`` is v at the start and after every periodic reset (OPI and
QCFS conversions start at half the threshold). Vectorised over the batch and the neurons;
loops over time only.
"""

from __future__ import annotations

from typing import Any

from ..loihi_lif import prog_lif_step
from .kernels_np import wrap32


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
        un, vn, rn, sp = prog_lif_step(x, u, v, r, fu, fv, bias, vth, ge, node.reset,
                                       node.decay_reset)
        u[:], v[:], r[:] = un, vn, rn
        s[t] = sp
        if record:
            rec_u[t], rec_v[t] = u, v
