"""The run-and-compare loops the Lava differential tests share.

- ``lower(g, x)``: snnc's default pipeline for Loihi 2 calibrated on ``x`` (programmable
  neurons), returning the lowered graph and the pass context (for its reports);
- ``padded_stimulus(low, x)``: the encoded input padded with zeros by the program's deepest
  latency, and the number of steps to run;
- ``assert_lava_equals_event(low, stim, steps, chip)``: runs the lowered graph in Lava
  (``fixed_pt``) and on the event simulator (mapped for ``chip``) with s, u and v of every
  ``loihi.lif`` probed, and requires the output and every probe to be equal at every step;
  returns the Lava run and the neuron names;
- ``first_mismatch`` and ``differential_rounds``: batches of random networks run by Lava
  (``run_jobs``) and by ``simulators.reference``, compared state by state, with further rounds of
  fresh networks while a required coverage corner was not reached.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np


def lower(g: Any, x: np.ndarray) -> tuple[Any, Any]:
    from snnc.passes import DEFAULT_PIPELINE, PassContext, PassManager, parse_pipeline

    ctx = PassContext(calibration={"in": x}, programmable_neurons=True)
    return PassManager(parse_pipeline(DEFAULT_PIPELINE)).run(g, ctx).graph, ctx


def padded_stimulus(low: Any, x: np.ndarray) -> tuple[np.ndarray, int]:
    from snnc.passes.qinputs import encode_inputs

    steps = len(x) + max(low.metadata["loihi.latency"].values())
    stim = encode_inputs(low, {"in": x})["in"]
    return np.concatenate([stim, np.zeros((steps - len(x), *stim.shape[1:]))]), steps


def assert_lava_equals_event(low: Any, stim: np.ndarray, steps: int, chip: str = "loihi2"
                             ) -> tuple[Any, list[str]]:
    from snnc.backends.lava import run_lava
    from snnc.backends.loihi.mapper import map_graph
    from snnc.simulators.event import simulate

    lifs = [n for n, v in low.nodes.items() if v.op == "loihi.lif"]
    probes = tuple(f"{n}.{var}" for n in lifs for var in ("s", "u", "v"))
    lava = run_lava(low, stim, steps, probes=probes)
    ev = simulate(map_graph(low, chip), stim, steps, probes=probes)
    np.testing.assert_array_equal(ev.output, lava.output)
    for p in probes:
        np.testing.assert_array_equal(ev.probes[p], lava.probes[p].reshape(ev.probes[p].shape),
                                      err_msg=p)
    return lava, lifs


def first_mismatch(ref: dict[str, np.ndarray], got: dict[str, np.ndarray]) -> str | None:
    """'<name> step <t>: reference ... lava ...' for the earliest differing step, or None."""
    worst: tuple[int, str] | None = None
    for name, want in ref.items():
        have = got[name]
        if have.shape != want.shape:
            return f"{name}: shape {have.shape} from Lava, {want.shape} from the reference"
        bad = np.flatnonzero((have != want).reshape(len(want), -1).any(axis=1))
        if bad.size and (worst is None or bad[0] < worst[0]):
            t = int(bad[0])
            worst = (t, f"{name} step {t}: reference {want[t].ravel()[:12]}, "
                        f"lava {have[t].ravel()[:12]}")
    return None if worst is None else worst[1]


def differential_rounds(networks: Callable[[int], Sequence[Any]], steps: int,
                        coverage: Callable[[Any, dict[str, np.ndarray]], set[str]],
                        required: set[str], extra_rounds: int, where: str) -> None:
    """Run ``networks(round)`` (each with ``graph``, ``stimulus``, ``probes``, ``scenario``) in
    Lava and in the reference, round after round until ``required`` is covered; assert that no
    network differs and that every required corner was reached."""
    from snnc.backends.lava import LavaJob, run_jobs
    from snnc.simulators.reference import simulate

    failures: list[str] = []
    seen: set[str] = set()
    total = 0
    for round_ in range(1 + extra_rounds):
        if round_ and seen >= required:
            break
        nets = networks(round_)
        jobs = [LavaJob(n.graph, {"x": n.stimulus[:, 0]}, n.probes) for n in nets]
        lava_runs = run_jobs(jobs, steps)
        for i, (net, lava) in enumerate(zip(nets, lava_runs, strict=True)):
            res = simulate(net.graph, net.stimulus, steps, probes=net.probes)
            ref = {"y": res.outputs["y"][:, 0], **{p: a[:, 0] for p, a in res.probes.items()}}
            bad = first_mismatch(ref, lava)
            if bad:
                failures.append(f"network {total + i} ({net.scenario}, round {round_}): {bad}")
            seen |= coverage(net, ref)
        total += len(nets)
    assert not failures, f"{len(failures)} of {total} differ ({where}):\n" + "\n".join(failures)
    assert seen >= required, f"chunk never reached {sorted(required - seen)} ({where})"
