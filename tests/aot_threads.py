"""The AOT kernels module for kernel tests (skips the importing module when they are not
built) and an autouse fixture that threads over the samples of small test batches too."""

from __future__ import annotations

import pytest

aot = pytest.importorskip("snnc.simulators.event.kernels_aot",
                          reason="AOT kernels not built (scripts/build_kernels.py)")


@pytest.fixture(autouse=True)
def _thread_small_batches():
    """Thread over the samples of these tests' small batches too (the kernels' minimum work
    for threads over samples would keep them on one thread)."""
    old = aot.set_batch_work(0)
    yield
    aot.set_batch_work(old)
