"""Ground-truth recordings (e.g. lava-dl's Loihi 2 ``gts/``) and per-layer step matches.

A recording is a directory of ``.npy`` arrays, time last. A layer's arrays are found under
either name:

- snnc's probe names: ``<node>.s.npy``, ``<node>.u.npy``, ``<node>.v.npy`` (probe layout:
  ``(*shape, T)`` in snnc's (C, H, W) order);
- for a graph read from a netx file of LIF layers, lava-dl's names, as ``gts/pilotnet_lif``
  has them (its SDNN recordings are named otherwise, and are not guessed at): the
  file's layers in order are ``input`` (a layer without a synapse), ``conv-<i>`` and ``fc-<i>``
  (the i-th conv or dense layer); spikes ``<stem>.npy`` (else ``<stem>-s.npy``), state
  ``<stem>-u.npy`` and ``<stem>-v.npy``, in netx's axis order (W, H, C) or snnc's.

``compare`` counts, per layer and variable, the steps at which every neuron equals the
recording (spikes of a boolean recording compare as spiked / not spiked; anything else by
value) and names the first step that differs. Only the steps both hold are compared.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import SnncError
from ..ir import Graph

VARS = ("s", "u", "v")
NEURON_OPS = ("loihi.lif", "loihi.delta", "loihi.sigma_delta", "loihi.sigma")
_LAYER = re.compile(r"layer(\d+)$")


@dataclass(frozen=True)
class Recorded:
    """One recorded variable of one layer: ``data`` is (T, *shape) in snnc's order."""

    node: str
    var: str
    file: str
    data: np.ndarray

    @property
    def probe(self) -> str:
        return f"{self.node}.{self.var}"


def lavadl_stems(graph: Graph) -> dict[str, str]:
    """node -> lava-dl recording stem for the neuron layers of a netx graph (else empty)."""
    if "netx" not in dict(graph.metadata):
        return {}
    if any(n.op in NEURON_OPS and n.op != "loihi.lif" for n in graph.nodes.values()):
        return {}  # the naming is PilotNet LIF's; SDNN recordings (act0, sigma1, ...) differ
    layers = sorted((int(m.group(1)), n) for n in graph.nodes if (m := _LAYER.match(n)))
    stems: dict[str, str] = {}
    counts = {"conv": 0, "fc": 0}
    for _, name in layers:
        syn = graph.nodes.get(f"{name}_syn")
        if graph.nodes[name].op not in NEURON_OPS:
            continue
        if syn is None:
            stems[name] = "input"
            continue
        kind = "conv" if syn.op == "loihi.conv" else "fc" if syn.op == "loihi.dense" else None
        if kind is None:
            continue
        stems[name] = f"{kind}-{counts[kind]}"
        counts[kind] += 1
    return stems


def _candidates(node: str, stem: str | None, var: str) -> list[str]:
    names = [f"{node}.{var}.npy"]
    if stem is not None:
        names += [f"{stem}.npy", f"{stem}-s.npy"] if var == "s" else [f"{stem}-{var}.npy"]
    return names


def _oriented(arr: np.ndarray, shape: tuple[int, ...], path: Path) -> np.ndarray:
    """``arr`` (*shape or reversed shape, T) as (T, *shape)."""
    body = tuple(arr.shape[:-1])
    if body == shape:
        out = arr
    elif body == shape[::-1]:
        out = arr.transpose(*reversed(range(arr.ndim - 1)), arr.ndim - 1)
    else:
        raise SnncError(f"{path}: recorded shape {body} (time last) fits neither the layer's "
                        f"{shape} nor its reverse {shape[::-1]}")
    return np.moveaxis(out, -1, 0)


def read_recording(directory: str | Path, graph: Graph) -> list[Recorded]:
    """The recorded variables of ``graph``'s neuron layers in ``directory`` (none: error)."""
    d = Path(directory)
    if not d.is_dir():
        raise SnncError(f"--compare-gt {d}: not a directory of recorded .npy arrays")
    stems = lavadl_stems(graph)
    found: list[Recorded] = []
    for node, n in graph.nodes.items():
        if n.op not in NEURON_OPS:
            continue
        for var in VARS:
            for name in _candidates(node, stems.get(node), var):
                path = d / name
                if path.is_file():
                    try:
                        arr = np.load(path, allow_pickle=False)
                    except (OSError, ValueError) as exc:
                        raise SnncError(f"{path}: not a readable .npy array ({exc})") from None
                    if arr.ndim < 2:
                        raise SnncError(f"{path}: a recording has time last and at least "
                                        f"2 axes, got shape {arr.shape}")
                    found.append(Recorded(node, var, name,
                                          _oriented(arr, tuple(n.out_shape), path)))
                    break
    if not found:
        raise SnncError(f"--compare-gt {d}: no recorded layer of this model there (looked for "
                        "<layer>.s|u|v.npy and, for netx files, lava-dl's input, conv-<i>, "
                        "fc-<i> names)")
    return found


def probes_of(recorded: list[Recorded]) -> tuple[str, ...]:
    return tuple(r.probe for r in recorded)


def _equal(got: np.ndarray, want: np.ndarray, var: str) -> bool:
    if var == "s" and want.dtype == bool:
        return bool(np.array_equal(got != 0, want))
    return bool(np.array_equal(got, want.astype(got.dtype, copy=False)))


def compare(recorded: list[Recorded], probes: dict[str, np.ndarray]) -> list[dict[str, Any]]:
    """Per recorded variable: steps compared, steps equal, first differing step (or None).

    ``probes``: a run's probes, (T, B, *shape); sample 0 is compared."""
    rows = []
    for r in recorded:
        got = np.asarray(probes[r.probe])[:, 0]
        steps = min(len(got), len(r.data))
        same = [_equal(got[t], r.data[t], r.var) for t in range(steps)]
        rows.append({"layer": r.node, "var": r.var, "file": r.file, "steps": steps,
                     "equal": int(sum(same)),
                     "first_mismatch": next((t for t, ok in enumerate(same) if not ok), None)})
    return rows
