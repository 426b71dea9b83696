"""Programmable neuron updates (Loihi 2 microcode) have their own line in the report, by hand.

The tiny two-layer program of test_energy.py (lif1: 3 neurons on cores 0-1 whose bias keeps
them active every step; lif2: 2 neurons on core 2), with lif1 made programmable (subtract
reset, or the ``>=`` comparator). Energy model: a user TOML with distinct active and inactive
neuron costs, so the hand count says which of the two the line charges.
"""

from __future__ import annotations

import json
from html import escape

import numpy as np
import pytest
from loihi_chips import tiny_program

from snnc.backends.report import build_report
from snnc.backends.report.html import render_html
from snnc.backends.report.schema import dumps
from snnc.backends.report.terminal import render_terminal
from snnc.simulators.event import simulate

X = np.array([[1, 0], [0, 1], [1, 1], [0, 0], [1, 0]])  # (T, inputs)
T = len(X)
E = {"syn_op_dense": 2.0, "syn_op_sparse": 2.0, "syn_op_conv": 2.0, "neuron_active": 4.0,
     "neuron_inactive": 1.0, "spike_out": 8.0, "axon_out": 16.0, "axon_in": 4.0,
     "hop_ew": 32.0, "hop_ns": 64.0, "chip_hop": 128.0}


def _model_file(tmp_path):
    path = tmp_path / "hand.toml"
    rows = "\n".join(f"{k} = {v}" for k, v in E.items())
    path.write_text("\n".join([
        'name = "hand"', 'source = "test"', 'costs = "table"', "[energy_pj]", rows,
        "[time_ns]", "\n".join(f"{k} = 1.0" for k in E), "[barrier_ns]", "tiles = [1, 32]",
        "ns = [100.0, 100.0]", ""]))
    return str(path)


def _report(tmp_path, **lif1):
    prog = tiny_program(tmp_path, **lif1)
    res = simulate(prog, X[:, None, :], probes=["lif1.s", "lif2.s"])
    assert res.probes["lif1.s"].all()  # bias 1 > vth 0: every lif1 neuron spikes every step
    doc = build_report(prog, res, energy_model=_model_file(tmp_path), input_kind="user")
    return json.loads(dumps(doc)), res


@pytest.mark.parametrize(("lif1", "feature"), [({"reset": "subtract"}, "subtract reset"),
                                               ({"comparator": ">="}, "comparator >=")])
def test_programmable_updates_priced_by_hand(tmp_path, lif1, feature) -> None:
    doc, res = _report(tmp_path, **lif1)
    prog = doc["energy"]["programmable"]
    # lif1's 3 neurons are active every step (non-zero bias): 3 x T active updates, 4 pJ each
    active = np.asarray(res.counters.neurons_active)[:, :2].sum()
    assert active == 3 * T
    assert prog["updates"] == 3 * T
    assert prog["joules"] == pytest.approx(3 * T * 4.0 * 1e-12)
    assert prog["priced_as"] == "standard neuron update"
    assert "no per-update energy" in prog["basis"]
    assert [r["layer"] for r in prog["layers"]] == ["lif1"]
    assert prog["layers"][0]["features"] == [feature]
    rows = {r["name"]: r for r in doc["layers"]}
    assert rows["lif1"]["programmable"] == [feature]
    assert rows["lif1"]["programmable_energy"] == pytest.approx(prog["joules"])
    assert rows["lif2"]["programmable"] == []
    assert rows["lif2"]["programmable_energy"] == 0.0
    # the line is part of the cores' dynamic energy, not added to it
    assert prog["joules"] < rows["lif1"]["energy"] <= doc["energy"]["cores_dynamic"]
    assert sum(r["energy"] for r in doc["layers"]) == pytest.approx(
        doc["energy"]["cores_dynamic"] - doc["energy"]["by_layer"].get("(host input)", 0.0))
    note = [n for n in doc["notes"] if n.startswith("programmable neuron updates")]
    assert len(note) == 1
    assert f"lif1 ({feature})" in note[0]
    assert "standard" in note[0]
    html = render_html(doc)
    assert "of which programmable neuron updates" in html
    assert escape(feature) in html
    from rich.console import Console

    con = Console(width=200, record=True)
    con.print(render_terminal(doc))
    text = con.export_text()
    assert "of which programmable" in text
    assert "neuron updates (Loihi 2 microcode)" in text
    assert "lif1 (programmable)" in text


def test_no_programmable_neuron_means_a_zero_line(tmp_path) -> None:
    doc, _ = _report(tmp_path)
    prog = doc["energy"]["programmable"]
    assert prog["updates"] == 0
    assert prog["joules"] == 0.0
    assert prog["layers"] == []
    assert all(r["programmable"] == [] and r["programmable_energy"] == 0.0
               for r in doc["layers"])
    assert not any(n.startswith("programmable neuron updates") for n in doc["notes"])
    assert "programmable neuron updates" not in render_html(doc)
