"""``qtensor._pow2_scales`` (per-row power-of-two scales, in blocks of rows) equals the per-row
definition ``_pow2_exponent`` on grids with zeros, all-zero rows, off-grid rows and subnormals."""

from __future__ import annotations

import numpy as np
import pytest

from snnc.ir.qtensor import _pow2_exponent, _pow2_scales


def per_row(w: np.ndarray) -> np.ndarray:
    return np.array([1.0 if (e := _pow2_exponent(r)) is None else float(np.ldexp(1.0, e))
                     for r in w])


@pytest.mark.parametrize("seed", range(40))
def test_blocked_scales_equal_the_per_row_definition(seed: int) -> None:
    rng = np.random.default_rng(seed)
    c, n = int(rng.integers(1, 40)), int(rng.integers(1, 70))
    w = rng.integers(-255, 256, (c, n)) * np.ldexp(1.0, rng.integers(-30, 10, (c, 1)))
    w[rng.random((c, n)) < 0.3] = 0
    w[rng.random(c) < 0.1] = 0
    if seed % 3 == 0:
        w = w * rng.random((c, n))  # off any power-of-two grid
    if seed % 5 == 0:
        w[:, 0] = rng.choice([1e-300, 5e-324, -(2.0**-1074), 1e300], c)
    assert np.array_equal(_pow2_scales(w), per_row(w))


def test_many_rows_cross_block_boundaries() -> None:
    rng = np.random.default_rng(7)
    w = rng.integers(-8, 8, (70_000, 20)) * np.ldexp(1.0, rng.integers(-12, 4, (70_000, 1)))
    assert np.array_equal(_pow2_scales(w), per_row(w))


def test_a_row_wider_than_a_block_is_reduced_in_column_chunks() -> None:
    rng = np.random.default_rng(8)
    w = rng.integers(-100, 100, (2, 2**20 + 3000)) * np.ldexp(1.0, rng.integers(-9, 3, (2, 1)))
    w[1, :-1] = 0  # row 1: one non-zero, in the last chunk
    w[1, -1] = 2.0**-20
    assert np.array_equal(_pow2_scales(w), per_row(w))
    assert np.array_equal(_pow2_scales(np.zeros((1, 2**20 + 1))), [1.0])
