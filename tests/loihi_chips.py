"""Small user chips (TOML text) for tests that need many cores and chips from small networks."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from snnc.backends.loihi.chips import ChipSpec, load_chip

TINY = """
base = "loihi1"
name = "tiny"
[mesh]
cores_per_chip = 4
cores_per_tile = 2
tiles_x = 2
tiles_y = 1
[core]
neurons = {neurons}
input_axons = {axons}
output_axons = {out_edges}
synapse_memory_bits = {bits}
[neuron]
max_message_bits = 24
programmable = true
programmable_state_bits = 1
"""


def tiny_chip(tmp_path: Path, neurons: int = 7, axons: int = 4096, out_edges: int = 4096,
              bits: int = 1 << 20) -> ChipSpec:
    """A chip of 4 cores (2 tiles) with ``neurons`` per core, graded spikes and Loihi 2's
    programmable neurons allowed."""
    path = tmp_path / f"tiny_{neurons}_{axons}_{out_edges}_{bits}.toml"
    path.write_text(TINY.format(neurons=neurons, axons=axons, out_edges=out_edges, bits=bits))
    return load_chip(path)


#: the two-layer tiny program of the energy tests: input 0 -> lif1 neurons 0, 1; input 1 -> 1, 2;
#: lif1 neuron 1 has no synapse to lif2, so it sends no message
TINY_W1 = np.array([[1, 0], [2, 3], [0, 1]])
TINY_W2 = np.array([[1, 0, 2], [0, 0, 3]])


def tiny_program(tmp_path, **lif1):
    """Map the tiny program onto a chip of 2 neurons per core: lif1 on two cores, lif2 on one
    (the compact mapping: the hand sums of the energy tests assume this layout). ``lif1``:
    extra fields of lif1's ``LoihiLIF`` (e.g. ``reset="subtract"``, a programmable neuron)."""
    from snnc import ir
    from snnc.backends.loihi.mapper import map_graph

    lif = {"du": 4095, "dv": 4095}
    g = ir.Graph.chain(
        ("x", ir.Input(shape=(2,))), ("d1", ir.LoihiDense(weight=TINY_W1)),
        ("lif1", ir.LoihiLIF(shape=(3,), vth=0, bias_mant=1, **lif, **lif1)),
        ("d2", ir.LoihiDense(weight=TINY_W2)),
        ("lif2", ir.LoihiLIF(shape=(2,), vth=100000, **lif)), ("y", ir.Output(shape=(2,))))
    prog = map_graph(g, tiny_chip(tmp_path, neurons=2), strategy="compact")  # the layout above
    assert [c.layer for c in prog.cores] == ["lif1", "lif1", "lif2"]
    return prog
