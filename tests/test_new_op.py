"""Adding an op touches its own file, its kernel and (if it lowers differently) its lowering.

A toy spiking neuron is defined here the way a new op would be written in ``ir/neurons.py``:
a class that declares what it is (here by deriving from a neuron base, which gives it the
``NEURON`` and ``SPIKING`` traits) and a kernel registered for it. Nothing in ``snnc/passes``,
the lowering, the mapper or the simulators is edited, and the whole Loihi pipeline treats it
exactly as it treats ``lif``: folds, quantization, lowering and mapping give the same program,
and the event simulator the same spikes.
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from snnc import api, ir
from snnc.ir import node as ir_node
from snnc.ir.traits import Trait, has, ops_with
from snnc.passes.graphutil import is_spiking
from snnc.simulators import kernels, reference

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def toy_lif():
    """The op class and its kernel, registered for the test only."""

    @ir.register("toy.lif")
    @dataclasses.dataclass(frozen=True, eq=False, kw_only=True)
    class ToyLIF(ir.LIF):
        """A new spiking neuron (same update as lif, so it shares the float kernel)."""

    kernels.kernel("toy.lif")(kernels.KERNELS["lif"])
    yield ToyLIF
    del ir_node._REGISTRY["toy.lif"]
    del kernels.KERNELS["toy.lif"]


def _graph(neuron: type) -> ir.Graph:
    rng = np.random.default_rng(5)
    lif = {"decay_v": np.array(0.75), "threshold": np.array(1.0)}
    return ir.Graph.chain(
        ("x", ir.Input(shape=(6,))),
        ("fc1", ir.Linear(weight=rng.integers(-4, 9, (8, 6)) / 8.0)),
        ("s", ir.Scale(shape=(8,), scale=np.array(0.5))),
        ("n1", neuron(shape=(8,), **lif)),
        ("fc2", ir.Linear(weight=rng.integers(-4, 9, (3, 8)) / 8.0)),
        ("n2", neuron(shape=(3,), **lif)), ("y", ir.Output(shape=(3,))))


def test_traits_come_from_the_class(toy_lif) -> None:
    node = toy_lif(shape=(2,))
    assert has(node, Trait.NEURON, Trait.SPIKING, Trait.LEAKY)
    assert "toy.lif" in ops_with(Trait.NEURON, Trait.SPIKING)
    assert is_spiking(node)


def test_the_loihi_pipeline_treats_the_new_op_like_lif(toy_lif) -> None:
    x = (np.random.default_rng(1).random((10, 4, 6)) < 0.5).astype(np.float64)
    toy = api.compile(_graph(toy_lif), calibration=x, report_input=x)
    ref = api.compile(_graph(ir.LIF), calibration=x, report_input=x)
    assert toy.fidelity["layers"] == ref.fidelity["layers"]
    assert [n.op for n in toy.float_graph.nodes.values()].count("toy.lif") == 2
    assert "scale" not in {n.op for n in toy.float_graph.nodes.values()}  # folded into n1
    assert toy.lowered == ref.lowered  # the same loihi.* graph
    np.testing.assert_array_equal(toy.measurement.sim.output, ref.measurement.sim.output)
    np.testing.assert_array_equal(reference.simulate(_graph(toy_lif), x).output,
                                  reference.simulate(_graph(ir.LIF), x).output)


def test_kernels_are_registered_by_the_kernel_module_alone() -> None:
    """fold-affine (which runs kernels) works in a fresh process that never imported the
    reference simulator (it failed with 'no kernel for op conv2d ... supported: ')."""
    code = (
        "import numpy as np\n"
        "from snnc import ir\n"
        "from snnc.passes import PassContext, PassManager, parse_pipeline\n"
        "g = ir.Graph.chain(('x', ir.Input(shape=(1, 4, 4))),"
        " ('c', ir.Conv2d(input_shape=(1, 4, 4), weight=np.ones((2, 1, 3, 3)) / 4,"
        " bias=np.zeros(2), padding=(1, 1))), ('f', ir.Flatten(input_shape=(2, 4, 4))),"
        " ('fc', ir.Linear(weight=np.ones((3, 32)) / 8)), ('n', ir.LIF(shape=(3,))),"
        " ('y', ir.Output(shape=(3,))))\n"
        "out = PassManager(parse_pipeline('fold-affine')).run(g, PassContext()).graph\n"
        "import sys\n"
        "assert 'snnc.simulators.reference' not in sys.modules\n"
        "print(sorted(n.op for n in out.nodes.values()))\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, env={"PYTHONPATH": str(ROOT), "PATH": ""})
    assert proc.returncode == 0, proc.stderr
    assert "conv2d" not in proc.stdout
    assert "linear" in proc.stdout
