"""A small QSD-Transformer-style model (multi-level integer spikes, Q(KᵀV)) on the 8x8 digits,
trained in about a minute, compiled for Loihi 2.

Each digit is cut into 4 patches of 4x4 pixels (the tokens, 16 values each), rate-coded into
binary spikes over T steps. Every neuron is the multi-level spike of QSD-Transformer's and
SpikeYOLO's code, ``round(clamp(x, 0, D)) / D`` with D = 2 (a ``torch.autograd.Function`` with a
straight-through gradient), applied at each step; attention is the spike-matrix form
``Q @ (Kᵀ @ V) * scale`` with two heads, whose KᵀV is an integer matrix. Membrane shortcuts, an
MLP, and a linear head over all tokens whose output summed over time is the class score.

The script trains it, then traces it with snnc (checking the reference simulation equals the
PyTorch forward, output for output), compiles it for Loihi 2 (``lower-spike-products``: each
multi-level spike becomes D binary neurons, each product ANDs of binary spikes with fixed
coefficient synapses) and runs the test set on loihi-sim, checking it equals snnc's reference
simulation of the lowered program, and prints the accuracies, the latency, the neuron counts
and the report.

Usage: python examples/qsd_digits.py [--epochs 40] [--quick]
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np
import torch
from sklearn.datasets import load_digits
from torch import nn

from snnc.nn.train import fit, rate_code, shuffle_split
from snnc.nn.transformer import QSDAttention, RoundSpike, image_patches

T, D = 4, 2
PATCH, TOKENS = 16, 4  # 4x4 pixels, 2x2 patches


def MultiSpike() -> nn.Module:
    return RoundSpike(D, norm=D)


def tokens(c_in: int, c_out: int, bias: bool = False) -> nn.Module:
    return nn.Sequential(nn.Conv1d(c_in, c_out, 1, bias=False), nn.BatchNorm1d(c_out))


class Block(nn.Module):
    def __init__(self, dim: int, heads: int, hidden: int) -> None:
        super().__init__()
        self.attn_s, self.attn = MultiSpike(), QSDAttention(dim, heads, MultiSpike, tokens)
        self.mlp_s, self.fc1, self.fc1_s, self.fc2 = (MultiSpike(), tokens(dim, hidden),
                                                      MultiSpike(), tokens(hidden, dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.attn_s(x))  # membrane shortcuts: sums of currents
        return x + self.fc2(self.fc1_s(self.fc1(self.mlp_s(x))))


class QSDDigits(nn.Module):
    """One time step: (B, PATCH, TOKENS) spikes -> (B, 10) scores."""

    def __init__(self, dim: int = 8, heads: int = 2, hidden: int = 16) -> None:
        super().__init__()
        self.embed = tokens(PATCH, dim)
        self.blocks = nn.ModuleList([Block(dim, heads, hidden)])
        self.head_s, self.head = MultiSpike(), nn.Linear(dim * TOKENS, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.embed(x)
        for blk in self.blocks:
            x = blk(x)
        return self.head(self.head_s(x).flatten(-2))


def encode(x: np.ndarray) -> np.ndarray:
    return rate_code(x, T)


def forward(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """(T, B, ...) -> (T, B, 10): the stateless model at every step."""
    return model(x.flatten(0, 1)).unflatten(0, x.shape[:2])


def run(epochs: int, n_train: int | None, n_test: int | None, quiet: bool = False
        ) -> dict[str, Any]:
    from snnc import api
    from snnc.evaluate.shard import chip_and_lowered
    from snnc.frontend.torch import trace
    from snnc.simulators.reference import simulate

    torch.manual_seed(0)
    torch.set_num_threads(1)
    xs, ys = load_digits(return_X_y=True)
    xtr, ytr, xte, yte = shuffle_split(image_patches(xs.astype(np.float32) / 16.0, 8, 4), ys)
    xtr, ytr, xte, yte = xtr[:n_train], ytr[:n_train], xte[:n_test], yte[:n_test]
    start = time.perf_counter()
    model = QSDDigits()
    fit(model, encode(xtr), ytr, epochs, lambda m, x: forward(m, x).sum(0), batch=32)
    train_s = time.perf_counter() - start
    model = model.double().eval()
    xt = encode(xte).astype(np.float64)
    with torch.no_grad():
        torch_out = forward(model, torch.from_numpy(xt)).numpy()
    graph = trace(model, (PATCH, TOKENS))
    ref_out = simulate(graph, xt).output
    res = api.compile(graph, "loihi-sim", chip="loihi2",
                      calibration=encode(xtr[:64]).astype(np.float64), report_input=xt[:, :16])
    prog, low = res.program, res.program.graph
    chip, fixed, d_out = chip_and_lowered(prog, xt, T)

    def acc(out: np.ndarray) -> float:
        return float(np.mean(out.sum(0).argmax(1) == yte))

    lifs = [v for v in low.nodes.values() if v.op == "loihi.lif"]
    out = {"train_seconds": train_s, "epochs": epochs, "n_train": len(ytr), "n_test": len(yte),
           "acc_torch": acc(torch_out), "acc_reference": acc(ref_out), "acc_loihi2": acc(chip),
           "traced_equal": bool(np.array_equal(ref_out, torch_out)),
           "chip_equals_lowered_reference": bool(np.array_equal(chip, fixed)),
           "prediction_agreement": float(np.mean(chip.sum(0).argmax(1)
                                                 == torch_out.sum(0).argmax(1))),
           "latency_steps": d_out, "cores": len(prog.cores),
           "neurons": int(sum(np.prod(v.shape) for v in lifs)),
           "energy_per_inference": res.report["energy"]["total"],
           "analytic_snn_energy": res.report["analytic"]["snn_energy"],
           "and_neurons": int(sum(np.prod(v.shape) for n, v in low.nodes.items()
                                  if v.op == "loihi.lif" and n.endswith("_and"))),
           "blocks": res.report["analytic"]["blocks"]}
    if not quiet:
        for k, v in out.items():
            if k != "blocks":
                print(f"{k}: {v}")
        for b in out["blocks"]:
            print(f"  {b['block']:8s} chip {b['chip_energy'] * 1e6:8.3f} uJ "
                  f"{b['chip_syn_ops']:9.0f} syn ops | 45 nm {b['analytic_energy'] * 1e9:7.3f} nJ "
                  f"{b['analytic_ac']:8.0f} ACs")
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--quick", action="store_true", help="2 epochs, 300 train, 64 test")
    parser.add_argument("--quiet", action="store_true")
    a = parser.parse_args(argv)
    if a.quick:
        return run(2, 300, 64, a.quiet)
    return run(a.epochs, None, None, a.quiet)


if __name__ == "__main__":
    main()
