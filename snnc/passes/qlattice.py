"""Lattice layers: exact lowering when every weight is an integer multiple of one unit.

Fake-quantized weights (4-bit ``round(w / s) * s``, binary ``sign(w) * mean|w|``) are integer
multiples of a unit q that is not a power of two, so the dyadic grid of ``qlayer.choose_scale``
cannot hold them and the threshold together: one of the two is rounded. But when the layer's
potential can only ever be an integer number of units, the threshold does not need to be on
the grid at all. That holds when

- every input is a binary spike or an integer count (spike input, integer input, spiking
  layers), every weight is ``k * q`` with k an integer and the bias ``b * q`` likewise;
- the potential keeps or forgets whole values: no leak or full leak (dv 0 or 4096), no
  current decay (du 4095 or -1);
- the reset is hard (to 0) and v starts at 0.

Then v = n * q with n an integer at every step, and ``n * q > theta`` is ``n > floor(theta /
q)`` (``n * q >= theta`` is ``n > ceil(theta / q) - 1``): scale S = 64 / q puts the weights on
the integers k and the threshold at that floor, and the lowered layer equals the float layer
spike for spike. ``quantize-loihi`` uses this only for a layer its dyadic grid leaves inexact.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from .qlayer import LayerQ, SynapseIn, quantize_bias, quantize_synapse

#: relative tolerance of "an integer multiple" (weights are float64 products k * q)
TOL = 1e-9
#: the unit is the smallest non-zero |weight| divided by at most this (k = 2, 3, ... only)
MAX_DIVISOR = 4


def _integral(r: np.ndarray) -> bool:
    r = np.asarray(r, np.float64)
    return bool(np.all(np.abs(r - np.round(r)) <= TOL * np.maximum(1.0, np.abs(r))))


def lattice_unit(weights: list[np.ndarray], bias: np.ndarray, limit: int = 255) -> float | None:
    """The largest q (the smallest non-zero |weight| / d, d <= MAX_DIVISOR) with every weight
    and bias an integer multiple of it and |weight / q| <= ``limit``; None if there is none."""
    flat = [np.abs(np.asarray(w, np.float64)).ravel() for w in weights]
    nz = np.concatenate(flat) if flat else np.zeros(0)
    nz = nz[nz > 0]
    if nz.size == 0 or not np.all(np.isfinite(nz)):
        return None
    q0 = float(nz.min())
    for d in range(1, MAX_DIVISOR + 1):
        unit = q0 / d
        if all(_integral(np.asarray(w) / unit) for w in weights) and _integral(
                np.asarray(bias) / unit):
            big = max(float(np.abs(np.asarray(w)).max(initial=0.0)) for w in weights) / unit
            return unit if big <= limit + TOL else None
    return None


def lattice_threshold(theta: np.ndarray, unit: float, comparator: str) -> np.ndarray:
    """Integer vth (Lava's ``>``) with ``n > vth`` exactly when ``n * unit`` passes ``theta``
    by ``comparator`` (``>`` or ``>=``), for every integer n."""
    real = np.asarray(theta, np.float64) / unit
    near = np.round(real)
    whole = np.abs(real - near) <= TOL * np.maximum(1.0, np.abs(real))
    if comparator == ">=":
        return np.where(whole, near - 1, np.floor(real)).astype(np.int64)
    return np.where(whole, near, np.floor(real)).astype(np.int64)


def lattice_dynamics(node: Any, du: np.ndarray, dv: np.ndarray) -> bool:
    """Whether the neuron keeps v a whole number of its inputs (see the module docstring)."""
    whole = bool(np.isin(dv, (0, 4096)).all() and np.isin(du, (4095, -1)).all())
    return (whole and getattr(node, "reset", "hard") == "hard"
            and not np.any(np.asarray(getattr(node, "v_init", 0.0)) != 0)
            and not np.any(np.asarray(getattr(node, "v_reset", 0.0)) != 0))


def lattice_layer(syns: list[SynapseIn], theta: np.ndarray, bias: np.ndarray, comparator: str,
                  hard: float, du: np.ndarray, dv: np.ndarray, e_min: int,
                  bias_exp: int | None) -> LayerQ | None:
    """The layer on the lattice of its weights' unit, if that is exact (else None). The caller
    checks the sources (spikes or integers) and ``lattice_dynamics``."""
    unit = lattice_unit([s.weight for s in syns], bias)
    if unit is None or 64.0 / unit > hard:
        return None
    s_scale = 64.0 / unit
    # the integers k of w = k * unit, computed once (w / unit is only within TOL of them)
    ks = [replace(s, weight=np.round(np.asarray(s.weight, np.float64) / unit)) for s in syns]
    qs = {k.name: quantize_synapse(k, 1.0, False, e_min) for k in ks}
    bias_mant, b_exp, bias_exact = quantize_bias(bias * s_scale, bias_exp)
    vth = lattice_threshold(theta, unit, comparator)
    if not (bias_exact and all(q.exact for q in qs.values())) or np.any(vth < 0) \
            or np.any(vth > 2**17 - 1):
        return None
    note = (f"weights are integer multiples of {unit:.6g} (not a power of two): threshold put "
            "on that lattice, exact")
    return LayerQ(s_scale, qs, vth, bias_mant, b_exp, du, dv, True, [note], ">",
                  np.zeros((), np.int64))
