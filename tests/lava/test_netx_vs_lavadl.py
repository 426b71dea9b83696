"""snnc's netx reader against lava-dl's own ``netx.hdf5.Network``, run in Lava.

Random ``.net`` files (laid out as slayer writes them, tests/frontend/test_netx.py) with
``dense_rec`` blocks (netx's RecurrentDense: weight and weight_rec quantized together, the
recurrent synapse one step late), LOIHI neurons with random decays, thresholds, biases and
delays, and a dense readout, are read by lava-dl 0.6.0's netx (loaded from the fetched wheel,
as tests/frontend/test_netx.py loads its utils) and run in Lava's fixed_pt models; the same file
goes through ``read_netx`` and ``simulators.reference``. The output spikes must be identical.

lava-dl's netx package imports torch in its ``__init__`` and ``sequential_modules.py``, and
``hdf5.py`` imports slayer's RF parameter helper; none is used for these files, so only
``hdf5.py``, ``utils.py`` and ``blocks/`` are extracted, the package is made without its
``__init__``, and the RF helper is a module that raises if called. A failure prints the seed;
rerun with ``SNNC_DIFF_SEED=<seed>``.
"""

from __future__ import annotations

import importlib
import os
import secrets
import sys
import types
import zipfile
from pathlib import Path

import numpy as np
import pytest

from snnc.frontend.netx import read_netx
from snnc.simulators.reference import simulate
from tests.frontend.test_netx import write_net

pytestmark = pytest.mark.lava

SEED = int(os.environ.get("SNNC_DIFF_SEED") or secrets.randbelow(2**31))
NETS, STEPS = 12, 24


def _netx_hdf5(assets: Path, tmp: Path):
    wheel = assets.parent / "lava_dl-0.6.0-py3-none-any.whl"
    if not wheel.is_file():
        pytest.skip(f"lava-dl wheel not in {wheel.parent}")
    if "lava.lib.dl.netx.hdf5" in sys.modules:
        return sys.modules["lava.lib.dl.netx.hdf5"]
    dest = tmp / "lavadl"
    with zipfile.ZipFile(wheel) as z:
        # not the package __init__ nor sequential_modules.py (torch): Lava's compiler imports
        # every module beside a process's own to find its models
        skip = ("__init__.py", "sequential_modules.py")
        names = [n for n in z.namelist() if n.startswith("lava/lib/dl/netx/blocks/")
                 or (n.startswith("lava/lib/dl/netx/") and n.rsplit("/", 1)[1] not in skip)]
        z.extractall(dest, names)
    sys.path.insert(0, str(dest))

    def rf_params(*args, **kwargs):
        raise RuntimeError("RF neurons are not part of this test")

    for name in ("lava.lib.dl.slayer", "lava.lib.dl.slayer.neuron"):
        sys.modules.setdefault(name, types.ModuleType(name))
    rf = types.ModuleType("lava.lib.dl.slayer.neuron.rf")
    rf.neuron_params = rf_params
    sys.modules["lava.lib.dl.slayer.neuron.rf"] = rf
    pkg = types.ModuleType("lava.lib.dl.netx")
    pkg.__path__ = [str(dest / "lava/lib/dl/netx")]
    sys.modules["lava.lib.dl.netx"] = pkg
    return importlib.import_module("lava.lib.dl.netx.hdf5")


def _neuron(rng: np.random.Generator, top: int = 200) -> dict:
    return {"type": "LOIHI", "iDecay": int(rng.choice([0, 512, 2048, 4096])),
            "vDecay": int(rng.choice([0, 128, 1024, 4096])),
            "vThMant": int(rng.integers(1, top)), "refDelay": 1}


def _even(rng: np.random.Generator, shape: tuple[int, ...], top: int) -> np.ndarray:
    w = 2 * rng.integers(-top // 2, top // 2 + 1, size=shape)
    w[rng.random(shape) < 0.3] = 0
    return w.astype(np.float32)


def random_rec_file(rng: np.random.Generator, path: Path) -> Path:
    """input (n_in) -> dense_rec (n) [-> dense_rec or dense (m)] -> dense readout."""
    n_in = int(rng.integers(2, 10))
    layers: list[dict] = [{"type": "input", "shape": np.array([n_in])}]
    prev = n_in
    for _ in range(int(rng.integers(1, 3))):
        n = int(rng.integers(2, 10))
        top = int(rng.choice([16, 64, 254]))
        layer = {"type": "dense_rec", "shape": np.array([n]), "weight": _even(rng, (n, prev), top),
                 "weight_rec": _even(rng, (n, n), top), "neuron": _neuron(rng)}
        if rng.random() < 0.4:
            layer["bias"] = rng.integers(-20, 40, size=n).astype(np.float32)
        if rng.random() < 0.3 and n == prev:  # netx reuses the delay matrix for weight_rec
            layer["delay"] = rng.integers(0, 4, size=(n, prev)).astype(np.float32)
        layers.append(layer)
        prev = n
    m = int(rng.integers(1, 6))
    layers.append({"type": "dense", "shape": np.array([m]), "weight": _even(rng, (m, prev), 254),
                   "neuron": _neuron(rng, 24)})
    return write_net(path, layers)


def _run_lavadl(hdf5, path: Path, x: np.ndarray) -> np.ndarray:
    """netx's Network on x (T, n_in) spikes; its output spikes (T, n_out)."""
    from lava.magma.core.run_conditions import RunSteps
    from lava.magma.core.run_configs import Loihi1SimCfg
    from lava.proc.io.sink import RingBuffer as Sink
    from lava.proc.io.source import RingBuffer as Source

    net = hdf5.Network(net_config=str(path))
    src = Source(data=np.ascontiguousarray(x.T.astype(np.int32)))
    sink = Sink(shape=net.out.shape, buffer=x.shape[0])
    src.s_out.connect(net.inp)
    net.out.connect(sink.a_in)
    try:
        net.run(condition=RunSteps(num_steps=x.shape[0]),
                run_cfg=Loihi1SimCfg(select_tag="fixed_pt"))
        out = sink.data.get()
    finally:
        net.stop()
    return np.asarray(out).T.astype(np.int64)


def test_dense_rec_matches_lavadl_netx(tmp_path, lavadl_assets) -> None:
    hdf5 = _netx_hdf5(lavadl_assets, tmp_path)
    rng = np.random.default_rng(SEED)
    failures, spiking, looped = [], 0, 0
    for i in range(NETS):
        path = random_rec_file(rng, tmp_path / f"rec{i}.net")
        g = read_netx(path)
        n_in = g.nodes["input"].shape[0]
        x = (rng.random((STEPS, n_in)) < rng.choice([0.2, 0.5, 0.9])).astype(np.int64)
        want = _run_lavadl(hdf5, path, x)
        res = simulate(g, x[:, None], STEPS, probes=[f"{n}.s" for n in g.nodes
                                                     if n.endswith("_rec")])
        got = res.outputs["output"][:, 0]
        if not np.array_equal(got, want):
            t = int(np.flatnonzero((got != want).any(1))[0])
            failures.append(f"net {i} step {t}: snnc {got[t]}, lava-dl {want[t]}")
        spiking += int(want.any())
        looped += int(any(a.any() for a in res.probes.values()))
    where = f"SNNC_DIFF_SEED={SEED}"
    assert not failures, f"{len(failures)} of {NETS} differ ({where}):\n" + "\n".join(failures)
    assert spiking >= NETS // 3, f"too few networks spike ({where})"
    assert looped >= NETS // 3, f"too few recurrent synapses carry current ({where})"
