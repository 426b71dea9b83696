"""Large weights are fake-quantised and recognised block by block of rows (``qtensor.LARGE``,
``recognise_grid_rows``): the same QTensor as the whole-tensor path, on random grids with the
block sizes forced small, and the same graph as the torch.fx front end."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from snnc.ir import qtensor
from snnc.ir.qtensor import QTensor, recognise_grid, recognise_grid_rows


def _whole(w: np.ndarray, monkeypatch: pytest.MonkeyPatch) -> QTensor | None:
    with monkeypatch.context() as m:
        m.setattr(qtensor, "LARGE", 1 << 62)
        return recognise_grid(w, max_bits=8, channel_axis=0)


def _rows(w: np.ndarray, block: int, monkeypatch: pytest.MonkeyPatch) -> object:
    w = np.asarray(w, np.float64)
    with monkeypatch.context() as m:
        m.setattr(qtensor, "BLOCK_ELEMENTS", block)
        return recognise_grid_rows(lambda a, b: w[a:b].reshape(b - a, -1), w.shape[0],
                                   w.shape[1:], 8)


def _same(a: object, b: object) -> bool:
    if a is None or b is None:
        return a is b
    assert isinstance(a, QTensor)
    assert isinstance(b, QTensor)
    return a == b and a.mant.dtype == b.mant.dtype and a.scale.shape == b.scale.shape


NINE_BITS = 7


def _grids(rng: np.random.Generator) -> list[np.ndarray]:
    c, n = int(rng.integers(2, 9)), int(rng.integers(1, 12))
    e = rng.integers(-9, 3, size=(c, 1)).astype(float)
    out = []
    for bits in (2, 4, 8):  # per-channel power-of-two grids of k bits, some rows all zero
        m = rng.integers(-(2 ** (bits - 1)), 2 ** (bits - 1), size=(c, n))
        m[rng.random(c) < 0.2] = 0
        out.append(m * 2.0**e)
    m = rng.integers(-128, 128, size=(c, n))
    out.append(m * 2.0 ** -5)  # one scale for the tensor
    out.append(2 * m * 2.0**e)  # even mantissas: a coarser grid
    out.append(rng.choice([-1.0, 1.0], size=(c, n)) * 0.125)  # binary per tensor
    out.append(rng.choice([-1.0, 1.0], size=(c, n)) * 2.0**e)  # binary per channel
    nine = rng.integers(-200, 200, size=(c, n + 1))
    nine[0, :2] = 255, 1
    out.append(nine * 2.0**e)  # 9 bits: no 8-bit grid (NINE_BITS)
    out.append(np.zeros((c, n)))
    out.append(rng.integers(-3, 4, size=(c, 2, 3, 3)) * 2.0 ** e[:, :, None, None])  # conv
    bad = m * 2.0**-5
    bad[0, 0] = np.inf
    out.append(bad)
    return out


@pytest.mark.parametrize("seed", range(12))
def test_rows_equal_whole(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(seed)
    for i, w in enumerate(_grids(rng)):
        whole = _whole(w, monkeypatch)
        for block in (1, 5, 10**6):
            got = _rows(w, block, monkeypatch)
            if i == NINE_BITS:  # no exact 8-bit grid: the caller recognises the whole tensor
                assert got is NotImplemented
                continue
            assert got is not NotImplemented
            assert _same(got, whole), (w, got, whole)
    # the blocks path inside recognise_grid gives the same answer
    for w in _grids(rng):
        with monkeypatch.context() as m:
            m.setattr(qtensor, "LARGE", 1)
            m.setattr(qtensor, "BLOCK_ELEMENTS", 3)
            got = recognise_grid(w, max_bits=8, channel_axis=0)
        assert _same(got, _whole(w, monkeypatch))


def test_fitted_grid_falls_back() -> None:
    """Not on an exact grid (a fitted scale): blocks decline, the whole-tensor path decides."""
    w = np.arange(-5, 5, dtype=np.float64).reshape(2, 5) * 0.1
    assert recognise_grid_rows(lambda a, b: w[a:b], 2, (5,), 8) is NotImplemented
    q = recognise_grid(w, 8, 0)
    assert q is not None
    assert np.allclose(q.dequant(), w)


def test_mantissas_are_narrow() -> None:
    q = QTensor(np.array([[-128, 127]]), np.float64(1.0), 8)
    assert q.mant.dtype == np.int8
    assert QTensor(np.array([[-129, 5]]), np.float64(1.0), 9).mant.dtype == np.int16
    assert QTensor(np.array([[255]]), np.float64(1.0), 8, signed=False).mant.dtype == np.int16
    with pytest.raises(Exception, match="outside"):
        QTensor(np.array([[128]]), np.float64(1.0), 8)  # checked before it is narrowed


torch = pytest.importorskip("torch")


@pytest.mark.torch
@pytest.mark.parametrize("seed", range(6))
def test_reader_blocks_equal_torch(seed: int, tmp_path: Path,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from frontend.snncpt_util import fast_graph, graph_diff, torch_graph

    import snnc.nn as snn
    from snnc.frontend.snncpt import build

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    per_channel = bool(seed % 2)
    layers = [snn.QuantLinear(12, 40, bits=int(rng.choice([3, 8])), per_channel=per_channel,
                              bias=bool(seed % 3 == 0)),
              snn.LIF(beta=0.9, threshold=1.0)]
    model = torch.nn.Sequential(*layers)
    with torch.no_grad():  # some rows all zero, some scales exact powers of two
        model[0].weight[::7] = 0
        model[0].weight[1] *= 0
        model[0].weight[2, 0] = 0.5
    model.snnc_input_shape = (12,)
    torch.save(model, tmp_path / "m.pt")
    ref = torch_graph(tmp_path / "m.pt")
    with monkeypatch.context() as m:
        m.setattr(qtensor, "LARGE", 1)
        m.setattr(qtensor, "BLOCK_ELEMENTS", 25)
        m.setattr(build, "ROW_BLOCK", 30)
        fast = fast_graph(tmp_path / "m.pt")
    assert fast is not None
    assert graph_diff(fast, ref) == []
