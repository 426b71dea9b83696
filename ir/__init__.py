"""snnc's intermediate representation: NIR-based op set with explicit discrete-time semantics.

Import as ``snnc.ir`` (never as a top-level ``ir``).
"""

from .activations import QCFS, Clip, Floor, ReLU, Round, Shift
from .axis_sum import AxisSum
from .broadcast import Broadcast
from .graph import Edge, Graph, GraphEditor, Schedule, Subgraph, flatten_subgraphs
from .loihi_ops import LoihiConv, LoihiDense, LoihiLIF
from .loihi_sdn import LoihiDelta, LoihiSigma, LoihiSigmaDelta
from .neurons import IF, LI, LIF, CubaLI, CubaLIF, I, NeuronBase
from .node import Node, as_float, op_class, register, registered_ops
from .ops import (
    Add,
    Affine,
    AvgPool2d,
    BatchNorm,
    Conv1d,
    Conv2d,
    Delay,
    Flatten,
    Input,
    Linear,
    MaxPool2d,
    Or,
    Output,
    Reshape,
    Scale,
    SumPool2d,
    Threshold,
)
from .permute import Permute
from .plastic_ops import LoihiPlasticDense
from .qtensor import CodebookTensor, QTensor, is_qweight, weight_shape
from .spike_product import Mul


# the text form (its parser compiles regular expressions) is imported on first use: programs
# and graphs loaded from HDF5 never need it
def __getattr__(name: str):
    if name in ("parse_graph", "print_graph"):
        from . import text

        return getattr(text, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "IF",
    "LI",
    "LIF",
    "QCFS",
    "Add",
    "Affine",
    "AvgPool2d",
    "AxisSum",
    "BatchNorm",
    "Broadcast",
    "Clip",
    "CodebookTensor",
    "Conv1d",
    "Conv2d",
    "CubaLI",
    "CubaLIF",
    "Delay",
    "Edge",
    "Flatten",
    "Floor",
    "Graph",
    "GraphEditor",
    "I",
    "Input",
    "Linear",
    "LoihiConv",
    "LoihiDelta",
    "LoihiDense",
    "LoihiLIF",
    "LoihiPlasticDense",
    "LoihiSigma",
    "LoihiSigmaDelta",
    "MaxPool2d",
    "Mul",
    "NeuronBase",
    "Node",
    "Or",
    "Output",
    "Permute",
    "QTensor",
    "ReLU",
    "Reshape",
    "Round",
    "Scale",
    "Schedule",
    "Shift",
    "Subgraph",
    "SumPool2d",
    "Threshold",
    "as_float",
    "flatten_subgraphs",
    "is_qweight",
    "op_class",
    "parse_graph",
    "print_graph",
    "register",
    "registered_ops",
    "weight_shape",
]
