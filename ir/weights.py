"""The weights a Loihi synapse really holds: what the hardware makes of ``weight_mant``.

These are facts about the ``loihi.dense`` / ``loihi.conv`` / ``loihi.plastic_dense`` ops (the
same arithmetic as Lava's ``fixed_pt`` models, shared/reference/loihi.md), so they live with the
ops: the mapper sizes synapse tables with them, the kernels multiply with them, passes fold with
them, and none of these has to import another for it.
"""

from __future__ import annotations

import numpy as np


def _sign_mode(w: np.ndarray) -> tuple[str, int, int]:
    """Lava's sign mode of a whole weight matrix and its clip range."""
    if w.size == 0 or w.min() >= 0:
        return "exc", 0, 255
    if w.max() <= 0:
        return "inh", -255, 0
    return "mixed", -256, 255


def _effective(w: np.ndarray, mode: str, lo: int, hi: int, num_weight_bits: int) -> np.ndarray:
    w = np.clip(w, lo, hi)
    k = 8 - num_weight_bits + (1 if mode == "mixed" else 0)
    if mode == "inh":
        return -((-w >> k) << k)
    return (w >> k) << k


def effective_dense_weights(w: np.ndarray, num_weight_bits: int) -> np.ndarray:
    """Lava's first-step weight processing: sign-mode clip, then drop 8 - bits (+1 mixed) LSBs."""
    w = np.asarray(w, dtype=np.int64)
    return _effective(w, *_sign_mode(w), num_weight_bits)


def effective_dense_nonzero(w: np.ndarray, num_weight_bits: int,
                            block_bytes: int = 1 << 24) -> np.ndarray:
    """``effective_dense_weights(w, bits) != 0``, made a block of rows at a time (the sign mode
    is the whole matrix's), so no temporary is larger than about ``block_bytes``."""
    w = np.asarray(w)
    mode = _sign_mode(w)
    out = np.empty(w.shape, bool)
    rows = max(1, block_bytes // (8 * max(int(np.prod(w.shape[1:])), 1)))
    for a in range(0, w.shape[0], rows):
        out[a:a + rows] = _effective(w[a:a + rows].astype(np.int64), *mode,
                                     num_weight_bits) != 0
    return out


def nonzero_test(w: np.ndarray, num_weight_bits: int) -> tuple[int | None, int | None]:
    """``(lo, hi)`` with ``effective_dense_weights(w, bits)[i] != 0`` exactly where
    ``w[i] < lo`` or ``w[i] >= hi`` (None: that side never holds). The sign mode is the whole
    matrix's; after it, each weight's test is a comparison: the clip keeps a weight's sign and
    the LSB truncation zeroes exactly the magnitudes below ``2**k`` (a negative weight floors
    to at most -1 in the mixed mode). ``effective_nonzero`` applies it to any block of rows in
    the weights' own dtype (no int64 copy)."""
    mode = _sign_mode(np.asarray(w))[0]
    k = 8 - num_weight_bits + (1 if mode == "mixed" else 0)
    if mode == "exc":
        return None, 1 << k
    if mode == "inh":
        return -(1 << k) + 1, None
    return 0, (1 << k) if (1 << k) <= 255 else None


def effective_nonzero(block: np.ndarray, test: tuple[int | None, int | None]) -> np.ndarray:
    """The boolean non-zero pattern of a block of weights under ``nonzero_test``'s thresholds."""
    lo, hi = test
    b = np.asarray(block)
    info = np.iinfo(b.dtype)
    out = (b >= hi) if hi is not None and hi <= info.max else np.zeros(b.shape, bool)
    if lo is not None and lo > info.min:
        out |= b < lo
    return out


def truncate(w: np.ndarray, mode: str, bits: int) -> np.ndarray:
    """LearningDense's one-time weight processing (sign mode given, MIXED by default in Lava).

    Lava's learning model truncates without clipping: a weight of the wrong sign for ``mode``
    keeps its sign (and drives the post neurons) until a ``dw`` rule saturates it.
    """
    k = 8 - bits + (mode == "mixed")
    return -((-w >> k) << k) if mode == "inh" else (w >> k) << k
