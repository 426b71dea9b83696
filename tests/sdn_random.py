"""Random sigma-delta and graded-spike networks (``loihi.delta`` / ``loihi.sigma_delta`` /
``loihi.sigma`` with ``loihi.dense`` / ``loihi.conv`` synapses reading graded payloads).

``random_sdn(rng, scenario, steps)`` returns a ``tests.loihi_random.RandomNet`` whose graph is
Input -> [Delta] -> (synapse -> neuron) x 1..3 -> [synapse -> Sigma] -> Output, where each hidden
neuron is a ``loihi.sigma_delta`` (ReLU or unit activation, bias, cum_error on or off), or, in the
``"mixed"`` scenario, sometimes a ``loihi.lif`` fed by graded payloads whose binary spikes then
drive a sigma-delta layer. The stimulus is a (T, 1, *shape) integer signal (slow ramps and sines
with noise, as a sensor feeds a Delta encoder; or, without a Delta, payloads sent straight in).
Probes: every node's output, and every sigma-delta state Lava keeps (sigma, act, residue, error).

Scenarios:

- ``"plain"``: small thresholds and exponents, moderate signals: many graded spikes;
- ``"threshold"``: thresholds near the signal's steps: the residue and the cumulative error decide
  which neurons send;
- ``"wide"``: large exponents (spike_exp + state_exp up to 12) and large signals: payloads and
  sigma reach tens of bits (still inside int32, where Lava's arithmetic is defined);
- ``"mixed"``: graded payloads into LIF neurons and binary spikes into sigma-delta neurons;
- ``"conv"``: conv synapses on (C, H, W) maps, then a flatten and dense layers.

Only NumPy and snnc.ir: usable by any simulator's differential tests.
"""

from __future__ import annotations

import numpy as np
from loihi_random import RandomNet, _lif

from snnc import ir
from snnc.errors import IRError

SDN_SCENARIOS = ("plain", "threshold", "wide", "mixed", "conv")


def random_sdn(rng: np.random.Generator, scenario: str = "plain", steps: int = 24,
               max_layers: int = 3) -> RandomNet:
    """A random graded-spike chain for ``scenario`` (see module docstring)."""
    conv = scenario == "conv" or (scenario == "mixed" and rng.random() < 0.3)
    shape: tuple[int, ...] = ((int(rng.integers(1, 4)), *(int(v) for v in rng.integers(3, 8, 2)))
                              if conv else (int(rng.integers(1, 13)),))
    nodes: list[tuple[str, ir.Node]] = [("x", ir.Input(shape=shape))]
    net = RandomNet(None, None, (), scenario)  # type: ignore[arg-type]
    exps = _exps(rng, scenario)
    use_delta = rng.random() < 0.8
    bits = int(rng.choice([8, 16, 24]))
    if use_delta:
        nodes.append(("enc", ir.LoihiDelta(shape=shape, vth=_vth(rng, scenario, exps),
                                           spike_exp=exps[0], state_exp=exps[1],
                                           cum_error=bool(rng.random() < 0.4),
                                           num_message_bits=bits)))
        net.neurons.append("enc")
    graded = True  # what the next synapse reads: graded payloads, or binary spikes after a LIF
    n_layers = int(rng.integers(1, max_layers + 1))
    for layer in range(n_layers):
        if len(shape) == 3 and (not conv or rng.random() < 0.4):
            nodes.append((f"flat{layer}", ir.Flatten(input_shape=shape)))
            shape, conv = (int(np.prod(shape)),), False
        syn = _synapse(rng, shape, conv, bits if graded else 0, scenario)
        net.synapses.append(f"syn{layer}")
        nodes.append((f"syn{layer}", syn))
        shape = syn.out_shape
        lif = scenario == "mixed" and graded and rng.random() < 0.5
        if lif:
            nodes.append((f"n{layer}", _lif(rng, shape, "plain")))
        else:
            exps = _exps(rng, scenario)
            bits = int(rng.choice([8, 16, 24]))
            nodes.append((f"n{layer}", _sigma_delta(rng, shape, scenario, exps, bits)))
        net.neurons.append(f"n{layer}")
        graded = not lif
    if len(shape) == 3:
        nodes.append(("flat_out", ir.Flatten(input_shape=shape)))
        shape = (int(np.prod(shape)),)
    syn = _synapse(rng, shape, False, bits if graded else 0, scenario)
    net.synapses.append("syn_out")
    nodes.append(("syn_out", syn))
    nodes.append(("dec", ir.LoihiSigma(shape=syn.out_shape, num_message_bits=24)))
    net.neurons.append("dec")
    nodes.append(("y", ir.Output(shape=syn.out_shape)))
    net.graph = ir.Graph.chain(*nodes)
    net.stimulus = _stimulus(rng, steps, nodes[0][1].out_shape, use_delta, scenario)
    probes = [f"{s}.s" for s in net.synapses]
    for name in net.neurons:
        node = net.graph.nodes[name]
        probes += [f"{name}.{v}" for v in STATE_VARS[node.op]]
    net.probes = tuple(probes)
    return net


