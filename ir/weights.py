"""The weights a Loihi synapse really holds: what the hardware makes of ``weight_mant``.

These are facts about the ``loihi.dense`` / ``loihi.conv`` / ``loihi.plastic_dense`` ops (the
same arithmetic as Lava's ``fixed_pt`` models, shared/reference/loihi.md), so they live with the
ops: the mapper sizes synapse tables with them, the kernels multiply with them, passes fold with
them, and none of these has to import another for it.
"""

from __future__ import annotations

import numpy as np


def effective_dense_weights(w: np.ndarray, num_weight_bits: int) -> np.ndarray:
    """Lava's first-step weight processing: sign-mode clip, then drop 8 - bits (+1 mixed) LSBs."""
    w = np.asarray(w, dtype=np.int64)
    if w.size == 0 or w.min() >= 0:
        mode, lo, hi = "exc", 0, 255
    elif w.max() <= 0:
        mode, lo, hi = "inh", -255, 0
    else:
        mode, lo, hi = "mixed", -256, 255
    w = np.clip(w, lo, hi)
    k = 8 - num_weight_bits + (1 if mode == "mixed" else 0)
    if mode == "inh":
        return -((-w >> k) << k)
    return (w >> k) << k


def truncate(w: np.ndarray, mode: str, bits: int) -> np.ndarray:
    """LearningDense's one-time weight processing (sign mode given, MIXED by default in Lava).

    Lava's learning model truncates without clipping: a weight of the wrong sign for ``mode``
    keeps its sign (and drives the post neurons) until a ``dw`` rule saturates it.
    """
    k = 8 - bits + (mode == "mixed")
    return -((-w >> k) << k) if mode == "inh" else (w >> k) << k
