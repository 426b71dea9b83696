"""Reference kernel of ``loihi.plastic_dense``: a ``PlasticDense`` block inside the executor.

The block persists across samples (``new_sample`` restarts only its output buffer), so weights
learned on one sample are used on the next, as on the chip. Learning is on by default; a caller
switches it with ``state["learn"]`` and delivers a third factor with ``state["third"]``, a
function ``(post_spikes, t) -> {row: values}``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...errors import SnncError
from ..kernels import Kernel, kernel
from .engine import LearningRule, PlasticDense


def block_from_node(node: Any) -> PlasticDense:
    rule = LearningRule(dw=node.dw or None, dd=node.dd or None, dt=node.dt or None,
                        x1_impulse=node.x_impulse[0], x1_tau=int(node.x_tau[0]),
                        x2_impulse=node.x_impulse[1], x2_tau=int(node.x_tau[1]),
                        y1_impulse=node.y_impulse[0], y1_tau=int(node.y_tau[0]),
                        y2_impulse=node.y_impulse[1], y2_tau=int(node.y_tau[1]),
                        y3_impulse=node.y_impulse[2], y3_tau=int(node.y_tau[2]),
                        t_epoch=node.t_epoch, rng_seed=node.rng_seed,
                        third_factor=node.third_factor)
    return PlasticDense(weights=node.weight, rule=rule, weight_exp=node.weight_exp,
                        num_weight_bits=node.num_weight_bits,
                        num_message_bits=node.num_message_bits, sign_mode=node.sign_mode,
                        tag_1=node.tag_1, tag_2=node.tag_2,
                        flip_threshold=None if node.flip_threshold < 0 else node.flip_threshold)


class PlasticKernel(Kernel):
    def init(self, node: Any, batch: int) -> Any:
        if batch != 1:
            raise SnncError("plastic synapses learn online, one sample at a time: run them with "
                            "a batch of 1 (or freeze the learned weights into loihi.dense)")
        return {"block": block_from_node(node), "x": np.zeros(node.in_shape), "learn": True,
                "third": None}

    def new_sample(self, node: Any, state: Any, batch: int) -> Any:
        state["block"].a_buf[:] = 0
        return state

    def emit(self, node: Any, state: Any) -> np.ndarray:
        return state["block"].a_buf[None].copy()

    def update(self, node: Any, x: np.ndarray, state: Any, t: int) -> Any:
        state["x"] = np.asarray(x)[0]
        return state

    def after_step(self, node: Any, state: Any, post: np.ndarray, t: int) -> None:
        block: PlasticDense = state["block"]
        if not state["learn"]:
            block.accumulate(state["x"])
            return
        third = state["third"](post[0], t) if state["third"] is not None else None
        block.spike_phase(state["x"], post[0], t, third)
        if block.is_learning_step(t):
            block.learning_phase(t)

    def probe(self, name: str, state: Any) -> np.ndarray | None:
        block = state["block"]
        value = {"w": block.weights, "x1": block.x[0], "y1": block.y[0], "t": block.tag_1,
                 "d": block.tag_2}.get(name)
        return None if value is None else np.asarray(value)[None]


kernel("loihi.plastic_dense")(PlasticKernel())
