"""ANN-to-SNN conversion: a float ANN graph (relu / clip / qcfs activations) becomes an SNN of
integrate-and-fire neurons with subtract reset (``rewrite``), with thresholds from calibration
data or from the model (``calibrate``), and is evaluated against the ANN over time steps
(``runtime``, ``table``). The result is an ordinary ``ir.Graph``; ``snnc compile`` takes it on.

    from snnc.convert import convert
    conv = convert(ann_graph, x_calib, mode="99.9%", opi=True)
    conv.snn            # ir.Graph, float SNN
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import SnncError
from ..ir import Graph
from .calibrate import activation_nodes, parse_mode, thresholds
from .rewrite import Layer, plan, to_snn

__all__ = ["Conversion", "convert", "refuse_ann"]


def refuse_ann(graph: Graph) -> None:
    """``UnsupportedOpError`` if ``graph`` still has ANN activations (compile needs an SNN).

    ``qcfs`` is not refused: per time step it is a multi-level integer spike (QSD-Transformer
    style), which ``lower-spike-products`` lowers exactly to one binary neuron per level."""
    from ..errors import UnsupportedOpError
    from ..ir.activations import ANN_OPS

    found = [f"{n} ({v.op})" for n, v in graph.nodes.items()
             if v.op in ANN_OPS and v.op != "qcfs"]
    if found:
        raise UnsupportedOpError(
            f"the model is an ANN: {', '.join(found[:4])}{' ...' if len(found) > 4 else ''} "
            "have no spiking equivalent on a chip. Convert it first: snnc convert MODEL --data "
            "D.npz -o OUT (ReLU/clamp/QCFS become integrate-and-fire neurons), then snnc "
            "compile OUT/snn.snnc")


@dataclass(frozen=True)
class Conversion:
    ann: Graph
    snn: Graph
    layers: tuple[Layer, ...]
    mode: str | float
    opi: bool

    def summary(self) -> dict[str, Any]:
        return {"mode": self.mode, "opi": self.opi,
                "layers": [{"name": lay.name, "op": lay.op,
                            "threshold": lay.threshold.tolist(),
                            "spike_value": lay.out.tolist(),
                            "v_init": lay.v_init.tolist()} for lay in self.layers]}


def convert(ann: Graph, x: np.ndarray | None = None, mode: Any = "max", opi: bool = False,
            batch_size: int | None = None, maxpool: str = "refuse") -> Conversion:
    """Convert the float ANN ``ann``; ``x`` (N, *input shape) is the calibration data."""
    if any(n.stateful for n in ann.nodes.values()):
        raise SnncError("the model already has neurons or other stateful ops: it is an SNN, "
                        "not an ANN to convert; compile it directly")
    if not activation_nodes(ann):
        raise SnncError("the model has no ReLU, clamp or QCFS activation to convert")
    if maxpool not in ("refuse", "spike"):
        raise SnncError(f"--maxpool must be 'refuse' or 'spike', not {maxpool!r}")
    m = parse_mode(mode)
    th = thresholds(ann, None if x is None else np.asarray(x, np.float64), m, batch_size)
    layers = plan(ann, th, opi)
    snn = to_snn(ann, layers, maxpool)
    return Conversion(ann, snn, tuple(layers), m, opi)
