"""Chip specs: built-in TOML data, user chips inheriting from a base, clear format errors."""

from __future__ import annotations

import pytest

from snnc.backends.loihi.chips import EVENTS, ChipSpec, builtin_chips, load_chip
from snnc.errors import FormatError


def test_builtin_chips_carry_the_reference_numbers() -> None:
    assert {"loihi1", "loihi2"} <= set(builtin_chips())
    l1, l2 = load_chip("loihi1"), load_chip("loihi2")
    assert (l1.mesh.cores_per_chip, l1.core.neurons, l1.core.input_axons) == (128, 1024, 4096)
    assert l1.core.synapse_memory_bits == 128 * 1024 * 8
    assert l1.costs.energy_pj["syn_op_dense"] == 35.5
    assert l1.costs.time_ns["hop_ns"] == 6.5
    assert l1.neuron.max_message_bits == 0
    assert l2.neuron.max_message_bits == 24
    assert l2.core.neurons == 8192
    assert l2.mesh.chip_links == 6
    assert "ESTIMATE" in l2.costs.source
    assert "syn_op_dense" in l2.costs.estimated
    assert set(EVENTS) <= set(l2.costs.energy_pj)


def test_barrier_interpolates_over_tiles_and_adds_chips() -> None:
    c = load_chip("loihi1").costs  # SANA-FE's sync table: 0.6 / 1.0 / 1.4 / 1.8 us
    assert c.barrier(1) == 600.0
    assert c.barrier(3) == 1200.0  # halfway between 2 and 4 tiles
    assert c.barrier(29) == c.barrier(32) == c.barrier(100) == 1800.0
    assert c.barrier(16) == pytest.approx(1400.0 + 400.0 * 12 / 25)
    assert c.barrier(32, chips=3) == 1800.0 + 2 * c.time_ns["barrier_per_chip"]


def test_spec_round_trips_through_plain_data() -> None:
    spec = load_chip("loihi2")
    assert ChipSpec.from_dict(spec.to_dict()) == spec
    l1 = load_chip("loihi1")
    assert l1.costs.core_overlap
    assert not spec.costs.core_overlap
    assert ChipSpec.from_dict(l1.to_dict()) == l1


def test_core_overlap_must_be_a_boolean(tmp_path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text('base = "loihi1"\nname = "bad"\n[costs]\ncore_overlap = "yes"\n')
    with pytest.raises(FormatError, match="core_overlap"):
        load_chip(path)


def test_user_chip_inherits_from_base(tmp_path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text('base = "loihi2"\nname = "mine"\n[core]\nneurons = 100\n'
                    '[costs.energy_pj]\nsyn_op_dense = 1.5\n')
    spec = load_chip(path)
    assert spec.name == "mine"
    assert spec.core.neurons == 100
    assert spec.core.shared_memory_bits == load_chip("loihi2").core.shared_memory_bits
    assert spec.costs.energy_pj["syn_op_dense"] == 1.5
    assert spec.costs.energy_pj["hop_ew"] == 3.0


@pytest.mark.parametrize(("text", "match"), [
    ('name = "x"\n', r"missing table \[mesh\]"),
    ('base = "loihi1"\n[core]\nneurons = -3\n', "core.neurons must be an integer in 1..1048576"),
    ('base = "loihi1"\n[core]\nneurons = "many"\n', "core.neurons"),
    ('base = "loihi1"\n[costs.barrier_ns]\ntiles = [4, 1]\n', "increasing"),
    ("not toml = = 3", "not valid TOML"),
])
def test_bad_chip_files_name_the_field(tmp_path, text, match) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(FormatError, match=match):
        load_chip(path)


def test_unknown_chip_name_lists_the_builtins() -> None:
    with pytest.raises(FormatError, match="loihi1, loihi2"):
        load_chip("loihi9")
