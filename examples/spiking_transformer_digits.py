"""A small Spike-driven Transformer on the 8x8 digits, trained in about a minute, on Loihi 2.

Each digit is cut into 16 patches of 2x2 pixels (the tokens, 4 values each), rate-coded into
binary spikes over T steps (``snnc.nn.train.rate_code``, as in ``train_digits.py``). The model is
written as Spike-driven Transformer V1's code writes it, with SpikingJelly multi-step neurons
(integrate-and-fire here): a Conv1d(kernel 1) + BatchNorm patch embedding; one block of
spike-driven self-attention (Q/K/V Conv1d + BN + neuron, K ⊙ V, sum over tokens, a neuron with
threshold 0.5, ⊙ Q, two heads) and an MLP, both with membrane shortcuts (the residual adds
currents before each sub-block's neuron); a head neuron and a linear classifier over all tokens
whose output summed over time is the class score.

The script trains it with surrogate gradients, then

1. traces it with snnc and checks that snnc's reference simulation equals the PyTorch forward
   (float64) on every test digit, output for output;
2. compiles it for Loihi 2 (``lower-spike-products`` turns the products into coincidence
   neurons, the column sum and head rearrangements into 0/1 synapses; ``quantize-loihi`` puts
   it on Lava's integer grid) and runs the test set on loihi-sim (the event simulator), checking
   that it equals snnc's reference simulation of the lowered program step for step;
3. prints the accuracy in PyTorch, in snnc's reference, and on loihi-sim, the latency the
   pipeline adds, and the report's per-block table (chip energy from counted events next to the
   papers' 45 nm estimate).

Usage: python examples/spiking_transformer_digits.py [--epochs 12] [--quick]
``--quick`` (the test's mode) trains 2 epochs on 300 digits and evaluates 64.
"""

from __future__ import annotations

import argparse
import logging
import time
from typing import Any

import numpy as np
import torch
from sklearn.datasets import load_digits
from spikingjelly.activation_based import functional, layer, neuron, surrogate
from torch import nn

from snnc.nn.train import fit, rate_code, shuffle_split
from snnc.nn.transformer import SDSA, image_patches

T = 4
PATCH, TOKENS = 4, 16  # 2x2 pixels, 4x4 patches
log = logging.getLogger("spiking_transformer_digits")


def lif(threshold: float = 1.0) -> nn.Module:
    """Integrate-and-fire with hard reset (no leak: the membrane stays on Loihi's integer grid,
    so the chip follows the float model closely)."""
    return neuron.IFNode(v_threshold=threshold, detach_reset=True, step_mode="m",
                         surrogate_function=surrogate.ATan())


def tokens(c_in: int, c_out: int, bias: bool = True) -> nn.Module:
    return layer.SeqToANNContainer(nn.Conv1d(c_in, c_out, 1, bias=bias), nn.BatchNorm1d(c_out))


class Block(nn.Module):
    def __init__(self, dim: int, heads: int, hidden: int) -> None:
        super().__init__()
        self.attn_lif, self.attn = lif(), SDSA(dim, heads, lif, tokens)
        self.mlp_lif = lif()
        self.fc1, self.fc1_lif, self.fc2 = tokens(dim, hidden), lif(), tokens(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.attn_lif(x))  # membrane shortcut
        return x + self.fc2(self.fc1_lif(self.fc1(self.mlp_lif(x))))


class DigitsTransformer(nn.Module):
    def __init__(self, dim: int = 16, heads: int = 2, hidden: int = 32, depth: int = 1) -> None:
        super().__init__()
        self.embed = tokens(PATCH, dim, bias=False)
        self.blocks = nn.ModuleList(Block(dim, heads, hidden) for _ in range(depth))
        self.head_lif = lif()
        self.head = layer.SeqToANNContainer(nn.Flatten(), nn.Linear(dim * TOKENS, 10))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (T, B, PATCH, TOKENS)
        x = self.embed(x)
        for blk in self.blocks:
            x = blk(x)
        # the classifier reads every token (no mean over tokens: the tokens carry no position
        # embedding, so their mean would be a bag of patches)
        return self.head(self.head_lif(x))  # (T, B, 10)


def data(seed: int = 0) -> tuple[np.ndarray, ...]:
    x, y = load_digits(return_X_y=True)
    return shuffle_split(image_patches(x.astype(np.float32) / 16.0, 8, 2), y, 360, seed)


def encode(x: np.ndarray) -> np.ndarray:
    return rate_code(x, T)


def scores(model: nn.Module, spikes: torch.Tensor) -> torch.Tensor:
    functional.reset_net(model)
    return model(spikes).sum(0)


def train(model: nn.Module, xtr: np.ndarray, ytr: np.ndarray, epochs: int) -> None:
    fit(model, encode(xtr), ytr, epochs, scores, batch=32, log=log)


def run(epochs: int, n_train: int | None, n_test: int | None, quiet: bool = False
        ) -> dict[str, Any]:
    """Train, trace, compile and evaluate; the numbers the README quotes."""
    from snnc import api
    from snnc.backends.report.terminal import render_terminal
    from snnc.evaluate.shard import chip_and_lowered
    from snnc.frontend.torch import trace
    from snnc.simulators.reference import simulate

    torch.manual_seed(0)
    torch.set_num_threads(1)
    xtr, ytr, xte, yte = data()
    xtr, ytr, xte, yte = xtr[:n_train], ytr[:n_train], xte[:n_test], yte[:n_test]
    start = time.perf_counter()
    model = DigitsTransformer()
    train(model, xtr, ytr, epochs)
    train_s = time.perf_counter() - start
    model = model.double().eval()
    x = encode(xte).astype(np.float64)  # (T, B, 4, 16)
    with torch.no_grad():
        torch_out = (functional.reset_net(model), model(torch.from_numpy(x)))[1].numpy()
    graph = trace(model, (PATCH, TOKENS))
    ref_out = simulate(graph, x).output
    traced_equal = bool(np.array_equal(ref_out, torch_out))

    cal = encode(xtr[:64]).astype(np.float64)
    res = api.compile(graph, "loihi-sim", chip="loihi2", calibration=cal, report_input=x[:, :16])
    prog = res.program
    chip, fixed, d_out = chip_and_lowered(prog, x, T)
    chip_equal = bool(np.array_equal(chip, fixed))

    def acc(out: np.ndarray) -> float:
        return float(np.mean(out.sum(0).argmax(1) == yte))

    blocks = res.report["analytic"]["blocks"]
    out = {"train_seconds": train_s, "epochs": epochs, "n_train": len(ytr), "n_test": len(yte),
           "acc_torch": acc(torch_out), "acc_reference": acc(ref_out), "acc_loihi2": acc(chip),
           "traced_equal": traced_equal, "chip_equals_lowered_reference": chip_equal,
           "prediction_agreement": float(np.mean(chip.sum(0).argmax(1)
                                                 == torch_out.sum(0).argmax(1))),
           "latency_steps": d_out, "cores": len(prog.cores), "blocks": blocks,
           "energy_per_inference": res.report["energy"]["total"],
           "analytic_snn_energy": res.report["analytic"]["snn_energy"]}
    if not quiet:
        from rich.console import Console

        Console().print(render_terminal(res.report))
        for k, v in out.items():
            if k != "blocks":
                print(f"{k}: {v}")
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--quick", action="store_true", help="2 epochs, 300 train, 64 test")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING if args.quiet else logging.INFO,
                        format="%(message)s")
    if args.quick:
        return run(2, 300, 64, args.quiet)
    return run(args.epochs, None, None, args.quiet)


if __name__ == "__main__":
    main()