#: the state each op keeps, as Lava's processes name their Vars
STATE_VARS = {"loihi.delta": ("s", "act", "residue", "error"),
              "loihi.sigma_delta": ("s", "sigma", "act", "residue", "error"),
              "loihi.sigma": ("s", "sigma"),
              "loihi.lif": ("s", "u", "v")}


def _exps(rng: np.random.Generator, scenario: str) -> tuple[int, int]:
    if scenario == "wide":
        return int(rng.integers(3, 8)), int(rng.integers(3, 6))
    return int(rng.integers(0, 7)), int(rng.integers(0, 7)) if rng.random() < 0.5 else 6


def _vth(rng: np.random.Generator, scenario: str, exps: tuple[int, int]) -> int:
    if rng.random() < 0.1:
        return 0  # every change is sent
    top = {"plain": 8, "threshold": 200, "wide": 64, "mixed": 16, "conv": 16}[scenario]
    vth = int(rng.integers(1, top + 1))
    return min(vth, (2**31 - 1) >> sum(exps))


def _sigma_delta(rng: np.random.Generator, shape: tuple[int, ...], scenario: str,
                 exps: tuple[int, int], bits: int) -> ir.LoihiSigmaDelta:
    lim = min(2**12, (2**30) >> sum(exps))
    bias = (rng.integers(-lim, lim + 1, size=shape) if rng.random() < 0.5
            else np.asarray(int(rng.integers(-lim // 4, lim // 4 + 1))))
    if rng.random() < 0.3:
        bias = np.asarray(0)
    return ir.LoihiSigmaDelta(shape=shape, vth=_vth(rng, scenario, exps), bias=bias,
                              act_mode="relu" if rng.random() < 0.7 else "unit",
                              spike_exp=exps[0], state_exp=exps[1],
                              cum_error=bool(rng.random() < 0.4), num_message_bits=bits)


def _synapse(rng: np.random.Generator, shape: tuple[int, ...], conv: bool, bits: int,
             scenario: str) -> ir.Node:
    wide = scenario == "wide"
    if conv:
        for _ in range(100):
            c_in = shape[0]
            groups = int(rng.choice([g for g in (1, 2, 3) if c_in % g == 0]))
            k = tuple(int(v) for v in rng.integers(1, 4, size=2))
            w = rng.integers(-32, 33, size=(groups * int(rng.integers(1, 3)), c_in // groups, *k))
            try:
                return ir.LoihiConv(input_shape=shape, weight=w, groups=groups,
                                    stride=tuple(int(v) for v in rng.integers(1, 3, 2)),
                                    padding=tuple(int(v) for v in rng.integers(0, 2, 2)),
                                    num_message_bits=bits)
            except IRError:
                continue
        raise RuntimeError(f"no valid conv for input {shape}")
    n_out = int(rng.integers(1, 13))
    lo, hi = (-256, 255) if wide or rng.random() < 0.3 else (-64, 64)
    w = rng.integers(lo, hi + 1, size=(n_out, shape[0]))
    w[rng.random(w.shape) < rng.choice([0.0, 0.3])] = 0
    return ir.LoihiDense(weight=w, weight_exp=int(rng.integers(-4, 3)),
                         num_weight_bits=8, num_message_bits=bits)


def _stimulus(rng: np.random.Generator, steps: int, shape: tuple[int, ...], delta: bool,
              scenario: str) -> np.ndarray:
    t = np.arange(steps).reshape(-1, 1, *([1] * len(shape)))
    amp = {"wide": 2**10, "threshold": 300}.get(scenario, 64)
    phase = rng.uniform(0, 2 * np.pi, size=(1, 1, *shape))
    period = rng.uniform(4, 3 * steps)
    x = amp * np.sin(2 * np.pi * t / period + phase) * rng.uniform(0, 1, size=(1, 1, *shape))
    x = x + rng.normal(0, amp / 16, size=(steps, 1, *shape))
    if delta and rng.random() < 0.5:
        x = np.abs(x)  # sensor levels
    if not delta:  # payloads sent straight into the first synapse: mostly silent
        x = np.where(rng.random(x.shape) < 0.5, 0, x)
    if rng.random() < 0.2:
        x[rng.integers(0, steps):] = 0  # the signal stops: decoders settle
    return np.rint(x).astype(np.int64)
