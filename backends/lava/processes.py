"""One converter per ``loihi.*`` op: IR node -> Lava process with the node's integers.

Import only after ``_env.require_lava()``: this module imports Lava at module level.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from lava.proc.conv.process import Conv
from lava.proc.dense.process import DelayDense, Dense
from lava.proc.lif.process import LIF, LIFReset
from lava.proc.sdn.process import ActivationMode, Delta, Sigma, SigmaDelta

from ...errors import BackendError
from . import layout


def dense(node: Any, name: str) -> Any:
    """``Dense``, or ``DelayDense`` when the node has delays (Lava checks delays <= 63)."""
    common = {
        "weights": np.asarray(node.weight, dtype=np.int64),
        "weight_exp": int(node.weight_exp),
        "num_weight_bits": int(node.num_weight_bits),
        "num_message_bits": int(node.num_message_bits),
        "name": name,
    }
    if node.delays is None:
        return Dense(**common)
    delays = np.broadcast_to(np.asarray(node.delays, dtype=np.int64), node.weight.shape)
    return DelayDense(delays=np.ascontiguousarray(delays), **common)


def conv(node: Any, name: str) -> Any:
    """``Conv`` in Lava's layout; Lava ignores weight_exp and num_weight_bits here (§3.6)."""
    proc = Conv(
        weight=layout.conv_weight_to_lava(np.asarray(node.weight, dtype=np.int64)),
        input_shape=layout.lava_shape(node.input_shape),
        padding=layout.xy(node.padding),
        stride=layout.xy(node.stride),
        dilation=layout.xy(node.dilation),
        groups=int(node.groups),
        weight_exp=int(node.weight_exp),
        num_weight_bits=int(node.num_weight_bits),
        num_message_bits=int(node.num_message_bits),
        name=name,
    )
    want = layout.lava_shape(node.out_shape)
    if tuple(proc.a_out.shape) != want:
        raise BackendError(f"conv {name!r}: Lava's output shape {proc.a_out.shape} differs from "
                           f"the IR's {node.out_shape} (expected {want} in Lava layout)")
    return proc


def lif(node: Any, name: str) -> Any:
    """``LIF`` or ``LIFReset`` (reset_interval > 0); u and v start at 0 as in the IR. Loihi 2
    programmable neurons (``>=``, subtract reset) become snnc's ``ProgrammableLIF``."""
    shape = tuple(node.shape)
    kwargs = {
        "shape": layout.lava_shape(shape),
        "du": layout.neuron_param(node.du, shape),
        "dv": layout.neuron_param(node.dv, shape),
        "vth": layout.neuron_param(node.vth, shape),
        "bias_mant": layout.neuron_array(node.bias_mant, shape),
        "bias_exp": layout.neuron_array(node.bias_exp, shape),
        "name": name,
    }
    if getattr(node, "programmable", False):
        from .programmable_lif import ProgrammableLIF

        reset = "subtract-delayed" if not node.decay_reset else node.reset
        return ProgrammableLIF(comparator=node.comparator, reset=reset,
                               reset_interval=int(node.reset_interval),
                               reset_offset=int(node.reset_offset),
                               v_init=layout.neuron_array(node.v_init, shape), **kwargs)
    if node.reset_interval > 0:
        ri = int(node.reset_interval)
        return LIFReset(reset_interval=ri, reset_offset=int(node.reset_offset) % ri, **kwargs)
    return LIF(**kwargs)


def delta(node: Any, name: str) -> Any:
    """Lava's own ``Delta`` (``lava.proc.sdn``): it pre-scales vth by 2**(spike_exp+state_exp)
    as ``loihi.delta`` defines it."""
    return Delta(shape=layout.lava_shape(node.shape), vth=int(node.vth),
                 cum_error=bool(node.cum_error), spike_exp=int(node.spike_exp),
                 state_exp=int(node.state_exp))  # Lava's Delta takes no name


def sigma_delta(node: Any, name: str) -> Any:
    """Lava's own ``SigmaDelta``: the bias per neuron (Lava layout), pre-scaled by Lava."""
    mode = ActivationMode.RELU if node.act_mode == "relu" else ActivationMode.UNIT
    return SigmaDelta(shape=layout.lava_shape(node.shape), vth=int(node.vth),
                      bias=layout.neuron_array(node.bias, node.shape), act_mode=mode,
                      cum_error=bool(node.cum_error), spike_exp=int(node.spike_exp),
                      state_exp=int(node.state_exp), name=name)


def sigma(node: Any, name: str) -> Any:
    """Lava's own ``Sigma`` decoder."""
    return Sigma(shape=layout.lava_shape(node.shape))  # Lava's Sigma takes no name


CONVERTERS: dict[str, Callable[[Any, str], Any]] = {
    "loihi.dense": dense,
    "loihi.conv": conv,
    "loihi.lif": lif,
    "loihi.delta": delta,
    "loihi.sigma_delta": sigma_delta,
    "loihi.sigma": sigma,
}
