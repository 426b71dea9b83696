"""``quantize_synapse`` (int16 mantissas, the error search in place) and ``dense_encoding``
(shifted in int16) equal their plain float64 / int64 definitions on random weights."""

from __future__ import annotations

import math

import numpy as np
import pytest

from snnc.passes.qlayer import _RANGE, SynapseIn, dense_encoding, quantize_synapse, sign_mode


def reference(w: np.ndarray, conv: bool, f: float, mse: bool, e_min: int) -> tuple:
    target = w * f
    if conv:
        cands, lo, hi = [0], -256, 255
    else:
        lo, hi = _RANGE[sign_mode(w)]
        pos, neg = float(target.max(initial=0.0)), float(-target.min(initial=0.0))
        ratio = max(pos / hi if hi > 0 else 0.0, neg / -lo if lo < 0 else 0.0)
        e0 = min(max(math.ceil(math.log2(ratio)) if ratio > 0 else 0, e_min),
                 8 if lo < 0 < hi else 7)
        cands = [e0 - 1, e0] if mse and e0 > e_min else [e0]
        cands += [0] if e0 < 0 else []
    best = None
    for e in cands:
        raw = np.round(target / 2.0**e)
        m = np.clip(raw, lo, hi)
        key = (float(np.sum((m * 2.0**e - target) ** 2)), e < 0, -e)
        if best is None or key < best[0]:
            best = (key, e, m, int(np.sum(raw != m)))
    _, e, m, clipped = best
    deq = m * 2.0**e
    exact = bool(e >= 0 and np.array_equal(deq, target))
    return m.astype(np.int64), e, clipped, float(np.abs(deq - target).max(initial=0.0)) / f, exact


@pytest.mark.parametrize("seed", range(30))
def test_quantize_synapse_equals_the_float64_definition(seed: int) -> None:
    rng = np.random.default_rng(seed)
    shape = (int(rng.integers(1, 30)), int(rng.integers(1, 30)))
    w = rng.normal(0, float(rng.choice([0.01, 1.0, 100.0])), shape)
    w = np.abs(w) if seed % 4 == 0 else -np.abs(w) if seed % 4 == 1 else w
    if seed % 3 == 0:
        w[rng.random(shape) < 0.5] = 0
    f = float(rng.choice([0.5, 1.0, 3.7, 64.0, 1e-3]))
    for conv in (False, True):
        for mse in (False, True):
            for e_min in (-7, 0):
                q = quantize_synapse(SynapseIn("x", w, conv, 1.0), f, mse, e_min)
                m, e, clipped, max_err, exact = reference(w, conv, f, mse, e_min)
                assert q.mant.dtype == np.int16
                assert np.array_equal(q.mant, m)
                assert (q.exp, q.clipped, q.max_error, q.exact) == (e, clipped, max_err, exact)


@pytest.mark.parametrize("mode", ["mixed", "exc", "inh"])
def test_dense_encoding_in_int16_equals_int64(mode: str) -> None:
    rng = np.random.default_rng(1)
    for bits in range(1, 9):
        hi = 2 ** (bits - 1) - 1 if mode == "mixed" else 2**bits - 1
        lo = -(2 ** (bits - 1)) if mode == "mixed" else 0
        m = rng.integers(lo, hi + 1, (20, 20))
        m = -m if mode == "inh" else m
        m[0, 0] = {"mixed": lo, "exc": hi, "inh": -hi}[mode]
        stored, wexp, nbits = dense_encoding(m, 0)
        k = 8 - nbits + int(sign_mode(m) == "mixed")
        assert np.array_equal(stored, m.astype(np.int64) << k)
        assert stored.dtype == np.int16
        assert wexp == -k
        assert nbits <= bits
