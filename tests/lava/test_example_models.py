"""The shipped example models, compiled by snnc, run identically in Lava and in loihi-sim.

The user's workflow across the two environments: ``snnc compile`` in the main environment (the
models are PyTorch files; the Lava environment has no torch), then ``snnc simulate`` of the
compile output with ``--backend lava`` and ``--backend loihi-sim`` in the Lava environment. Output
spikes and every layer's u and v must be identical at every step.

The main environment's Python is ``$SNNC_MAIN_PYTHON`` or ``.venv/bin/python`` (``make test``
builds both environments); without it the test is skipped.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

REPO = Path(__file__).resolve().parents[2]
MODELS = REPO / "examples" / "models"
SAMPLES = 4  # of X.npy's 16: Lava runs every sample as its own network

pytestmark = pytest.mark.lava


def main_python() -> Path:
    path = Path(os.environ.get("SNNC_MAIN_PYTHON") or REPO / ".venv" / "bin" / "python")
    if not path.exists():
        pytest.skip(f"no main-environment Python at {path} to compile the PyTorch example "
                    f"models (run `make setup-main` or set SNNC_MAIN_PYTHON)")
    return path


def compile_model(model: Path, out: Path, chip: str | None = None) -> None:
    cmd = [str(main_python()), "-m", "snnc", "compile", str(model), "-o", str(out), "-q",
           *(["--chip", chip] if chip else [])]
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{' '.join(cmd)} failed:\n{done.stdout}\n{done.stderr}"


def simulate(out: Path, x_path: Path, backend: str, probes: list[str], dest: Path) -> dict:
    from snnc.cli import cli

    args = ["simulate", str(out), "-i", str(x_path), "-b", backend, "-o", str(dest), "-q"]
    for p in probes:
        args += ["-p", p]
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 0, f"snnc {' '.join(args)}: {res.output}"
    with np.load(dest) as data:
        return {k: data[k] for k in data.files}


@pytest.mark.parametrize("chip", [None, "loihi1"])  # None: the default chip, Loihi 2
@pytest.mark.parametrize("name", sorted(p.stem for p in MODELS.glob("*.pt")))
def test_compiled_example_runs_the_same_in_lava_and_loihi_sim(name: str, chip: str | None,
                                                              tmp_path: Path) -> None:
    from snnc.backends.loihi.program import ChipProgram
    from snnc.backends.loihi.program_io import program_file

    out = tmp_path / "out"
    compile_model(MODELS / f"{name}.pt", out, chip)
    program = ChipProgram.load(program_file(out))
    assert program.chip.name == (chip or "loihi2")
    graph = program.graph
    probes = [f"{n}.{v}" for n, node in graph.nodes.items() if node.op == "loihi.lif"
              for v in ("u", "v")]
    x_path = tmp_path / "X.npy"
    np.save(x_path, np.load(MODELS / "X.npy")[:SAMPLES])
    lava = simulate(out, x_path, "lava", probes, tmp_path / "lava.npz")
    sim = simulate(out, x_path, "loihi-sim", probes, tmp_path / "sim.npz")
    assert set(lava) == set(sim)
    assert lava["output"].any(), "the example produced no output spikes: a vacuous comparison"
    for key in sim:
        np.testing.assert_array_equal(lava[key], sim[key], err_msg=key)
