"""The hypotheses tested for the last layer (fc-3) of lava-dl's Loihi 2 PilotNet LIF recording,
and the best match each reaches, then the run that reproduces it (docs/loihi-sim.md).

fc-3 is one integrator (du 4095: u is the step's input; dv 0; vth 2**17 - 1, never spikes) fed
by fc-2, whose spikes equal the chip's at all 24 steps. Each hypothesis drives fc-3 with the
chip's own fc-2 spikes (or runs the whole network) and counts the steps 0-23 at which u and v
equal the recording. Usage::

    SNNC_LAVADL_ASSETS=.cache/lava-dl/netx python benchmarks/silicon_fc3_hypotheses.py [--whole]
"""

from __future__ import annotations

import argparse
import itertools
import os
from pathlib import Path

import numpy as np

from snnc.frontend.netx import read_netx
from snnc.ir.weights import effective_dense_weights
from snnc.simulators import reference, silicon

T = 24


def _decay(x: int) -> int:  # du = 4095: keep 1/4096, truncated toward zero
    return int(np.sign(x) * (abs(x) >> 12))


def drive(a: np.ndarray, delay: int, period: int | None, phase: int, after: bool,
          drop: bool, ring: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """fc-3 on the per-step input ``a`` (sum of weights >> 2 of the spikes sent at t)."""
    arrive = np.zeros(T + 64, np.int64)
    slots = np.zeros(ring or 1, np.int64)
    for t in range(T):
        if ring is None and a[t]:
            arrive[t + delay] += a[t]
    u = v = 0
    us, vs = [], []
    for t in range(T):
        reset = period is not None and (t + 1) % period == phase % period
        if ring is not None:  # slot t % N read at t, not cleared on a reset step
            x = int(slots[t % ring])
            if not reset:
                slots[t % ring] = 0
            slots[(t + 1) % ring] += a[t]
        else:
            x = int(arrive[t])
        if reset and not after:
            u = v = 0
        if reset and drop:
            x = 0
        u = _decay(u) + (x << 6)
        v += u
        if reset and after:
            u = v = 0
        us.append(u)
        vs.append(v)
    return np.array(us), np.array(vs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--whole", action="store_true",
                    help="also run the whole network for every netx reset interval 4-24 and "
                         "offset 0-11 in both fidelities (about 400 runs)")
    args = ap.parse_args()
    d = Path(os.environ.get("SNNC_LAVADL_ASSETS", ".cache/lava-dl/netx")) / "gts/pilotnet_lif"
    g = read_netx(d / "network.net", reset_interval=16, input_bias=np.load(d / "image.npy"))
    syn = g.nodes["layer10_syn"]
    w = effective_dense_weights(syn.weight, syn.num_weight_bits)[0].astype(np.int64)
    s2 = np.load(d / "fc-2.npy").astype(np.int64)  # (10, 24): the chip's fc-2 spikes
    a = np.floor_divide(w @ s2, 2 ** -syn.weight_exp)
    rec_u = np.load(d / "fc-3-u.npy")[0].astype(np.int64)
    rec_v = np.load(d / "fc-3-v.npy")[0].astype(np.int64)
    print("fc-3 weights", w.tolist(), "weight_exp", syn.weight_exp)
    print("chip u/64 ", (rec_u[:T] >> 6).tolist())
    print("model u/64", np.concatenate([[0], a[:-1]]).tolist(),
          "(fc-2 spikes of t arrive at t + 1)")
    for want in sorted({int(x) >> 6 for x in rec_u if x}):
        subsets = [c for r in range(len(w) + 1) for c in itertools.combinations(range(len(w)), r)
                   if int(w[list(c)].sum()) >> -syn.weight_exp == want]
        print(f"  fc-2 neuron sets giving u = {want << 6}: {len(subsets)}, e.g. {subsets[:3]}")

    def best(rows: list[tuple]) -> tuple:
        return max(rows, key=lambda r: (r[0] + r[1], r[0]))

    grid = []
    for delay, period, after, drop in itertools.product(range(6), [None, 4, 8, 16, 17],
                                                        [False, True], [False, True]):
        for phase in range(period or 1):
            u, v = drive(a, delay, period, phase, after, drop)
            grid.append((int((u == rec_u[:T]).sum()), int((v == rec_v[:T]).sum()), delay,
                         period, phase, after, drop))
            grid.append((int((u == rec_u[1:T + 1]).sum()), int((v == rec_v[1:T + 1]).sum()),
                         delay, period, phase, after, drop, "recording shifted by one"))
    print("reset period/phase/order, dropped input, delay 0-5 (u, v of 24, params):",
          best(grid))
    rings = []
    for n, period in itertools.product(range(2, 9), [16, 17]):
        for phase in range(period):
            u, v = drive(a, 1, period, phase, False, True, ring=n)
            rings.append((int((u == rec_u[:T]).sum()), int((v == rec_v[:T]).sum()), n, period,
                          phase))
    print("ring-buffer dendritic accumulator, N = 2-8 slots (u, v, N, period, phase):",
          best(rings))
    runs = {}
    for fid in ("fixed_pt", "silicon"):
        gg = silicon.silicon_graph(g) if fid == "silicon" else g
        x = np.zeros((90, 1, *gg.nodes["input"].out_shape), np.int64)
        r = reference.simulate(gg, x, probes=("layer10.u", "layer10.v"))
        runs[fid] = (r.probes["layer10.u"][:, 0, 0], r.probes["layer10.v"][:, 0, 0])
    host = []
    for fid, (u, v) in runs.items():
        for b, n in itertools.product(range(2, 40), range(2, 91)):
            if n < b:
                continue
            idx = [max(t for t in range(n) if t % b == i % b) for i in range(25)]
            host.append((int(sum(u[j] == rec_u[i] for i, j in enumerate(idx))),
                         int(sum(v[j] == rec_v[i] for i, j in enumerate(idx))), fid, b, n))
    print("host ring buffer of B slots over an N-step run (u, v of 25, mode, B, N):", best(host))
    if args.whole:
        whole = []
        for fid, interval in itertools.product(("fixed_pt", "silicon"), range(4, 25)):
            for offset in range(min(interval, 12)):
                gg = read_netx(d / "network.net", reset_interval=interval, reset_offset=offset,
                               input_bias=np.load(d / "image.npy"))
                gg = silicon.silicon_graph(gg) if fid == "silicon" else gg
                x = np.zeros((T, 1, *gg.nodes["input"].out_shape), np.int64)
                r = reference.simulate(gg, x, probes=("layer10.u", "layer10.v"))
                whole.append((int((r.probes["layer10.u"][:, 0, 0] == rec_u[:T]).sum()),
                              int((r.probes["layer10.v"][:, 0, 0] == rec_v[:T]).sum()), fid,
                              interval, offset))
        print("whole network, reset interval 4-24 x offset 0-11 (u, v, mode, interval, offset):",
              best(whole), "best u:", max(whole)[:2])
    # the explanation (docs/loihi-sim.md): every layer's reset one step earlier, period 16
    gg = read_netx(d / "network.net", reset_interval=16, reset_offset=15,
                   input_bias=np.load(d / "image.npy"))
    x = np.zeros((T + 1, 1, *gg.nodes["input"].out_shape), np.int64)
    r = reference.simulate(gg, x, probes=("layer10.u", "layer10.v"))
    print("fixed_pt, reset interval 16, offset 15 (u, v of 25):",
          int((r.probes["layer10.u"][:, 0, 0] == rec_u).sum()),
          int((r.probes["layer10.v"][:, 0, 0] == rec_v).sum()))


if __name__ == "__main__":
    main()
