"""NeuroBench's metrics, computed exactly as NeuroBench 2.3.0 defines them, on an IR graph.

Counting rules (``neurobench/metrics``; shared/reference/loihi.md section 6.3), applied to the
IR twins of the layers NeuroBench hooks (``graphstats``):

- **SynapticOperations**: for every connection layer and every call (one call per time step,
  the whole batch at once), the input is binarised (non-zero -> 1) and the layer re-run with
  non-zero weights set to 1 and no bias; the output sum is the number of (non-zero input,
  non-zero weight) pairs. A call whose input holds only -1, 0 and 1 is *spiking* and adds to
  ``Effective_ACs``, any other call to ``Effective_MACs``. ``Dense`` counts with every input
  and weight set to 1. All three are divided by the number of samples.
- **ActivationSparsity**: 1 - non-zero / all outputs of the neuron layers, over every step and
  sample.
- **MembraneUpdates**: per neuron layer, every neuron once at the first step, then every
  (step, neuron) whose membrane value differs from the previous step's; per sample. The value is
  the one snnTorch keeps in ``mem`` (``membrane``): before a hard reset, else the state v.
- **ConnectionSparsity**: zero weights / weights of the connection layers (biases excluded),
  rounded to 4 digits.
- **ParameterCount** / **Footprint**: NeuroBench counts the PyTorch module's parameters (and,
  for the footprint, its buffers) in their storage dtype. The IR keeps the parameters that
  matter: connection weights and biases and batch-norm affine parameters (statistics count in
  the footprint, as the buffers they are), stored as float32 (4 bytes). Neuron constants that a
  framework keeps as buffers (snnTorch's ``beta``, ``threshold``) are not counted, so the
  footprint can be a few bytes per neuron layer below NeuroBench's.

Activity comes from the reference simulator, run by the ``measure`` stage
(``snnc/stages/measure.py``) with the probes ``graphstats.input_probes`` names: the float graph
reproduces the framework's forward pass, so these are the numbers NeuroBench reports for the same
model and inputs. No torch is needed.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...ir import Graph
from .graphstats import (
    bias_size,
    connection_nodes,
    fanout,
    neuron_nodes,
    node_input,
    weight_counts,
)

FLOAT_BYTES = 4  # PyTorch's default parameter dtype (float32)


def static_metrics(graph: Graph) -> dict[str, Any]:
    """ParameterCount, Footprint (bytes) and ConnectionSparsity of ``graph``."""
    params = buffers = zeros = weights = 0
    for name in connection_nodes(graph):
        size, nnz = weight_counts(graph.nodes[name])
        params += size + bias_size(graph.nodes[name])
        zeros += size - nnz
        weights += size
    for node in graph.nodes.values():
        if node.op == "batchnorm":
            params += node.weight.size + node.bias.size
            buffers += node.mean.size + node.var.size
    sparsity = round(zeros / weights, 4) if weights else 0.0
    return {"parameter_count": int(params),
            "footprint_bytes": int((params + buffers) * FLOAT_BYTES),
            "connection_sparsity": sparsity}


def _is_spiking(x: np.ndarray) -> bool:
    return not np.any((x != 0) & (x != 1) & (x != -1))


def synaptic_operations(graph: Graph, probes: dict[str, np.ndarray]) -> dict[str, Any] | None:
    """Effective_MACs, Effective_ACs, Dense per sample, with the same split per layer."""
    total = {"Effective_MACs": 0.0, "Effective_ACs": 0.0, "Dense": 0.0}
    layers = []
    samples = None
    for name in connection_nodes(graph):
        x = node_input(graph, name, probes)
        if x is None:
            return None
        samples = x.shape[1]
        node = graph.nodes[name]
        f_eff, f_dense = fanout(node).astype(np.float64), fanout(node, True).astype(np.float64)
        nz = (x != 0).astype(np.float64)
        per_step = nz @ f_eff  # (T, B)
        macs = acs = 0.0
        for t in range(x.shape[0]):
            ops = float(per_step[t].sum())
            if _is_spiking(x[t]):
                acs += ops
            else:
                macs += ops
        dense = float(f_dense.sum()) * x.shape[0] * x.shape[1]
        row = {"layer": name, "Effective_MACs": macs / samples, "Effective_ACs": acs / samples,
               "Dense": dense / samples}
        layers.append(row)
        for k in total:
            total[k] += row[k]
    return {**total, "by_layer": layers}


def activation_sparsity(graph: Graph, probes: dict[str, np.ndarray]) -> float | None:
    nonzero = count = 0
    for name in neuron_nodes(graph):
        s = probes.get(f"{name}.s")
        if s is None:
            return None
        nonzero += int(np.count_nonzero(s))
        count += int(np.size(s))
    return (count - nonzero) / count if count else 0.0


def membrane(node: Any, name: str, probes: dict[str, np.ndarray]) -> np.ndarray | None:
    """(T, B, *shape) membrane values as NeuroBench's hook reads them from snnTorch.

    snnTorch stores the membrane *before* a hard reset (the reset is applied at the next step),
    so for hard-reset float neurons this is v_pre[t] = decay_v * v[t-1] + gain * i[t] + bias,
    rebuilt from the probed state v and current i with the kernel's own float64 arithmetic;
    for every other neuron it is the stored state v.
    """
    v = probes.get(f"{name}.v")
    if v is None or not (getattr(node, "spiking", False) and node.reset == "hard"):
        return v
    i = probes.get(f"{name}.i")
    if i is None:
        return None
    v = np.asarray(v)
    prev = np.concatenate([np.broadcast_to(node.v_init, v.shape[1:])[None], v[:-1]])
    decay_v, _ = node.decays()
    return decay_v * prev + node.gain * np.asarray(i) + node.bias


def membrane_updates(graph: Graph, probes: dict[str, np.ndarray]) -> float | None:
    updates, samples = 0, 1
    for name in neuron_nodes(graph):
        v = membrane(graph.nodes[name], name, probes)
        if v is None:
            return None
        v = np.asarray(v)
        samples = v.shape[1]
        updates += int(np.prod(v.shape[1:])) if v.shape[0] else 0
        updates += int(np.count_nonzero(v[1:] != v[:-1]))
    return updates / samples


def neurobench_metrics(graph: Graph, probes: dict[str, np.ndarray] | None) -> dict[str, Any]:
    """All metrics; the workload ones are None without recorded activity."""
    out: dict[str, Any] = static_metrics(graph)
    syn = synaptic_operations(graph, probes) if probes is not None else None
    out["synaptic_operations"] = (None if syn is None else
                                  {k: syn[k] for k in ("Effective_MACs", "Effective_ACs", "Dense")})
    out["by_layer"] = [] if syn is None else syn["by_layer"]
    out["activation_sparsity"] = None if probes is None else activation_sparsity(graph, probes)
    out["membrane_updates"] = None if probes is None else membrane_updates(graph, probes)
    out["definitions"] = ("NeuroBench 2.3.0 (neurobench.metrics): SynapticOperations, "
                          "ActivationSparsity, MembraneUpdates, ConnectionSparsity, "
                          "ParameterCount, Footprint; per sample; see docs/report-schema.md")
    return out
