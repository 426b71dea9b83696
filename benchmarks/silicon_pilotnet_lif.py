"""Per layer, how many of the 24 recorded steps of lava-dl's Loihi 2 PilotNet LIF recording
(``gts/pilotnet_lif``) snnc reproduces exactly, in ``--fidelity fixed_pt`` and ``silicon``.

Runs ``snnc simulate`` (the CLI, as a user would) on ``network.net`` with lava-dl's drive
(``--input-bias image.npy --reset-interval 16``), probing s, u and v of every layer, and compares
each step with the recording (every neuron equal). Usage::

    SNNC_LAVADL_ASSETS=.cache/lava-dl/netx python benchmarks/silicon_pilotnet_lif.py [-b BACKEND]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

#: snnc layer -> the recording's file stem
LAYERS = {"layer0": "input", **{f"layer{k + 1}": f"conv-{k}" for k in range(5)},
          **{f"layer{k + 7}": f"fc-{k}" for k in range(4)}}
STEPS = 24


def recording(d: Path, stem: str, var: str) -> np.ndarray | None:
    name = {"s": stem, "u": f"{stem}-u", "v": f"{stem}-v"}[var]
    if stem == "fc-3" and var == "s":
        name = "fc-3-s"
    path = d / f"{name}.npy"
    return np.load(path)[..., :STEPS] if path.is_file() else None


def run(d: Path, fidelity: str, backend: str, out: Path) -> dict[str, np.ndarray]:
    probes = [a for n in LAYERS for v in "suv" for a in ("-p", f"{n}.{v}")]
    cmd = [sys.executable, "-m", "snnc", "simulate", str(d / "network.net"), "--input-bias",
           str(d / "image.npy"), "--reset-interval", "16", "--steps", str(STEPS), "-q",
           "-b", backend, "--fidelity", fidelity, "-o", str(out), *probes]
    subprocess.run(cmd, check=True)
    return dict(np.load(out))


def matches(d: Path, result: dict[str, np.ndarray]) -> dict[str, dict[str, int | None]]:
    """layer -> var -> steps equal to the recording (None: not recorded)."""
    table: dict[str, dict[str, int | None]] = {}
    for layer, stem in LAYERS.items():
        table[layer] = {}
        for var in "suv":
            want = recording(d, stem, var)
            if want is None:
                table[layer][var] = None
                continue
            got = result[f"{layer}.{var}"]  # (*shape in C, H, W order, T)
            got = got.transpose(*reversed(range(got.ndim - 1)), got.ndim - 1)
            if var == "s":
                got, want = got != 0, want != 0
            same = [np.array_equal(got[..., t], want[..., t].astype(got.dtype))
                    for t in range(STEPS)]
            table[layer][var] = int(sum(same))
    return table


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-b", "--backend", default="reference")
    args = ap.parse_args()
    d = Path(os.environ.get("SNNC_LAVADL_ASSETS", ".cache/lava-dl/netx")) / "gts/pilotnet_lif"
    with tempfile.TemporaryDirectory() as tmp:
        tabs = {f: matches(d, run(d, f, args.backend, Path(tmp) / f"{f}.npz"))
                for f in ("fixed_pt", "silicon")}
    print(f"steps equal to the Loihi 2 recording, of {STEPS} (backend {args.backend})")
    print(f"{'layer':8} {'recording':9} " + " ".join(f"{f + ' ' + v:>11}" for f in tabs
                                                      for v in "suv"))
    for layer, stem in LAYERS.items():
        cells = [tabs[f][layer][v] for f in tabs for v in "suv"]
        print(f"{layer:8} {stem:9} " + " ".join(f"{'-' if c is None else c:>11}" for c in cells))


if __name__ == "__main__":
    main()
