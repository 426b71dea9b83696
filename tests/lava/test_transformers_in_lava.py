"""Spiking transformers traced from PyTorch run in Lava itself as in loihi-sim: the README
example (trained in its quick mode), QSD-style blocks (multi-level spikes as unary neurons,
floor and round-half-even; Q(KᵀV) as ANDs) and a random SDT V1 block with snnTorch neurons,
compiled for Loihi 2 in the main environment (tests/spiking_transformer/save_programs.py; the
Lava environment has no torch), then run by Lava's ``fixed_pt`` models and by the event
simulator: the output and every neuron's s, u and v equal at every step."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

from tests.lava.compare import assert_lava_equals_event

pytestmark = pytest.mark.lava
REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "tests" / "spiking_transformer" / "save_programs.py"


def main_python() -> Path:
    path = Path(os.environ.get("SNNC_MAIN_PYTHON") or REPO / ".venv" / "bin" / "python")
    if not path.exists():
        pytest.skip(f"no main-environment Python at {path} to trace the PyTorch models")
    return path


@pytest.fixture(scope="module")
def programs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("transformers")
    done = subprocess.run([str(main_python()), str(SCRIPT), str(out)], cwd=REPO,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    return out


@pytest.mark.parametrize("name", ["example", "qsd", "qsd_round", "sdt"])
def test_traced_transformer_runs_identically_in_lava(programs: Path, name: str) -> None:
    from snnc.backends.loihi.program import ChipProgram

    low = ChipProgram.load(programs / name).graph
    stim = np.load(programs / name / "stim.npy")
    lava, lifs = assert_lava_equals_event(low, stim, len(stim))
    readout = low.metadata["loihi.readout"][low.outputs[0]]  # the scores, read as v
    scores = lava.probes[f"{readout['node']}.{readout['var']}"]
    assert np.unique(scores).size > 5, "constant scores: a vacuous comparison"
    ands = [n for n in lifs if n.endswith("_and")]
    assert len(ands) == 2
    for a in ands:  # the attention's coincidence neurons fire in Lava
        assert lava.probes[f"{a}.s"].any(), a
