"""``TimeLastFile``: windows of steps read from a time-last .npy equal slices of the array."""

from __future__ import annotations

import numpy as np
import pytest

from snnc.errors import SnncError
from snnc.events.inputs import read_input
from snnc.stepfile import TimeLastFile


@pytest.mark.parametrize("block_rows", [None, 1, 4])
@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("dtype", [np.uint8, np.int16, np.float32])
def test_windows_equal_slices_of_the_time_major_view(tmp_path, monkeypatch, batched, dtype,
                                                      block_rows) -> None:
    """Windows of every width (whole rows, the block reads at >= 1/8 of the steps, one read per
    row below), block scratch of 1 row, 4 rows (blocks that end mid-sample) or the default."""
    if block_rows is not None:
        monkeypatch.setattr(TimeLastFile, "BLOCK_BYTES", block_rows * 37 * np.dtype(dtype).itemsize)
    rng = np.random.default_rng(1)
    full = rng.integers(-3, 4, (5, 2, 3, 37)).astype(dtype)
    data = full if batched else full[0]
    np.save(tmp_path / "x.npy", data)
    x, was_batched = read_input(tmp_path / "x.npy", (2, 3))
    assert was_batched == batched
    src = TimeLastFile.of(x, batched)
    assert src is not None
    assert src.shape == x.shape
    for b0, b1 in ((0, x.shape[1]), (1, 3), (4, 9)):
        part = src.samples(b0, b1)
        assert part.shape == x[:, b0:b1].shape
        for t0, T in ((0, 37), (0, 5), (11, 8), (30, 7), (33, 10), (40, 3), (36, 1)):
            got = part.window(t0, T)
            np.testing.assert_array_equal(got, x[t0:t0 + T, b0:b1])
            assert got.dtype == x.dtype


def test_only_memory_mapped_time_last_arrays_have_a_file(tmp_path) -> None:
    x = np.zeros((4, 1, 3), np.uint8)
    assert TimeLastFile.of(x, True) is None
    np.save(tmp_path / "x.npy", np.zeros((1, 3, 4), np.uint8))
    mm = np.load(tmp_path / "x.npy", mmap_mode="r")
    assert TimeLastFile.of(mm, True) is None  # not its time-major view


def test_non_integer_windows_and_truncated_files_are_refused(tmp_path) -> None:
    np.save(tmp_path / "x.npy", np.full((1, 3, 6), 0.5, np.float32))
    x, _ = read_input(tmp_path / "x.npy", (3,))
    with pytest.raises(SnncError, match="non-integer"):
        TimeLastFile.of(x, True).window(0, 2)
    np.save(tmp_path / "y.npy", np.zeros((2, 3, 6), np.uint8))
    y, _ = read_input(tmp_path / "y.npy", (3,))
    src = TimeLastFile.of(y, True)
    with open(tmp_path / "y.npy", "r+b") as fh:
        fh.truncate(128 + 20)
    with pytest.raises(SnncError, match="ended early"):
        src.window(2, 3)
