"""Lava side of bench_event_vs_lava.py: run a network spec in lava-nc's ``fixed_pt`` models.

Runs in the Lava environment (``.venv-lava``, Python 3.10) as
``python lava_fixed_pt.py SPEC.npz OUT.npz``. SPEC holds the layers (``kind{i}`` = "dense" or
"conv", ``w{i}``, LIF parameters) in snnc's layouts plus the input ``x`` (N_in, T), time last.
Conv weights (C_out, C_in, kH, kW) become Lava's flipped (C_out, W, H, C_in); images go (W, H, C).
OUT gets ``out`` (output layer spikes, snnc flat order, (N_out, T)) and the timings. Without
``x_long`` in SPEC the network runs once (``bench_startup.py`` times the whole process).
"""

from __future__ import annotations

import sys
import time

import numpy as np


def _build(spec, x):
    from lava.proc.conv.process import Conv
    from lava.proc.dense.process import Dense
    from lava.proc.io.sink import RingBuffer as Sink
    from lava.proc.io.source import RingBuffer as Source
    from lava.proc.lif.process import LIF

    steps = x.shape[-1]
    shape = tuple(int(v) for v in spec["in_shape"])
    data = x.reshape(*shape, steps)
    if len(shape) == 3:  # (C, H, W, T) -> (W, H, C, T)
        data = data.transpose(2, 1, 0, 3)
    src = Source(data=data)
    port, shape_now = src.s_out, shape
    for i in range(int(spec["layers"])):
        w = spec[f"w{i}"]
        if str(spec[f"kind{i}"]) == "conv":
            lw = w[:, :, ::-1, ::-1].transpose(0, 3, 2, 1)
            syn = Conv(weight=lw, input_shape=(shape_now[2], shape_now[1], shape_now[0]),
                       padding=tuple(spec[f"pad{i}"][::-1]), stride=tuple(spec[f"stride{i}"][::-1]))
            out_shape = tuple(int(v) for v in spec[f"out{i}"])  # (C, H, W)
            lif_shape = (out_shape[2], out_shape[1], out_shape[0])
        else:
            if len(shape_now) == 3:  # snnc flattens (C, H, W); Lava's port flattens (W, H, C)
                c, h, wd = shape_now
                perm = np.arange(c * h * wd).reshape(c, h, wd).transpose(2, 1, 0).ravel()
                w = w[:, perm]
                port = port.flatten()
            syn = Dense(weights=w)
            out_shape = lif_shape = (w.shape[0],)
        lif = LIF(shape=lif_shape, du=int(spec[f"du{i}"]), dv=int(spec[f"dv{i}"]),
                  vth=int(spec[f"vth{i}"]), bias_mant=0, bias_exp=0)
        port.connect(syn.s_in)
        syn.a_out.connect(lif.a_in)
        port, shape_now = lif.s_out, out_shape
    sink = Sink(shape=lif_shape, buffer=steps)
    port.connect(sink.a_in)
    return src, sink, shape_now


def run(spec, x):
    """(output spikes in snnc flat order (N, T), seconds from construction to data read back)."""
    from lava.magma.core.run_conditions import RunSteps
    from lava.magma.core.run_configs import Loihi1SimCfg

    t0 = time.perf_counter()
    src, sink, shape = _build(spec, x)
    steps = x.shape[-1]
    src.run(condition=RunSteps(num_steps=steps), run_cfg=Loihi1SimCfg(select_tag="fixed_pt"))
    out = sink.data.get()
    src.stop()
    elapsed = time.perf_counter() - t0
    if len(shape) == 3:  # (W, H, C, T) -> (C, H, W, T)
        out = out.transpose(2, 1, 0, 3)
    return out.reshape(-1, steps).astype(np.int64), elapsed


def main(spec_path: str, out_path: str) -> None:
    import lava  # noqa: F401  (import time is not measured)

    spec = dict(np.load(spec_path, allow_pickle=False))
    x = spec.pop("x")
    long_x = spec.pop("x_long", None)
    repeats = int(spec.pop("repeats", 1))
    out, t_short = run(spec, x)
    if long_x is None:  # one run only (bench_startup.py times the whole process)
        np.savez(out_path, out=out, t_short=t_short, steps_short=x.shape[-1])
        return
    _, t_long = run(spec, long_x)
    for _ in range(repeats - 1):  # best of several runs, as for snnc
        t_short = min(t_short, run(spec, x)[1])
        t_long = min(t_long, run(spec, long_x)[1])
    np.savez(out_path, out=out, t_short=t_short, t_long=t_long,
             steps_short=x.shape[-1], steps_long=long_x.shape[-1])


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
