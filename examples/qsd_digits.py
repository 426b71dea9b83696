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

T, D = 4, 2
PATCH, TOKENS = 16, 4  # 4x4 pixels, 2x2 patches


class Quant(torch.autograd.Function):
    """round(clamp(x, 0, D)) with a straight-through gradient inside [0, D]."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, lo: int = 0, hi: int = D) -> torch.Tensor:  # type: ignore[override]
        ctx.save_for_backward(x)
        ctx.lo, ctx.hi = lo, hi
        return torch.round(torch.clamp(x, min=lo, max=hi))

    @staticmethod
    def backward(ctx, grad: torch.Tensor):  # type: ignore[override]
        (x,) = ctx.saved_tensors
        return grad * ((x >= ctx.lo) & (x <= ctx.hi)), None, None


class MultiSpike(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return Quant.apply(x, 0, D) / D


def tokens(c_in: int, c_out: int) -> nn.Module:
    return nn.Sequential(nn.Conv1d(c_in, c_out, 1, bias=False), nn.BatchNorm1d(c_out))


class Attention(nn.Module):
    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.heads, self.scale = heads, 0.25
        self.q, self.k, self.v = tokens(dim, dim), tokens(dim, dim), tokens(dim, dim)
        self.q_s, self.k_s, self.v_s, self.attn_s = (MultiSpike() for _ in range(4))
        self.proj = tokens(dim, dim)

    def _heads(self, s: torch.Tensor) -> torch.Tensor:  # (B, C, N) -> (B, H, N, C/H)
        c = s.shape[-2]
        return s.transpose(-1, -2).unflatten(-1, (self.heads, c // self.heads)).transpose(-3, -2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        q = self._heads(self.q_s(self.q(x)))
        k = self._heads(self.k_s(self.k(x)))
        v = self._heads(self.v_s(self.v(x)))
        y = q @ (k.transpose(-1, -2) @ v) * self.scale  # integer-valued (times 1/8)
        return self.proj(self.attn_s(y).transpose(-1, -2).flatten(-3, -2))


class Block(nn.Module):
    def __init__(self, dim: int, heads: int, hidden: int) -> None:
        super().__init__()
        self.attn_s, self.attn = MultiSpike(), Attention(dim, heads)
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


def patches(images: np.ndarray) -> np.ndarray:
    """(B, 64) -> (B, 16, 4): pixel (dy, dx) of patch (py, px) at [4dy+dx, 2py+px]."""
    b = images.reshape(-1, 2, 4, 2, 4)  # (B, py, dy, px, dx)
    return np.ascontiguousarray(b.transpose(0, 2, 4, 1, 3).reshape(-1, PATCH, TOKENS))


def encode(x: np.ndarray) -> np.ndarray:
    """Deterministic rate code: intensities in [0, 1] -> (T, ...) 0/1 spikes."""
    v, out = np.zeros_like(x), []
    for _ in range(T):
        v = v + x
        s = (v >= 1).astype(x.dtype)
        v = v - s
        out.append(s)
    return np.stack(out)


def forward(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """(T, B, ...) -> (T, B, 10): the stateless model at every step."""
    return model(x.flatten(0, 1)).unflatten(0, x.shape[:2])


def run(epochs: int, n_train: int | None, n_test: int | None, quiet: bool = False
        ) -> dict[str, Any]:
    from snnc import api
    from snnc.evaluate.shard import chip_scores
    from snnc.frontend.torch import trace
    from snnc.passes.qinputs import encode_inputs
    from snnc.simulators.reference import simulate

    torch.manual_seed(0)
    torch.set_num_threads(1)
    xs, ys = load_digits(return_X_y=True)
    xs = patches(xs.astype(np.float32) / 16.0)
    order = np.random.default_rng(0).permutation(len(xs))
    xs, ys = xs[order], ys[order]
    xtr, ytr, xte, yte = xs[360:][:n_train], ys[360:][:n_train], xs[:360][:n_test], ys[:360][
        :n_test]
    start = time.perf_counter()
    model = QSDDigits()
    opt = torch.optim.Adam(model.parameters(), lr=5e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs)
    x, y = torch.from_numpy(encode(xtr)), torch.from_numpy(ytr).long()
    gen = torch.Generator().manual_seed(0)
    for _ in range(epochs):
        model.train()
        for idx in torch.randperm(len(y), generator=gen).split(32):
            loss = nn.functional.cross_entropy(forward(model, x[:, idx]).sum(0), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
        sched.step()
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
    d_out = low.metadata["loihi.latency"][low.outputs[0]]
    steps = T + max(low.metadata["loihi.latency"].values())
    chip_vals, _ = chip_scores(prog, xt, steps)
    chip = chip_vals.reshape(steps, xt.shape[1], -1)[d_out:d_out + T]
    readout = low.metadata["loihi.readout"][low.outputs[0]]
    lres = simulate(low, encode_inputs(low, {low.inputs[0]: xt}), steps=steps,
                    probes=[f"{readout['node']}.v"])
    fixed = (lres.probes[f"{readout['node']}.v"] * float(readout["scale"])).reshape(
        steps, xt.shape[1], -1)[d_out:d_out + T]

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
