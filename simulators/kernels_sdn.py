"""Exact-integer kernels of the sigma-delta ops (``ir/loihi_sdn.py``): Lava's ``sdn`` fixed_pt.

Every state is an int32 in Lava (``LavaPyType(np.ndarray, np.int32)``) and NumPy int32 arithmetic
wraps; the kernels compute in int64 and wrap each result to int32 (``wrap32``) where Lava stores
or sends it, so they agree with Lava wherever Lava's own arithmetic is defined. Checked against
Lava's processes run in Lava (tests/lava/test_sdn_vs_lava.py) and lava-dl's SDNN recordings.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .kernels import Kernel, kernel
from .kernels_loihi import wrap32


def delta_step(node: Any, x: np.ndarray, st: dict[str, np.ndarray]) -> np.ndarray:
    """The delta encoder on activation ``x`` (already scaled); updates ``st``; returns s."""
    vth = node.vth << node.scale_bits
    delta = wrap32(x - st["act"] + st["residue"])
    if node.cum_error:
        err = wrap32(st["error"] + delta)
        s = np.where(np.abs(err) >= vth, delta, 0)
        st["error"] = np.where(s != 0, 0, err)
    else:
        s = np.where(np.abs(delta) >= vth, delta, 0)
    st["residue"] = wrap32(delta - s)
    st["act"] = x
    return s


class _Delta(Kernel):
    def init(self, node: Any, batch: int) -> Any:
        z = np.zeros((batch, *node.shape), np.int64)
        return {"act": z, "residue": z.copy(), "error": z.copy()}

    def step(self, node: Any, x: np.ndarray, st: Any, t: int) -> tuple[np.ndarray, Any]:
        st = dict(st)
        a = wrap32(np.asarray(x).astype(np.int64))
        s = delta_step(node, wrap32(a << node.scale_bits), st)
        return s >> node.state_exp, st


class _SigmaDelta(Kernel):
    def init(self, node: Any, batch: int) -> Any:
        z = np.zeros((batch, *node.shape), np.int64)
        return {"sigma": z, "act": z.copy(), "residue": z.copy(), "error": z.copy()}

    def step(self, node: Any, x: np.ndarray, st: Any, t: int) -> tuple[np.ndarray, Any]:
        st = dict(st)
        st["sigma"] = wrap32(np.asarray(x).astype(np.int64) + st["sigma"])
        act = wrap32(st["sigma"] + (node.bias << node.scale_bits))
        if node.act_mode == "relu":
            act = np.maximum(act, 0)
        s = delta_step(node, act, st)
        return s >> node.state_exp, st


class _Sigma(Kernel):
    def init(self, node: Any, batch: int) -> Any:
        return {"sigma": np.zeros((batch, *node.shape), np.int64)}

    def step(self, node: Any, x: np.ndarray, st: Any, t: int) -> tuple[np.ndarray, Any]:
        sigma = wrap32(np.asarray(x).astype(np.int64) + st["sigma"])
        return sigma.copy(), {"sigma": sigma}


kernel("loihi.delta")(_Delta())
kernel("loihi.sigma_delta")(_SigmaDelta())
kernel("loihi.sigma")(_Sigma())
