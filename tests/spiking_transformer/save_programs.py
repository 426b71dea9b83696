"""Compile spiking transformers traced from PyTorch and save them for the Lava environment (which
has no torch): ``python save_programs.py DIR`` writes ``DIR/<name>/program.h5`` and
``DIR/<name>/stim.npy`` (the encoded input, steps padded by the program's latency) for

- ``example``: the README example (examples/spiking_transformer_digits.py) trained in its quick
  mode (2 epochs, 300 digits), traced and compiled for Loihi 2 as the example compiles it;
- ``qsd``, ``qsd_round``: QSD-style blocks (multi-level spikes, Q(KᵀV); qsd_models.py), with
  ``clamp(floor(x), 0, L)`` and with the papers' ``round(clamp(x, 0, D))`` spike;
- ``sdt``: a random Spike-driven Transformer V1 block with snnTorch neurons (sdt_random.py).

Run by tests/lava/test_transformers_in_lava.py through the main environment's Python.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path[:0] = [str(HERE.parent), str(REPO)]


def save(dest: Path, graph, x: np.ndarray, cal: np.ndarray) -> None:
    from snnc import api
    from snnc.passes.qinputs import encode_inputs

    res = api.compile(graph, "loihi-sim", chip="loihi2", calibration=cal)
    low = res.program.graph
    lat = max(low.metadata["loihi.latency"].values())
    stim = encode_inputs(low, {low.inputs[0]: x})[low.inputs[0]]
    stim = np.concatenate([stim, np.zeros((lat, *stim.shape[1:]), dtype=stim.dtype)])
    dest.mkdir(parents=True, exist_ok=True)
    res.program.save(dest)
    np.save(dest / "stim.npy", stim)


def example(dest: Path) -> None:
    import torch

    path = REPO / "examples" / "spiking_transformer_digits.py"
    spec = importlib.util.spec_from_file_location("spiking_transformer_digits", path)
    ex = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ex)  # type: ignore[union-attr]
    from snnc.frontend.torch import trace

    torch.manual_seed(0)
    torch.set_num_threads(1)
    xtr, ytr, xte, _ = ex.data()
    model = ex.DigitsTransformer()
    ex.train(model, xtr[:300], ytr[:300], 2)
    model = model.double().eval()
    graph = trace(model, (ex.PATCH, ex.TOKENS))
    save(dest, graph, ex.encode(xte[:3]).astype(np.float64),
         ex.encode(xtr[:64]).astype(np.float64))


def qsd(dest: Path) -> None:
    from spiking_transformer.qsd_models import random_qsd

    from snnc.frontend.torch import trace

    x = (np.random.default_rng(2).random((6, 2, 4, 4)) < 0.5).astype(np.float64)
    save(dest, trace(random_qsd(2), (4, 4)), x, x)


def qsd_round(dest: Path) -> None:
    from spiking_transformer.qsd_models import random_qsd

    from snnc.frontend.torch import trace

    x = (np.random.default_rng(0).random((6, 2, 4, 4)) < 0.5).astype(np.float64)
    save(dest, trace(random_qsd(0, kind="round"), (4, 4)), x, x)


def sdt(dest: Path) -> None:
    import torch
    from spiking_transformer.sdt_random import random_sdt

    from snnc.frontend.torch import trace

    x = (np.random.default_rng(5).random((6, 2, 4, 16)) < 0.5).astype(np.float64)
    g = trace(random_sdt(5, "snntorch", dtype=torch.float32), (4, 16))
    save(dest, g, x, x)


if __name__ == "__main__":
    out = Path(sys.argv[1])
    for name in sys.argv[2:] or ("example", "qsd", "qsd_round", "sdt"):
        globals()[name](out / name)
