"""What kind of op a node is, declared once on its class (``traits = frozenset({...})``).

Passes, lowering, the mapper and the simulators ask ``has(node, Trait.SYNAPSE)`` instead of
keeping their own tuples of op names, so a new op joins every rule that applies to it by
declaring its traits in its own file. Neuron ops derive theirs from ``spiking`` / ``leaky`` /
``current`` (``ir/neurons.py``).

- ``HOST``: graph boundary (``input``, ``output``).
- ``NEURON``: a float neuron op; ``SPIKING`` (emits spikes; also ``threshold``) or ``READOUT``
  (outputs its potential); ``LEAKY`` (decays v), ``CURRENT`` (has a synaptic current).
- ``SYNAPSE``: a float weighted op with output channels first (``affine``, ``linear``, convs);
  ``DENSE`` (a matrix: ``affine``, ``linear``) or ``CONV``.
- ``LINEAR_MAP``: a linear map of its input with no state (synapses, ``scale``, sum/avg
  pooling, wiring): chains of them fold into one (``fold-affine``).
- ``WIRING``: zero-cost C-order re-indexing (``flatten``, ``reshape``).
- ``POOLING``: 2-d pooling windows. ``MERGE``: combines several inputs (``add``, ``or``).
- ``MONOTONE``: output non-decreasing in every input, stateless (interval bounds pass through).
- ``CHIP_SYNAPSE`` / ``CHIP_NEURON``: lowered Loihi synapse blocks and neuron layers;
  ``PLASTIC``: a chip synapse whose weights learn; ``GRADED``: a chip neuron layer that sends
  graded spikes (signed integer payloads of its ``num_message_bits``; ``ir/loihi_sdn.py``).
"""

from __future__ import annotations

import enum
from typing import Any


class Trait(enum.Enum):
    HOST = "host"
    NEURON = "neuron"
    SPIKING = "spiking"
    READOUT = "readout"
    LEAKY = "leaky"
    CURRENT = "current"
    SYNAPSE = "synapse"
    DENSE = "dense"
    CONV = "conv"
    LINEAR_MAP = "linear-map"
    WIRING = "wiring"
    POOLING = "pooling"
    MERGE = "merge"
    MONOTONE = "monotone"
    CHIP_SYNAPSE = "chip-synapse"
    CHIP_NEURON = "chip-neuron"
    PLASTIC = "plastic"
    GRADED = "graded"


def has(node: Any, *traits: Trait) -> bool:
    """True when ``node`` (or op class) declares every one of ``traits``."""
    own: frozenset[Trait] = getattr(node, "traits", frozenset())
    return all(t in own for t in traits)


def has_any(node: Any, *traits: Trait) -> bool:
    own: frozenset[Trait] = getattr(node, "traits", frozenset())
    return any(t in own for t in traits)


def ops_with(*traits: Trait) -> tuple[str, ...]:
    """Registered op names whose class declares every one of ``traits`` (sorted)."""
    from .node import op_class, registered_ops

    return tuple(sorted(op for op in registered_ops() if has(op_class(op), *traits)))
