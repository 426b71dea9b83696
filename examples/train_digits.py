"""Train the two example models on scikit-learn's bundled digits (8x8 images) in under a minute.

- ``qsnn4.pt``: 64-128-10 SNN with 4-bit weights (per-channel power-of-two scales), IF neurons;
- ``bsnn.pt``:  the same with binary weights (sign * per-channel power-of-two alpha).

Inputs are binary spikes: each pixel intensity p = k/16 drives a deterministic rate encoder
(an integrate-and-fire neuron that adds p every step and fires, subtracting 1, when it reaches 1),
so a pixel fires about 8p times in T = 8 steps; binary input spikes are what Loihi 1 cores
accept. The networks use integrate-and-fire neurons with hard reset to 0 and threshold 1, no
biases, and the spike count of the output layer as the class score. These choices make the
models exact on Loihi: integer weight mantissas, no leak, and a threshold on the weight grid.

The script saves whole modules (``torch.save(model)``; snnc.nn and torch.nn classes only, so
snnc loads them without ``--trust-pickle``), the test split as ``digits_test.npz``
(intensities ``x``, labels ``y``, encoded spikes ``spikes`` of shape (N, 64, T)) and a demo
input ``X.npy``: the spikes of the first 16 test digits, (16, 64, 8) (batch, features, time:
time last, as snnc's input files are), also saved as ``qsnn4.input.npy`` / ``bsnn.input.npy``,
the calibration input ``snnc compile`` picks up next to a model. It then checks that snnc's
reference simulation of the traced model reproduces the PyTorch predictions exactly.

Usage: python examples/train_digits.py [--out examples/models] [--epochs 30]
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.datasets import load_digits
from torch import nn

import snnc.nn as snn
from snnc.nn.train import fit, rate_code, shuffle_split

T = 8
log = logging.getLogger("train_digits")


def build(binary: bool) -> nn.Module:
    layer = snn.BinaryLinear if binary else snn.QuantLinear
    return nn.Sequential(layer(64, 128), snn.IF(threshold=1.0), layer(128, 10),
                         snn.IF(threshold=1.0))


def data(seed: int = 0) -> tuple[np.ndarray, ...]:
    x, y = load_digits(return_X_y=True)
    return shuffle_split(x.astype(np.float32) / 16.0, y, 360, seed)  # k/16: exactly representable


def encode(x: np.ndarray) -> np.ndarray:
    """Deterministic rate code: (B, 64) intensities in [0, 1] -> (T, B, 64) 0/1 spikes."""
    return rate_code(x, T)


def counts(model: nn.Module, spikes: torch.Tensor) -> torch.Tensor:
    """Output spike counts over the T steps of (T, B, 64) input spikes."""
    return snn.run(model, spikes).sum(0)


def train(model: nn.Module, xtr: np.ndarray, ytr: np.ndarray, epochs: int) -> None:
    fit(model, encode(xtr), ytr, epochs, counts, batch=64, log=log)


def accuracy(model: nn.Module, x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    model.eval()
    with torch.no_grad():
        c = counts(model, torch.from_numpy(encode(x))).numpy()
    return float(np.mean(c.argmax(1) == y)), c


def check_snnc(model: nn.Module, x: np.ndarray, torch_counts: np.ndarray) -> float:
    """Trace with snnc, simulate the test set, return the share of identical spike counts."""
    from snnc.frontend.torch import trace
    from snnc.simulators.reference import simulate

    graph = trace(model, (64,))
    c = simulate(graph, encode(x).astype(np.float64)).output.sum(0)
    return float(np.mean(np.all(c == torch_counts, axis=1)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "models")
    parser.add_argument("--epochs", type=int, default=30)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    torch.set_num_threads(1)
    xtr, ytr, xte, yte = data()
    args.out.mkdir(parents=True, exist_ok=True)
    for name, binary in (("qsnn4", False), ("bsnn", True)):
        torch.manual_seed(0)
        start = time.perf_counter()
        model = build(binary)
        train(model, xtr, ytr, args.epochs)
        acc, c = accuracy(model, xte, yte)
        same = check_snnc(model, xte, c)
        snn.reset_states(model)
        model.snnc_input_shape = (64,)
        torch.save(model, args.out / f"{name}.pt")
        log.info("%s: test accuracy %.3f, snnc reference identical on %.1f%% of samples, "
                 "%.1f s", name, acc, 100 * same, time.perf_counter() - start)
    spikes = np.moveaxis(encode(xte), 0, -1).astype(np.uint8)  # (N, 64, T): time last
    np.savez_compressed(args.out / "digits_test.npz", x=xte, y=yte, spikes=spikes)
    demo = spikes[:16].astype(np.float32)
    np.save(args.out / "X.npy", demo)
    for name in ("qsnn4", "bsnn"):  # `snnc compile` calibrates on MODEL.input.npy
        np.save(args.out / f"{name}.input.npy", demo)


if __name__ == "__main__":
    main()
