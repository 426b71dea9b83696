"""Learn the readout of a compiled digits network on the simulated chip, from chance to > 80 %.

1. Compile ``examples/models/qsnn4.pt`` (64-128-10, 4-bit weights, IF neurons) for Loihi, as
   ``snnc compile`` does.
2. Reset its readout synapses (the last dense layer, 128 -> 10) to zero: the network now answers
   at chance (no output spikes at all).
3. Present the 1437 training digits once, as binary rate-coded spikes (8 steps each), while the
   readout learns on chip with the event-driven three-factor error rule (``error3f``: a synapse
   changes only when its pre-synaptic neuron spikes, by the error delivered to its post neuron).
4. Test on the 360 held-out digits and report the learning energy from Loihi's per-update cost.

    python examples/learn_digits_onchip.py          # ~10-30 s on a laptop CPU

The hidden layer keeps the weights it was trained with in PyTorch; only the readout learns.
Data: scikit-learn's bundled digits, split and encoded exactly as examples/train_digits.py does.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from train_digits import data, encode  # noqa: E402  (the models' own split and encoder)

from snnc.api import compile as snnc_compile  # noqa: E402
from snnc.api import learn  # noqa: E402
from snnc.backends.report.learning import print_summary  # noqa: E402
from snnc.ir.serialize import read_graph  # noqa: E402

MODEL = HERE / "models" / "qsnn4.pt"
RULE_OPTIONS = {"shift": 1, "decay_every": 8}


def compiled_graph(program: Path | None):
    """The lowered (integer) graph of a compile output directory; compiles qsnn4.pt if None."""
    if program is None:
        program = Path(tempfile.mkdtemp(prefix="snnc-digits-")) / "out"
        snnc_compile(MODEL, target="loihi-sim", out_dir=program)
    return read_graph(program / "graph.lowered.snnc")


def main(argv: list[str] | None = None) -> float:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--program", type=Path, help="a compile output dir (default: compile qsnn4)")
    ap.add_argument("--train", type=int, default=1437, help="training digits presented")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args(argv)
    graph = compiled_graph(args.program)
    readout = [n for n, v in graph.nodes.items() if v.op == "loihi.dense"][-1]
    xtr, ytr, xte, yte = data(0)
    spikes_tr = np.moveaxis(encode(xtr[:args.train]), 0, 1)  # (N, T, 64)
    spikes_te = np.moveaxis(encode(xte), 0, 1)
    result, doc = learn(graph, [readout], "error3f", spikes_tr, ytr[:args.train],
                        (spikes_te, yte), reset_layers=True, eval_every=max(args.train // 3, 1),
                        progress=not args.quiet, rule_options=RULE_OPTIONS)
    if not args.quiet:
        print_summary(doc, None)
    return result.report.accuracy_curve[-1][1]


if __name__ == "__main__":
    main()
