"""The environments hold what snnc needs, and snnc is installed the way the design says.

Most tests run in the main environment; those marked ``lava`` run in the Lava environment.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SUBPACKAGES = ("ir", "backends", "simulators")
# Importing these must stay cheap: none may pull in an optional heavy dependency.
LIGHT_MODULES = ("snnc", "snnc.ir", "snnc.simulators", "snnc.backends", "snnc.cli", "snnc.api")
HEAVY = ("torch", "lava", "brian2")


def written(module: str) -> bool:
    """Whether ``module`` exists in the source tree yet (other parts are being written)."""
    path = REPO.joinpath(*module.split("."))
    return (path / "__init__.py").is_file() or path.with_suffix(".py").is_file()


def run_python(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], cwd=cwd, capture_output=True, text=True
    )


def test_importing_snnc_does_not_import_heavy_dependencies(tmp_path: Path) -> None:
    modules = [m for m in LIGHT_MODULES if written(m)]
    out = run_python(
        f"""
        import importlib, sys
        for name in {modules!r}:
            importlib.import_module(name)
        heavy = sorted(m for m in sys.modules if m.split(".")[0] in {HEAVY!r})
        assert not heavy, f"importing {modules} imported {{heavy[:5]}}"
        """,
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stderr


@pytest.mark.parametrize("name", SUBPACKAGES)
def test_subpackage_resolves_to_top_level_folder(name: str) -> None:
    import importlib

    module = importlib.import_module(f"snnc.{name}")
    assert module.__file__ is not None
    assert Path(module.__file__).resolve().parent == REPO / name


def test_top_level_folders_are_not_import_names(tmp_path: Path) -> None:
    out = run_python(
        f"""
        import importlib.util
        for name in {SUBPACKAGES!r}:
            spec = importlib.util.find_spec(name)
            where = [str(p) for p in (spec.submodule_search_locations or [])] if spec else []
            assert not any(p.startswith({str(REPO)!r}) for p in where), (name, where)
        """,
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stderr


def source_files(root: Path) -> list[str]:
    """Modules, chip specs and data files under root/snnc (symlinks followed), as wheel paths."""
    found = []
    for folder, dirs, files in os.walk(root / "snnc", followlinks=True):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        rel = Path(folder).relative_to(root)
        data = rel == Path("snnc/data")
        chips = rel == Path("snnc/backends/loihi/chips")
        found += [
            (rel / f).as_posix()
            for f in files
            if f.endswith(".py") or data or (chips and f.endswith(".toml"))
        ]
    return sorted(found)


def test_wheel_contains_symlinked_subpackages(tmp_path: Path) -> None:
    pytest.importorskip("setuptools", minversion="70.1")  # builds wheels without `wheel`
    src = tmp_path / "src"
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info")
    for name in ("snnc", *SUBPACKAGES):
        shutil.copytree(REPO / name, src / name, symlinks=True, ignore=ignore)
    for name in ("pyproject.toml", "README.md"):
        if (REPO / name).is_file():
            shutil.copy(REPO / name, src / name)
    cmd = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q"]
    out = subprocess.run([*cmd, "-w", str(tmp_path), str(src)], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-3000:]
    (wheel,) = tmp_path.glob("snnc-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in SUBPACKAGES:
        assert f"snnc/{name}/__init__.py" in names
    missing = [f for f in source_files(src) if f not in names]
    assert not missing, f"not in the wheel: {missing}"


@pytest.mark.parametrize("env", ["main", pytest.param("lava", marks=pytest.mark.lava)])
def test_lavadl_assets_are_readable(env: str, lavadl_assets: Path) -> None:
    import h5py

    assert (lavadl_assets / "gts" / "tinynet").is_dir()
    with h5py.File(lavadl_assets / "tiny.net", "r") as f:
        assert "layer" in f


# --- main environment: the frameworks snnc converts from and compares against -------------


@pytest.mark.torch
def test_torch_is_the_cpu_build() -> None:
    import torch

    assert torch.__version__ == "2.13.0+cpu"
    assert torch.version.cuda is None


@pytest.mark.torch
@pytest.mark.requires("snntorch")
def test_snntorch_runs() -> None:
    import snntorch
    import torch

    lif = snntorch.Leaky(beta=0.5, threshold=1.0)
    mem = lif.reset_mem()
    spikes = []
    for _ in range(4):
        spk, mem = lif(torch.full((3,), 0.8), mem)
        spikes.append(spk)
    assert torch.stack(spikes).sum() > 0


@pytest.mark.torch
@pytest.mark.requires("norse")
def test_norse_runs() -> None:
    import norse.torch as norse
    import torch

    out, _state = norse.LIF()(torch.ones(10, 1, 3))
    assert out.shape == (10, 1, 3)
    assert out.sum() > 0


@pytest.mark.torch
@pytest.mark.requires("spikingjelly")
def test_spikingjelly_runs() -> None:
    import torch
    from spikingjelly.activation_based import functional, layer, neuron

    net = torch.nn.Sequential(layer.Linear(3, 2), neuron.LIFNode(step_mode="m"))
    functional.set_step_mode(net, "m")
    out = net(torch.ones(5, 1, 3))
    assert out.shape == (5, 1, 2)


@pytest.mark.torch
@pytest.mark.requires("neurobench", "nirtorch", "sklearn")
def test_neurobench_and_friends_import() -> None:
    import nirtorch  # noqa: F401
    import sklearn  # noqa: F401
    from neurobench.metrics.workload import SynapticOperations

    assert SynapticOperations is not None


@pytest.mark.brian2
def test_brian2_cython_target_runs(tmp_path: Path) -> None:
    import brian2 as b2

    b2.prefs.codegen.target = "cython"
    group = b2.NeuronGroup(2, "dv/dt = (2 - v) / (10*ms) : 1", threshold="v > 1", reset="v = 0")
    monitor = b2.SpikeMonitor(group)
    b2.Network(group, monitor).run(20 * b2.ms)
    assert monitor.num_spikes > 0


# --- Lava environment ---------------------------------------------------------------------


@pytest.mark.lava
def test_lava_env_has_numpy_below_2_and_no_torch() -> None:
    import importlib.util

    import numpy as np

    assert int(np.__version__.split(".")[0]) < 2
    assert importlib.util.find_spec("torch") is None


@pytest.mark.lava
def test_lava_lif_dense_runs_fixed_point() -> None:
    import numpy as np
    from lava.magma.core.run_conditions import RunSteps
    from lava.magma.core.run_configs import Loihi1SimCfg
    from lava.proc.dense.process import Dense
    from lava.proc.io.sink import RingBuffer as Sink
    from lava.proc.io.source import RingBuffer as Source
    from lava.proc.lif.process import LIF
    from lava.proc.monitor.process import Monitor

    steps = 8
    spikes_in = np.zeros((2, steps))
    spikes_in[0, ::2] = 1
    spikes_in[1, 1::3] = 1
    source = Source(data=spikes_in)
    dense = Dense(weights=np.array([[200, 100], [-50, 255]]))
    lif = LIF(shape=(2,), du=4095, dv=0, vth=1, bias_mant=0)
    sink = Sink(shape=(2,), buffer=steps)
    source.s_out.connect(dense.s_in)
    dense.a_out.connect(lif.a_in)
    lif.s_out.connect(sink.a_in)
    monitor = Monitor()
    monitor.probe(lif.v, steps)
    try:
        lif.run(condition=RunSteps(num_steps=steps), run_cfg=Loihi1SimCfg(select_tag="fixed_pt"))
        spikes_out = sink.data.get()
        v = monitor.get_data()[lif.name]["v"]
    finally:
        lif.stop()
    assert set(np.unique(spikes_out)) <= {0, 1}
    assert spikes_out[0].sum() > 0
    assert np.array_equal(v, np.round(v)), "fixed_pt voltages must be integers"
