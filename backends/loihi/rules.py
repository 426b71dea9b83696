"""Design rules: small named predicates raising ``ResourceError`` when a node does not fit.

Widths are checked here because Lava's Python models never clip to their declared precisions
(shared/reference/loihi.md §3): what Lava would silently accept, real hardware would not.
Per-core capacity (neurons, synaptic memory, axons) is the mapper's job (``mapper.py``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...errors import ResourceError
from ...ir import Graph
from ...ir.traits import Trait, has
from .chips import ChipSpec
from .topology import Topology


def _fail(name: str, what: str, need: Any, have: Any, hint: str) -> ResourceError:
    return ResourceError(f"layer {name!r}: {what} is {need} but the chip allows {have}. {hint}")


#: Magnitude bits of a learned weight: learning moves weights anywhere in the sign mode's 8-bit
#: range ([-256, 255] mixed, [0, 255] excitatory, [-255, 0] inhibitory), whatever
#: ``num_weight_bits`` the initial weights were truncated to.
PLASTIC_WEIGHT_BITS = 8


def _mixed(node: Any) -> bool:
    if node.op == "loihi.plastic_dense":
        return node.sign_mode == "mixed"
    w = np.asarray(node.weight)
    return bool(w.size and w.min() < 0 < w.max())


def magnitude_bits(node: Any) -> int:
    """Magnitude bits of a stored weight (dense: ``num_weight_bits``; conv: from the values;
    plastic: ``PLASTIC_WEIGHT_BITS``, the range learning can reach)."""
    if node.op == "loihi.plastic_dense":
        return PLASTIC_WEIGHT_BITS
    if node.op == "loihi.dense":
        return int(node.num_weight_bits)
    w = np.asarray(node.weight)
    top = max(int(w.max(initial=0)), -int(w.min(initial=0)) - 1)  # two's complement magnitude
    return max(top.bit_length(), 1)


def weight_bits_of(node: Any) -> int:
    """Bits a stored weight takes: magnitude bits plus a sign bit when weights of both signs."""
    return magnitude_bits(node) + int(_mixed(node))


def rule_weight_bits(name: str, node: Any, chip: ChipSpec) -> None:
    mag = magnitude_bits(node)
    if mag > chip.synapse.max_weight_bits:
        hint = ("Learned weights span 8 magnitude bits: use a chip with 8-bit weights or freeze "
                "the layer into loihi.dense." if node.op == "loihi.plastic_dense" else
                "Quantize the weights to fewer bits (quantize-loihi).")
        raise _fail(name, "the weight width", f"{mag} bits", f"{chip.synapse.max_weight_bits}",
                    hint)


def rule_delays(name: str, node: Any, chip: ChipSpec) -> None:
    delays = getattr(node, "delays", None)
    if delays is None or delays.size == 0:
        return
    if int(delays.max()) > chip.synapse.max_delay:
        raise _fail(name, "the largest synaptic delay", int(delays.max()), chip.synapse.max_delay,
                    "Shorten the delays or split them with delay layers.")


def rule_message_bits(name: str, node: Any, chip: ChipSpec) -> None:
    bits = int(node.num_message_bits)
    if bits > chip.neuron.max_message_bits:
        what = "binary spikes only" if chip.neuron.max_message_bits == 0 else \
            f"graded spikes of at most {chip.neuron.max_message_bits} bits"
        hint = ("Use binary (rate- or delta-coded) input, or a chip with graded spikes "
                "(--chip loihi2)." if chip.neuron.max_message_bits == 0 else
                "Send fewer payload bits (lower the input's or layer's message bits).")
        raise _fail(name, "the spike payload width", f"{bits} bits", what, hint)


def rule_neuron_widths(name: str, node: Any, chip: ChipSpec) -> None:
    if has(node, Trait.GRADED):
        rule_graded_widths(name, node, chip)
        return
    n = chip.neuron
    # Lava's model ranges: du = -1 (no current decay), dv = 2**bits (v = u + bias) and
    # vth = 2**bits (a neuron that never spikes) are what netx produces for its default neuron.
    checks = (("vth", node.vth, 0, 2**n.vth_bits),
              ("du", node.du, -1, 2**n.decay_bits - 1), ("dv", node.dv, 0, 2**n.decay_bits),
              ("bias_mant", node.bias_mant, -(2 ** (n.bias_mant_bits - 1)),
               2 ** (n.bias_mant_bits - 1) - 1),
              ("bias_exp", node.bias_exp, -(2**n.bias_exp_bits), 2**n.bias_exp_bits - 1))
    for field, arr, lo, hi in checks:
        arr = np.asarray(arr)
        if arr.size and (arr.min() < lo or arr.max() > hi):
            raise _fail(name, f"{field}", f"in [{arr.min()}, {arr.max()}]", f"[{lo}, {hi}]",
                        "Re-quantize the neuron parameters for this chip.")


def rule_graded_widths(name: str, node: Any, chip: ChipSpec) -> None:
    """A sigma-delta layer: graded spikes at all, then its payload width (Loihi 2 microcode)."""
    if not chip.neuron.max_message_bits:
        raise ResourceError(
            f"layer {name!r} ({node.op}) sends graded spikes (sigma-delta neurons), which the "
            f"{chip.name} chip does not have (its spikes are binary); compile with --chip loihi2")
    if node.num_message_bits > chip.neuron.max_message_bits:
        raise _fail(name, "the spike payload width", f"{node.num_message_bits} bits",
                    f"graded spikes of at most {chip.neuron.max_message_bits} bits",
                    "Lower the layer's messageBits (netx) or num_message_bits.")


def rule_neuron_model(name: str, node: Any, chip: ChipSpec) -> None:
    """Subtract reset, the '>=' comparator and v_init need programmable neurons (Loihi 2)."""
    if not getattr(node, "programmable", False) or chip.neuron.programmable:
        return
    what = " and ".join(x for x in (
        "a subtract (soft) reset" if node.reset == "subtract" else "",
        "the '>=' comparator" if node.comparator == ">=" else "",
        "an initial potential (v_init)" if np.any(getattr(node, "v_init", 0)) else "") if x)
    raise ResourceError(
        f"layer {name!r}: {what} needs a programmable neuron model, but the {chip.name} chip's "
        "neurons reset v to 0 and compare with '>' only. Compile with --chip loihi2, or retrain "
        "the layer with a hard reset to 0.")


SYNAPSE_RULES = (rule_weight_bits, rule_delays, rule_message_bits)
NEURON_RULES = (rule_neuron_widths, rule_neuron_model)


def check_design_rules(graph: Graph, topo: Topology, chip: ChipSpec) -> None:
    """Run every width rule on every synapse and layer; raise the first ``ResourceError``."""
    for name in topo.synapses:
        for rule in SYNAPSE_RULES:
            rule(name, graph.nodes[name], chip)
    for name in topo.layers:
        for rule in NEURON_RULES:
            rule(name, graph.nodes[name], chip)
