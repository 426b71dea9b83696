"""The small training kit the examples share: a deterministic rate code and a rate-loss trainer.

``rate_code`` is the integrate-and-fire encoder that suits Loihi (binary input spikes, no
randomness): a pixel of intensity p adds p each step and fires, subtracting 1, when it reaches 1,
so it fires about ``steps * p`` times. ``fit`` is Adam with a cosine learning-rate schedule on the
cross entropy of the per-class scores, over seeded shuffles (the same run gives the same model).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import numpy as np
import torch
from torch import nn


def rate_code(x: np.ndarray, steps: int) -> np.ndarray:
    """Deterministic rate code: (B, ...) intensities in [0, 1] -> (steps, B, ...) 0/1 spikes
    (of ``x``'s dtype)."""
    v, out = np.zeros_like(x), []
    for _ in range(steps):
        v = v + x
        s = (v >= 1).astype(x.dtype)
        v = v - s
        out.append(s)
    return np.stack(out)


def fit(model: nn.Module, spikes: np.ndarray, labels: np.ndarray, epochs: int,
        scores: Callable[[nn.Module, torch.Tensor], torch.Tensor], batch: int = 32,
        lr: float = 5e-3, log: logging.Logger | None = None) -> None:
    """Train ``model`` on time-major (T, B, ...) ``spikes``: ``scores(model, x)`` gives (B,
    classes) class scores (e.g. output spike counts); one seeded shuffle per epoch."""
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs)
    x, y = torch.from_numpy(spikes), torch.from_numpy(labels).long()
    gen = torch.Generator().manual_seed(0)
    for epoch in range(epochs):
        model.train()
        for idx in torch.randperm(len(y), generator=gen).split(batch):
            loss = nn.functional.cross_entropy(scores(model, x[:, idx]), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        sched.step()
        if log is not None:
            log.info("epoch %d loss %.3f", epoch, loss.item())


def shuffle_split(x: np.ndarray, y: np.ndarray, n_test: int = 360, seed: int = 0
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(train x, train y, test x, test y): a seeded permutation, the first ``n_test`` for test."""
    order = np.random.default_rng(seed).permutation(len(x))
    x, y = x[order], y[order]
    return x[n_test:], y[n_test:], x[:n_test], y[:n_test]
