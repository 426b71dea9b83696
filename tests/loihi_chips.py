"""Small user chips (TOML text) for tests that need many cores and chips from small networks."""

from __future__ import annotations

from pathlib import Path

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
