"""Random lowered networks (``loihi.*`` chains) with stimuli that reach the arithmetic's corners.

``random_network(rng, scenario)`` returns a ``RandomNet``: a graph Input -> [synapse -> loihi.lif]
x 1..3 -> Output, where each synapse is ``loihi.dense``, ``loihi.dense`` with delays, or
``loihi.conv`` (non-square kernels and inputs, stride, padding, dilation, groups; a flatten goes
between a conv layer and a dense one), plus a stimulus (T, 1, *shape) and the probes of every
node (s of synapses, s/u/v of neurons).

Scenarios steer the draw toward the corners that the fixed-point reference must get right:

- ``"plain"``: anything, moderate values;
- ``"u_wrap"``: large excitatory weights, weight_exp 5..7, slow current decay: u leaves 24 bits;
- ``"v_sat"``: strong inhibition or excitation with slow voltage decay: v saturates at
  -(2**23 - 1) (or at +(2**23 - 1), which then spikes);
- ``"conv_wrap"``: a conv with graded input and large weights: its 24-bit output wraps;
- ``"graded"``: graded payloads into the first synapse (num_message_bits > 0);
- ``"programmable"``: Loihi 2 programmable neurons: each layer draws the ``>=`` comparator and
  a hard, subtract or delayed subtract reset, and half the layers an initial potential v_init
  (the chip must allow programmable neurons).

Only NumPy and snnc.ir: usable by any simulator's differential tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from snnc import ir
from snnc.errors import IRError

SCENARIOS = ("plain", "u_wrap", "v_sat", "conv_wrap", "graded", "programmable")


@dataclass
class RandomNet:
    graph: ir.Graph
    stimulus: np.ndarray  # (T, 1, *input_shape), integers
    probes: tuple[str, ...]
    scenario: str
    synapses: list[str] = field(default_factory=list)
    neurons: list[str] = field(default_factory=list)


def random_network(rng: np.random.Generator, scenario: str = "plain", steps: int = 32,
                   max_layers: int = 3) -> RandomNet:
    """A random chain for ``scenario`` (see module docstring)."""
    first = "conv" if scenario == "conv_wrap" else rng.choice(["dense", "delay", "conv"])
    graded = scenario in ("graded", "conv_wrap") or rng.random() < 0.15
    shape = _input_shape(rng, first)
    nodes: list[tuple[str, ir.Node]] = [("x", ir.Input(shape=shape))]
    net = RandomNet(None, None, (), scenario)  # type: ignore[arg-type]
    kind = first
    n_layers = int(rng.integers(1, max_layers + 1))
    modes = ["hard", "subtract", "subtract-delayed"]
    if scenario == "programmable":  # every reset mode in each network
        n_layers, start = max(n_layers, min(3, max_layers)), int(rng.integers(0, 3))
        modes = modes[start:] + modes[:start]
    for layer in range(n_layers):
        if layer and kind != "conv" and len(shape) == 3:
            nodes.append((f"flat{layer}", ir.Flatten(input_shape=shape)))
            shape = (int(np.prod(shape)),)
        hot = scenario if layer == 0 or rng.random() < 0.5 or scenario == "programmable" \
            else "plain"
        bits = int(rng.choice([8, 16, 24])) if (graded and layer == 0) else 0
        syn = _synapse(rng, kind, shape, hot, bits)
        net.synapses.append(f"syn{layer}")
        nodes.append((f"syn{layer}", syn))
        shape = syn.out_shape
        net.neurons.append(f"lif{layer}")
        nodes.append((f"lif{layer}", _lif(rng, shape, hot, modes[layer % 3])))
        kind = rng.choice(["dense", "delay", "conv"] if len(shape) == 3 else ["dense", "delay"])
    nodes.append(("y", ir.Output(shape=shape)))
    net.graph = ir.Graph.chain(*nodes)
    net.stimulus = _stimulus(rng, steps, nodes[0][1].out_shape, graded, scenario)
    net.probes = tuple([f"{s}.s" for s in net.synapses]
                       + [f"{n}.{v}" for n in net.neurons for v in ("s", "u", "v")])
    return net


def _input_shape(rng: np.random.Generator, kind: str) -> tuple[int, ...]:
    if kind == "conv":
        c = int(rng.integers(1, 5))
        h, w = (int(v) for v in rng.integers(3, 9, size=2))
        return (c, h, w)
    return (int(rng.integers(1, 13)),)


def _weights(rng: np.random.Generator, shape: tuple[int, ...], scenario: str) -> np.ndarray:
    mode = rng.choice(["exc", "inh", "mixed", "mixed"])
    if scenario == "u_wrap":
        mode = "exc" if rng.random() < 0.7 else "mixed"
    if scenario == "conv_wrap":
        mode = "exc"
    if scenario == "v_sat":
        mode = rng.choice(["inh", "exc"])
    lo, hi = {"exc": (0, 255), "inh": (-256, 0), "mixed": (-256, 255)}[str(mode)]
    if scenario in ("u_wrap", "conv_wrap", "v_sat") and mode != "mixed":
        lo, hi = (128, 255) if mode == "exc" else (-256, -128)
    w = rng.integers(lo, hi + 1, size=shape)
    if scenario != "conv_wrap":
        w[rng.random(shape) < rng.choice([0.0, 0.3, 0.7])] = 0
    if rng.random() < 0.2:  # the edge values the clip and the truncation treat specially
        w.flat[rng.integers(w.size)] = -256 if mode != "exc" else 255
    return w


def _synapse(rng: np.random.Generator, kind: str, shape: tuple[int, ...], scenario: str,
             bits: int) -> ir.Node:
    hot = scenario in ("u_wrap", "conv_wrap", "v_sat")
    common = {
        "weight_exp": int(rng.integers(5, 8) if hot else rng.integers(-8, 8)),
        "num_weight_bits": int(rng.choice([8, 8, 7, 6]) if hot else rng.integers(1, 9)),
        "num_message_bits": bits,
    }
    if kind == "conv":
        return _conv(rng, shape, scenario, common)
    n_out = int(rng.integers(1, 13))
    w = _weights(rng, (n_out, shape[0]), scenario)
    delays = None
    if kind == "delay":
        delays = (rng.integers(0, 7, size=w.shape) if rng.random() < 0.8
                  else np.asarray(rng.integers(0, 5)))
    return ir.LoihiDense(weight=w, delays=delays, **common)


def _conv(rng: np.random.Generator, shape: tuple[int, ...], scenario: str,
          common: dict[str, int]) -> ir.LoihiConv:
    c_in = shape[0]
    for _ in range(100):
        groups = int(rng.choice([g for g in (1, 2, 3) if c_in % g == 0]))
        c_out = groups * int(rng.integers(1, 4))
        k = tuple(int(v) for v in rng.integers(1, 4, size=2))
        stride = tuple(int(v) for v in rng.integers(1, 3, size=2))
        padding = tuple(int(v) for v in rng.integers(0, 2, size=2))
        dilation = tuple(int(v) for v in rng.integers(1, 3, size=2))
        w = _weights(rng, (c_out, c_in // groups, *k), scenario)
        try:
            return ir.LoihiConv(input_shape=shape, weight=w, stride=stride, padding=padding,
                                dilation=dilation, groups=groups, **common)
        except IRError:  # empty output: draw again
            continue
    raise RuntimeError(f"no valid conv for input {shape}")


def _lif(rng: np.random.Generator, shape: tuple[int, ...], scenario: str,
         reset: str = "hard") -> ir.LoihiLIF:
    def param(lo: int, hi: int, special: tuple[int, ...]) -> np.ndarray:
        if rng.random() < 0.2:
            return rng.integers(lo, hi + 1, size=shape)
        if rng.random() < 0.3:
            return np.asarray(rng.choice(special))
        return np.asarray(rng.integers(lo, hi + 1))

    du = param(-1, 4095, (-1, 0, 4095))
    dv = param(0, 4096, (0, 4095, 4096))
    vth = np.asarray(int(2 ** rng.uniform(0, 17)))
    if rng.random() < 0.2:
        vth = (2 ** rng.uniform(0, 17, size=shape)).astype(np.int64)
    if scenario == "u_wrap":
        du = np.asarray(rng.choice([-1, 0, 1, 10, 200]))
    if scenario == "v_sat":
        dv, vth = np.asarray(rng.choice([0, 1, 5])), np.asarray(2**17 - int(rng.integers(0, 4)))
    bias = rng.integers(-4096, 4096, size=shape) if rng.random() < 0.5 else np.asarray(0)
    bias_exp = rng.integers(-8, 8, size=shape) if rng.random() < 0.3 else np.asarray(
        rng.integers(-8, 8))
    interval = int(rng.integers(1, 9)) if rng.random() < 0.3 else 0
    extra: dict[str, object] = {}
    if scenario == "programmable":
        extra = {"comparator": str(rng.choice([">", ">="])),
                 "reset": "hard" if reset == "hard" else "subtract",
                 "decay_reset": reset != "subtract-delayed"}
        vth = np.minimum(vth, 2**int(rng.integers(2, 10)))  # small thresholds: many spikes
        if rng.random() < 0.5:  # an initial potential (OPI / QCFS: theta / 2), per layer or neuron
            top = int(np.max(vth)) << 6
            size = shape if rng.random() < 0.3 else ()
            extra["v_init"] = np.asarray(rng.integers(-top, top + 1, size=size))
    return ir.LoihiLIF(shape=shape, du=du, dv=dv, vth=vth, bias_mant=bias, bias_exp=bias_exp,
                       reset_interval=interval, reset_offset=int(rng.integers(-3, 12)), **extra)


def _stimulus(rng: np.random.Generator, steps: int, shape: tuple[int, ...], graded: bool,
              scenario: str) -> np.ndarray:
    size = (steps, 1, *shape)
    if not graded:
        return (rng.random(size) < rng.choice([0.05, 0.3, 0.7, 1.0])).astype(np.int64)
    if scenario == "conv_wrap":  # one tap can reach 2**23; sums stay far below 2**31
        x = rng.integers(2**14, 2**15 + 1, size=size)
        x[rng.random(size) < 0.2] = 0
        return x
    top = 2 ** int(rng.integers(1, 12))
    x = rng.integers(-top, top + 1, size=size)
    x[rng.random(size) < 0.5] = 0
    return x
