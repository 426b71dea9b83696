"""Learn the readout of a digits network on the simulated chip, from chance to > 80 %.

The network is already in the chip's integer form: 64 pixel inputs (graded 4-bit values, one
message per step) -> a fixed hidden layer of Loihi LIF neurons -> a readout layer of 10 LIF
neurons whose synapses start at zero and learn on chip with the event-driven error rule
(`error3f`). With ``--model OUT_DIR`` the hidden layers come from a compiled model instead (the
readout, its last dense layer, is reset to zero and learned). Data: scikit-learn's bundled digits.

    python examples/learn_digits_onchip.py            # prints the accuracy curve and energy
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from snnc.ir import Graph, Input, LoihiDense, LoihiLIF, Output
from snnc.simulators.learning import session

STEPS = 16


def digits(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(N, T, 64) graded pixel inputs (0..16, repeated every step) and labels, shuffled."""
    from sklearn.datasets import load_digits

    d = load_digits()
    order = np.random.default_rng(seed).permutation(len(d.target))
    x = d.data[order].astype(np.int64)
    return np.repeat(x[:, None, :], STEPS, axis=1).astype(np.float64), d.target[order]


def random_feature_network(hidden: int = 300, seed: int = 0) -> Graph:
    """Fixed random hidden layer (even integer weights) and a zero readout, as loihi.* ops."""
    rng = np.random.default_rng(seed)
    w1 = rng.integers(-12, 13, (hidden, 64)) * 2
    return Graph.chain(
        ("pixels", Input(shape=(64,))),
        ("hidden_syn", LoihiDense(weight=w1, weight_exp=-2, num_message_bits=8)),
        ("hidden", LoihiLIF(shape=(hidden,), du=4095, dv=512, vth=90)),
        ("readout_syn", LoihiDense(weight=np.zeros((10, hidden), np.int64))),
        ("readout", LoihiLIF(shape=(10,), du=4095, dv=1024, vth=600)),
        ("digit", Output(shape=(10,))),
    )


def main(argv: list[str] | None = None) -> float:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--train", type=int, default=1400, help="training samples")
    ap.add_argument("--epochs", type=int, default=2, help="passes over the training samples")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args(argv)
    x, y = digits(args.seed)
    graph = random_feature_network(seed=args.seed)
    test = (x[1400:], y[1400:])
    result = session.run(graph, ["readout_syn"], "error3f", x[:args.train], y[:args.train], test,
                         epochs=args.epochs, eval_every=700, progress=not args.quiet,
                         rule_options={"shift": 4, "decay_every": 8})
    if not args.quiet:
        session.print_summary(result.report, Path("(not written)"))
    return result.report.accuracy_curve[-1][1]


if __name__ == "__main__":
    main()
