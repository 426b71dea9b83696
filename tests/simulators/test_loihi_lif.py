"""The one definition of Loihi's LIF arithmetic (simulators/loihi_lif.py) against a plain
per-neuron transcription of shared/reference/loihi.md §3.2 (Python integers, branches, true
division), written here independently of the branch-free form the kernels share."""

from __future__ import annotations

import numpy as np
import pytest

from snnc.simulators.loihi_lif import V_MAX, lif_step, prog_lif_step


def _wrap32(x: int) -> int:
    return (x + 2**31) % 2**32 - 2**31


def _trunc_div(p: int, d: int) -> int:
    q = abs(p) // d
    return q if p >= 0 else -q


def _spec(x, u, v, r, fu, fv, bias, vth, ge=False, reset="hard", decay_reset=True):
    """One neuron, one step, as loihi.md states it."""
    x = _wrap32(x)
    u = _wrap32(_trunc_div(u * fu, 4096) + x * 64)
    if u > 2**23:
        u -= 2**24
    elif u <= -(2**23):
        u += 2**24
    v = _wrap32(_trunc_div(v * fv, 4096) + u + bias - r * vth)
    v = min(max(v, -V_MAX), V_MAX)
    s = v >= vth if ge else v > vth
    if s and reset == "hard":
        v = 0
    elif reset == "subtract":
        if decay_reset:
            v = v - vth if s else v
        else:
            r = int(s)
    return u, v, r, int(s)


def _draw(n: int, seed: int):
    rng = np.random.default_rng(seed)
    edges = np.array([0, 1, -1, 2**23 - 1, 2**23, -(2**23), -(2**23) - 1, 2**31 - 1, -(2**31)])
    x = np.where(rng.random(n) < 0.2, rng.choice(edges, n), rng.integers(-2**33, 2**33, n))
    u = np.where(rng.random(n) < 0.2, rng.choice(edges[:7], n), rng.integers(-2**23, 2**23, n))
    v = rng.integers(-2**23 + 1, 2**23, n)
    fu, fv = rng.integers(0, 4097, n), rng.integers(0, 4097, n)
    bias = rng.integers(-2**19, 2**19, n)
    vth = rng.integers(0, 2**17, n) << 6
    return x, u, v, fu, fv, bias, vth


def test_lif_step_equals_the_transcription() -> None:
    x, u, v, fu, fv, bias, vth = _draw(4000, 1)
    got = lif_step(x, u, v, fu, fv, bias, vth)
    spikes = 0
    for i in range(x.size):
        want = _spec(*(int(a[i]) for a in (x, u, v)), 0, *(int(a[i]) for a in (fu, fv, bias,
                                                                                  vth)))
        assert (int(got[0][i]), int(got[1][i]), int(got[2][i])) == (want[0], want[1], want[3])
        spikes += want[3]
    assert 0 < spikes < x.size


@pytest.mark.parametrize(("ge", "reset", "decay_reset"), [
    (False, "hard", True), (True, "hard", True), (False, "subtract", True),
    (True, "subtract", True), (False, "subtract", False), (True, "subtract", False)])
def test_programmable_step_equals_the_transcription(ge: bool, reset: str,
                                                    decay_reset: bool) -> None:
    x, u, v, fu, fv, bias, vth = _draw(3000, 2)
    r = np.random.default_rng(3).integers(0, 2, x.size)
    # v == vth exactly on some neurons (no input, no decay, bias = vth + r * vth), where > and
    # >= differ
    x[::7], u[::7], fv[::7] = 0, 0, 0
    bias[::7] = vth[::7] * (1 + r[::7])
    gu, gv, gr, gs = prog_lif_step(x, u, v, r, fu, fv, bias, vth, ge, reset, decay_reset)
    for i in range(x.size):
        want = _spec(int(x[i]), int(u[i]), int(v[i]), int(r[i]), int(fu[i]), int(fv[i]),
                     int(bias[i]), int(vth[i]), ge, reset, decay_reset)
        got = (int(gu[i]), int(gv[i]), int(np.asarray(gr)[i]), int(gs[i]))
        assert got == want, (i, got, want)
    other = prog_lif_step(x, u, v, r, fu, fv, bias, vth, not ge, reset, decay_reset)[3]
    assert (other != gs).any()  # the comparator mattered on this draw
