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


def truncate(w: np.ndarray, mode: str, bits: int) -> np.ndarray:
    """LearningDense's one-time weight processing (sign mode given, MIXED by default in Lava).

    Lava's learning model truncates without clipping: a weight of the wrong sign for ``mode``
    keeps its sign (and drives the post neurons) until a ``dw`` rule saturates it.
    """
    k = 8 - bits + (mode == "mixed")
    return -((-w >> k) << k) if mode == "inh" else (w >> k) << k
