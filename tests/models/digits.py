"""scikit-learn digits as spikes, and a few-second surrogate-gradient trainer for the zoo.

Inputs are binary rate-coded spikes (``snnc.nn.train.rate_code``, the deterministic
integrate-and-fire encoder of examples/train_digits.py), time-major (T, B, 1, 8, 8) for conv
models and (T, B, 64) for MLPs.
Every model of the zoo returns its output spikes per step, time-major (T, B, 10); the class is
the output neuron with the most spikes.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from snnc.nn.train import rate_code, shuffle_split

T = 8
N_TEST = 360


def encode(x: np.ndarray, steps: int = T) -> np.ndarray:
    """(B, ...) float32 intensities in [0, 1] -> (T, B, ...) 0/1 spikes."""
    return rate_code(x, steps)


def digits(conv: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(train spikes, train labels, test spikes, test labels), time-major."""
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    xtr, ytr, xte, yte = shuffle_split((x / 16.0).astype(np.float32), y, N_TEST)
    if conv:
        xtr, xte = xtr.reshape(-1, 1, 8, 8), xte.reshape(-1, 1, 8, 8)
    return encode(xtr), ytr, encode(xte), yte


def rate_loss(out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Cross entropy on the spike counts (snnTorch's ``ce_rate_loss``)."""
    return nn.functional.cross_entropy(out.sum(0), y)


def train(model: nn.Module, xs: np.ndarray, ys: np.ndarray, epochs: int = 6,
          lr: float = 5e-3, batch: int = 64, reset: object = None, seed: int = 0) -> nn.Module:
    """Adam on the rate loss; ``reset(model)`` runs before each batch (framework state resets)."""
    torch.manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    x_all = torch.from_numpy(xs)
    y_all = torch.from_numpy(ys).long()
    model.train()
    for _ in range(epochs):
        perm = torch.randperm(x_all.shape[1])
        for i in range(0, len(perm), batch):
            idx = perm[i:i + batch]
            if callable(reset):
                reset(model)
            loss = rate_loss(model(x_all[:, idx]), y_all[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    return model.eval()


def predict(out: np.ndarray) -> np.ndarray:
    """Class per sample from (T, B, 10) output spikes (ties: lowest index)."""
    return np.asarray(out).sum(0).argmax(-1)
