"""Thresholds of the activations from calibration data, as SpikingJelly's ``ann2snn`` sets them.

The float ANN runs in snnc's reference simulator (one step, analog input). For each ``relu`` /
``clip`` the threshold is the statistic of its output over a calibration batch:

- ``"max"``: the largest activation;
- ``"P%"`` (e.g. ``"99.9%"``): that quantile of all activations of the batch (linear
  interpolation, as ``torch.quantile``), SpikingJelly's robust normalisation;
- a float ``0 < p <= 1``: ``p`` times the largest activation.

Over several batches the statistic is averaged with SpikingJelly's momentum rule
``s = (1 - m) * s + m * s_batch`` (m = 0.1), starting from the first batch, so the same
data in the same batches gives SpikingJelly's thresholds. A ``qcfs`` activation brings its own
threshold (the clip value trained with the model) and needs no calibration.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import SnncError
from ..ir import Graph
from ..ir.activations import ACTIVATIONS


def parse_mode(mode: Any) -> str | float:
    """``"max"``, ``"P%"`` or a float in (0, 1]; ``SnncError`` otherwise."""
    if isinstance(mode, str):
        m = mode.strip().lower()
        if m == "max":
            return "max"
        if m.endswith("%"):
            try:
                q = float(m[:-1])
            except ValueError:
                q = -1.0
            if 0.0 <= q <= 100.0:
                return f"{q:g}%"
        else:
            try:
                return parse_mode(float(m))
            except ValueError:
                pass
    elif isinstance(mode, int | float) and not isinstance(mode, bool) and 0 < mode <= 1:
        return float(mode)
    raise SnncError(f"threshold mode {mode!r} is not 'max', a percentile such as '99.9%', or a "
                    "fraction of the maximum in (0, 1]")


def activation_nodes(graph: Graph) -> list[str]:
    """The activations conversion replaces, in schedule order."""
    return [n for n in graph.schedule().order if graph.nodes[n].op in ACTIVATIONS]


def _statistic(values: np.ndarray, mode: str | float) -> float:
    if mode == "max":
        return float(values.max())
    if isinstance(mode, str):
        return float(np.quantile(values.reshape(-1), float(mode[:-1]) / 100.0))
    return float(values.max()) * mode


def activations(graph: Graph, x: np.ndarray, names: list[str]) -> dict[str, np.ndarray]:
    """Each named node's output on the static input ``x`` (N, *shape), shape (N, *node shape)."""
    from ..simulators.reference import simulate

    res = simulate(graph, x[None], 1, [f"{n}.s" for n in names])
    return {n: res.probes[f"{n}.s"][0] for n in names}


def thresholds(graph: Graph, x: np.ndarray | None, mode: Any = "max",
               batch_size: int | None = None, momentum: float = 0.1) -> dict[str, float]:
    """Threshold (input units) of every ``relu``/``clip`` activation; qcfs ones are skipped."""
    m = parse_mode(mode)
    names = [n for n in activation_nodes(graph) if graph.nodes[n].op != "qcfs"]
    if not names:
        return {}
    if x is None or len(x) == 0:
        raise SnncError(f"the activations {names[:4]} need thresholds from calibration data: "
                        "give --data (an .npz with x of shape (N, *input shape))")
    bs = len(x) if batch_size is None else int(batch_size)
    scale: dict[str, float] = {}
    for start in range(0, len(x), bs):
        acts = activations(graph, x[start:start + bs], names)
        for n in names:
            s_t = _statistic(acts[n], m)
            scale[n] = s_t if n not in scale else (1 - momentum) * scale[n] + momentum * s_t
    return scale
