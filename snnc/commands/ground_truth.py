"""``snnc simulate ... --compare-gt DIR [--compare-json F.json]``: per layer, how many steps of a
recording (lava-dl's Loihi 2 ``gts/``, or arrays named by probe) each fidelity mode reproduces.

The run behind ``-o`` is the one ``--fidelity`` asks for; the comparison runs the model in both
modes (``fixed_pt``: Lava's CPU semantics; ``silicon``: simulators/silicon.py) on the same input
and steps, probing every recorded layer, and compares sample 0 with the recording
(simulators/recording.py). The terminal gets a table, ``--compare-json`` the same document::

    {"recording": DIR, "backend": B, "modes": ["fixed_pt", "silicon"],
     "layers": [{"layer": "layer1", "var": "u", "file": "conv-0-u.npy", "steps": 24,
                 "equal": {"fixed_pt": 18, "silicon": 24},
                 "first_mismatch": {"fixed_pt": 18, "silicon": null}}, ...]}
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from ..io import atomic_path, check_output_file
from ..simulators import recording, silicon
from ..simulators.silicon import FIDELITIES


def ground_truth_report(sim: Any, subject: Any, x: Any, steps: int | None,
                        reset_interval: int, directory: Path) -> dict[str, Any]:
    """Run ``subject`` (prepared for ``sim``, fixed_pt) in both modes and compare."""
    graph = getattr(subject, "graph", subject)
    recorded = recording.read_recording(directory, graph)
    probes = recording.probes_of(recorded)
    per_mode: dict[str, list[dict[str, Any]]] = {}
    for mode in FIDELITIES:
        run, want = subject, probes
        if mode == "silicon":
            run = silicon.silicon_subject(subject)
            want = silicon.probes_needed(getattr(run, "graph", run), probes)
        res = sim.run(run, x, steps, want, reset_interval=reset_interval, progress=False,
                      lava_hw=False)
        if mode == "silicon":
            res = silicon.silicon_readout(getattr(run, "graph", run), res, probes)
        per_mode[mode] = recording.compare(recorded, res.probes)
    layers = []
    for i, row in enumerate(per_mode[FIDELITIES[0]]):
        layers.append({**{k: row[k] for k in ("layer", "var", "file", "steps")},
                       "equal": {m: per_mode[m][i]["equal"] for m in FIDELITIES},
                       "first_mismatch": {m: per_mode[m][i]["first_mismatch"]
                                          for m in FIDELITIES}})
    return {"recording": str(directory), "backend": sim.name,
            "modes": list(FIDELITIES), "layers": layers}


def ground_truth_lines(report: dict[str, Any]) -> list[str]:
    """The terminal table: one row per layer, ``equal/compared`` per variable and mode."""
    modes = report["modes"]
    rows: dict[str, dict[str, Any]] = {}
    for r in report["layers"]:
        rows.setdefault(r["layer"], {"files": [], "cells": {}})
        rows[r["layer"]]["files"].append(r["file"])
        rows[r["layer"]]["cells"][r["var"]] = r
    head = "  ".join(f"{m + ' ' + v:>13}" for m in modes for v in recording.VARS)
    lines = [f"ground truth {report['recording']}: steps equal at every neuron, per mode",
             f"  {'layer':<10} {'recording':<12} {head}"]
    for layer, row in rows.items():
        stem = Path(row["files"][0]).stem.removesuffix("-s").removesuffix("-u") \
            .removesuffix("-v")
        cells = []
        for m in modes:
            for v in recording.VARS:
                c = row["cells"].get(v)
                text = "-" if c is None else f"{c['equal'][m]}/{c['steps']}"
                cells.append(f"{text:>13}")
        lines.append(f"  {layer:<10} {stem:<12} " + "  ".join(cells))
    return lines


def _ours(path: Path) -> bool:
    from ..readers import read_json

    doc = read_json(path, "ground-truth comparison")
    return "recording" in doc and "modes" in doc


def check_json(path: Path | None) -> None:
    if path is not None:
        check_output_file(path, _ours)


def write_json(path: Path, report: dict[str, Any]) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(report, indent=1) + "\n")


def emit(report: dict[str, Any], json_path: Path | None, quiet: bool) -> None:
    if json_path is not None:
        write_json(json_path, report)
    if not quiet or json_path is None:  # the table is what --compare-gt asks for
        click.echo("\n".join(ground_truth_lines(report)))
