"""ir.qtensor.recognise_grid: float tensors on a quantization grid become QTensors."""

from __future__ import annotations

import numpy as np
import pytest

from snnc.ir.qtensor import recognise_grid


@pytest.mark.parametrize("seed", range(5))
def test_pow2_per_channel_exact(seed):
    rng = np.random.default_rng(seed)
    mant = rng.integers(-8, 8, (6, 20))
    mant[:, 0] = 7  # the quantizer's range is used in every channel (no common factor)
    scale = 2.0 ** -rng.integers(1, 7, (6, 1))
    q = recognise_grid(mant * scale)
    assert q.bits == 4
    assert np.array_equal(q.dequant(), mant * scale)
    assert np.array_equal(q.mant * np.broadcast_to(q.scale, (6, 1)), mant * scale)


def test_binary_per_tensor_and_channel():
    rng = np.random.default_rng(0)
    sign = np.where(rng.normal(size=(4, 9)) >= 0, 1.0, -1.0)
    q = recognise_grid(sign * 0.375)
    assert (q.kind, float(q.scale)) == ("binary", 0.375)
    alpha = np.array([[0.25], [0.5], [1.0], [3.0]])
    q = recognise_grid(sign * alpha)
    assert q.kind == "binary"
    assert np.array_equal(q.scale, alpha)


def test_arbitrary_scale_within_float32_rounding():
    rng = np.random.default_rng(1)
    mant = rng.integers(-7, 8, (3, 30))
    mant[:, 0] = 1
    w = (mant.astype(np.float32) * np.float32(0.0371)).astype(np.float64)
    q = recognise_grid(w)
    assert np.array_equal(q.mant, mant)
    assert q.scale == pytest.approx(0.0371, rel=1e-6)


def test_rounded_straight_through_snaps_to_power_of_two():
    """q + w - w.detach() in float32 leaves ulp noise around ±1: still binary with alpha 1."""
    rng = np.random.default_rng(2)
    w = rng.normal(size=(4, 16)).astype(np.float32)
    q = np.sign(w).astype(np.float32)
    noisy = ((q + w) - w).astype(np.float64)
    assert not np.all(np.abs(noisy) == 1)
    got = recognise_grid(noisy)
    assert (got.kind, float(got.scale)) == ("binary", 1.0)


def test_off_grid_and_degenerate_tensors():
    rng = np.random.default_rng(3)
    assert recognise_grid(rng.normal(size=(16, 16))) is None
    assert recognise_grid(np.zeros((3, 3))) is None
    assert recognise_grid(np.array([[1e-30, 1.0], [1.0, 1.0]])) is None
    assert recognise_grid(np.arange(300.0).reshape(3, 100), max_bits=8) is None


def test_channel_axis_moves_scales_first():
    rng = np.random.default_rng(4)
    sign = np.where(rng.normal(size=(5, 3)) >= 0, 1.0, -1.0)
    w = sign * np.array([0.5, 1.0, 2.0])
    q = recognise_grid(w, channel_axis=1)
    assert q.shape == (3, 5)
    assert np.array_equal(q.dequant(), w.T)
