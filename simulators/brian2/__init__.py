"""Brian2 backend: simulate a float IR graph as a Brian2 network (``run_brian2``).

Brian2 gives users a familiar place to inspect dynamics, and snnc a reference written by someone
else. The network reproduces the discrete-time semantics of ``ir/neurons.py`` and
``simulators/reference.py`` exactly (bit for bit with dyadic parameters), on the ``numpy`` target
and, when a C compiler is present, on ``cython``; the equations, not the target, decide the result.

How the IR maps onto Brian2
---------------------------
* **Units.** Every *value node* becomes one group: a float neuron op (i, li, if, lif, cubali,
  cubalif), a ``threshold`` op, a graph output, or a probed linear node is a ``NeuronGroup``; an
  input of 0/1 spikes is a ``SpikeGeneratorGroup``; an analog input is a ``NeuronGroup`` reading
  a ``TimedArray``. Groups have no differential equations: a ``run_regularly`` operation applies
  the neuron's difference equation once per ``dt``, then Brian2's threshold and reset finish the
  step (``equations.py`` lists the code). The clock runs at ``graph.dt`` (1 ms when the graph
  has none; only the step count matters).
* **Synapses.** The stateless linear ops between value nodes (linear, affine, conv1d/2d,
  sum/avg pool, flatten, reshape, scale, add, batchnorm, delay) are composed into one sparse map
  per pair of value nodes (``collapse.py``, ``linear.py``; convolutions are expanded into explicit
  synapses, biases become constant inputs). From a spiking source the map is a ``Synapses``
  object with ``on_pre: xs_post += w`` and per-synapse delays (``delay`` ops, and the one-step
  delay of edges that close a cycle). From an analog source (graded spikes, li/i/cubali outputs,
  analog inputs) it is a summed variable ``xa_post = w * y_pre``; delayed analog values come from
  history variables ``h1..hD`` that shift in the ``start`` slot.
* **Zero latency within a step.** Brian2 would normally add one step per layer (synapses act
  after the groups' update). Here every object runs in the ``groups`` slot, ordered by the
  position ``k`` of its node in ``graph.schedule()``: summed inputs at ``10k``, update at
  ``10k+1``, threshold at ``10k+2``, outgoing spike pathways at ``10k+3``, reset at ``10k+4``. A
  spike thus reaches every later layer in the step it is emitted, as in the reference. A pathway
  whose target comes earlier in the order (a recurrent edge) delivers after the target's update,
  so its Brian2 delay is one step shorter than the IR delay; the accumulator ``xs`` keeps the
  value until the target's next update reads and clears it.
* **Batch.** B samples run as B copies of every group and synapse in one network.

Known limits: ``or`` and ``maxpool2d`` are not supported, nor quantized/lowered (``loihi.*``)
graphs; avgpool multiplies by 1/k where the reference divides by k (equal when k is a power of
two).
"""

from __future__ import annotations

from typing import Any

from ...errors import BackendError

__all__ = ["run_brian2"]

INSTALL_HINT = "pip install 'snnc[brian2]'"


def run_brian2(graph: Any, inputs_time_major: Any, steps: int | None = None, probes: Any = (),
               target: str = "numpy") -> Any:
    """Simulate ``graph`` in Brian2 (see ``run.run_brian2``); ``BackendError`` without brian2."""
    try:
        import brian2  # noqa: F401
    except ImportError as exc:
        raise BackendError(
            f"the Brian2 backend needs the brian2 package, which is not importable here ({exc}). "
            f"Install it with: {INSTALL_HINT}") from None
    from .run import run_brian2 as _run

    return _run(graph, inputs_time_major, steps, probes, target)
