"""Differential test: snnc's sigma-delta reference kernels against Lava 0.10.0's ``sdn`` processes.

Every run draws fresh random graded-spike networks (tests/sdn_random.py: a Delta encoder, dense
and conv synapses reading graded payloads, SigmaDelta layers with ReLU or unit activation, bias,
cumulative error on or off, LIF neurons fed by payloads, a Sigma decoder), builds each in Lava
with Lava's own ``Delta`` / ``SigmaDelta`` / ``Sigma`` processes (``snnc.backends.lava``, run
with ``select_tag="fixed_pt"``), and requires every node's output and every state Lava keeps
(sigma, act, residue, error; u, v) to equal ``simulators.reference`` at every step.

A failure prints the seed; rerun with ``SNNC_DIFF_SEED=<seed>``.
"""

from __future__ import annotations

import os
import secrets

import numpy as np
import pytest
from sdn_random import SDN_SCENARIOS, random_sdn

from tests.lava.compare import differential_rounds

pytestmark = pytest.mark.lava

SEED = int(os.environ.get("SNNC_DIFF_SEED") or secrets.randbelow(2**31))
CHUNKS, PER_CHUNK, STEPS = 4, 30, 24  # 120 networks per run
EXTRA_ROUNDS = 2
# Every chunk must reach each of these (see _coverage), or the test is not testing them.
REQUIRED = {"graded", "suppressed", "residue", "cum_error", "relu_clip", "unit", "bias", "conv",
            "lif_graded", "binary_into_sd", "large"}


def networks(chunk: int, round_: int = 0):
    rng = np.random.default_rng([SEED, chunk, 1000 + round_])
    return [random_sdn(rng, SDN_SCENARIOS[i % len(SDN_SCENARIOS)], STEPS)
            for i in range(PER_CHUNK)]


def _coverage(net, ref: dict[str, np.ndarray]) -> set[str]:
    """Which corners of the sigma-delta arithmetic this network's reference run reached."""
    seen: set[str] = set()
    nodes = net.graph.nodes
    for name in net.neurons:
        node = nodes[name]
        if node.op in ("loihi.delta", "loihi.sigma_delta"):
            s, residue = ref[f"{name}.s"], ref[f"{name}.residue"]
            seen |= {"graded"} if (np.abs(s) > 1).any() else set()
            seen |= {"residue"} if residue.any() else set()
            seen |= {"suppressed"} if (residue.any() and node.vth > 0) else set()
            seen |= {"cum_error"} if node.cum_error and ref[f"{name}.error"].any() else set()
            seen |= {"large"} if np.abs(ref[f"{name}.act"]).max() >= 2**20 else set()
        if node.op == "loihi.sigma_delta":
            sig = ref[f"{name}.sigma"] + (np.asarray(node.bias) << node.scale_bits)
            if node.act_mode == "relu" and (sig < 0).any() and s.any():
                seen.add("relu_clip")
            if node.act_mode == "unit" and (ref[f"{name}.act"] < 0).any():
                seen.add("unit")
            seen |= {"bias"} if np.any(node.bias) and s.any() else set()
    for syn in net.synapses:
        node = nodes[syn]
        a = ref[f"{syn}.s"]
        after = net.graph.successors(syn)[0]
        nxt = nodes[after]
        if node.op == "loihi.conv" and a.any():
            seen.add("conv")
        if nxt.op == "loihi.lif" and node.num_message_bits and ref[f"{after}.s"].any():
            seen.add("lif_graded")
        if nxt.op == "loihi.sigma_delta" and not node.num_message_bits and a.any():
            seen.add("binary_into_sd")
    return seen


@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_sdn_reference_matches_lava(chunk: int) -> None:
    differential_rounds(lambda round_: networks(chunk, round_), STEPS, _coverage, REQUIRED,
                        EXTRA_ROUNDS, f"SNNC_DIFF_SEED={SEED}, chunk {chunk}")
