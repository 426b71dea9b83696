"""netx's SDNN neurons (``type: SDNN``) as snnc's sigma-delta ops, exactly as netx builds them.

netx (``hdf5.Network.get_neuron_params``): the input block's neuron is a ``Delta`` (vth =
vThMant, spike_exp = the network's ``spike_exp`` (default 6), state_exp = 6); a hidden block's
is a ``SigmaDelta`` with the same fields and the block's bias (``act_mode`` is not passed, so
always ReLU); a neuron group with a ``sigma_output`` field is a ``Sigma``. Every one sends graded
spikes of ``messageBits`` bits (default 16), and the next synapse reads payloads of that width.
``reset_interval`` is ignored for them, as netx ignores it (with a warning).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from ..errors import UnsupportedOpError
from ..ir import LoihiDelta, LoihiSigma, LoihiSigmaDelta, Node

log = logging.getLogger(__name__)

STATE_EXP = 6
DEFAULT_MESSAGE_BITS = 16


def sdnn_neuron(params: dict[str, Any], shape: tuple[int, ...], bias: np.ndarray, first: bool,
                spike_exp: int, reset: bool, where: str) -> Node:
    """The sigma-delta node of an SDNN neuron group (``bias`` in (C, H, W), integers)."""
    if reset:
        log.warning("%s: reset_interval is ignored for SDNN neurons (as netx does)", where)
    bits = int(params.get("messageBits", DEFAULT_MESSAGE_BITS))
    if "sigma_output" in params:
        if np.any(bias):
            raise UnsupportedOpError(f"{where}: a sigma output layer with a bias (netx's Sigma "
                                     "takes none)")
        return LoihiSigma(shape=shape, num_message_bits=bits)
    fields = {"shape": shape, "vth": int(np.asarray(params["vThMant"]).reshape(-1)[0]),
              "spike_exp": spike_exp, "state_exp": STATE_EXP, "num_message_bits": bits}
    if first:
        if np.any(bias):
            raise UnsupportedOpError(f"{where}: an SDNN input neuron with a bias")
        return LoihiDelta(**fields)
    return LoihiSigmaDelta(bias=bias, **fields)
