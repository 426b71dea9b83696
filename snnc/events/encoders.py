"""Encoders from static data to time steps. Each returns a time-major array (T, *x.shape).

Inputs are intensities: ``rate`` and ``latency`` clip x to [0, 1] first.

- ``rate(x, T, seed)``: Bernoulli spikes, ``s[t] = 1 if u[t] < x else 0`` with ``u[t]`` uniform on
  [0, 1) from ``numpy.random.default_rng(seed)`` (one draw per step and element, in C order), so
  P(spike) = x at every step and the same seed gives the same spikes everywhere.
- ``latency(x, T)``: time to first spike, one spike per element at step
  ``round((1 - x) * (T - 1))``: the brightest inputs fire first (step 0), x = 1/2 in the
  middle; elements with ``x <= threshold`` (default 0) never fire.
- ``delta(x, threshold)``: for a sequence x (T, ...), ``+1`` where ``x[t] - x[t-1] >= threshold``
  and, with ``off=True``, ``-1`` where ``x[t] - x[t-1] <= -threshold`` (x[-1] = 0, so the first
  step reports what is there). A static input (``steps`` given) is a sequence that holds still:
  everything happens at step 0.
- ``direct(x, T)``: the analog value itself at every step (no spikes; Loihi 2's graded input or
  the reference simulator; ``snnc compile`` quantizes it through the input encoding).
"""

from __future__ import annotations

import numpy as np

from ..errors import SnncError

ENCODERS = ("rate", "latency", "delta", "direct")


def _steps(steps: int) -> int:
    if int(steps) < 1:
        raise SnncError(f"an encoder needs at least one step, got {steps}")
    return int(steps)


def rate(x: np.ndarray, steps: int, seed: int = 0) -> np.ndarray:
    p = np.clip(np.asarray(x, np.float64), 0.0, 1.0)
    u = np.random.default_rng(seed).random((_steps(steps), *p.shape))
    return (u < p).astype(np.uint8)


def latency(x: np.ndarray, steps: int, threshold: float = 0.0) -> np.ndarray:
    T = _steps(steps)
    v = np.clip(np.asarray(x, np.float64), 0.0, 1.0)
    t = np.rint((1.0 - v) * (T - 1)).astype(np.int64)
    out = np.zeros((T, *v.shape), np.uint8)
    fire = v > threshold
    idx = np.nonzero(fire)
    out[(t[idx], *idx)] = 1
    return out


def delta(x: np.ndarray, threshold: float, steps: int | None = None,
          off: bool = False) -> np.ndarray:
    if not threshold > 0:
        raise SnncError(f"the delta encoder's threshold must be positive, got {threshold}")
    seq = np.asarray(x, np.float64)
    if steps is not None:  # static input held for `steps` steps
        seq = np.broadcast_to(seq, (_steps(steps), *seq.shape))
    diff = np.diff(seq, axis=0, prepend=np.zeros((1, *seq.shape[1:])))
    out = (diff >= threshold).astype(np.int8)
    if off:
        out -= (diff <= -threshold).astype(np.int8)
    return out


def direct(x: np.ndarray, steps: int) -> np.ndarray:
    v = np.asarray(x, np.float64)
    return np.broadcast_to(v, (_steps(steps), *v.shape)).copy()


def encode(name: str, x: np.ndarray, steps: int, seed: int = 0,
           threshold: float | None = None) -> np.ndarray:
    """Dispatch by name; ``threshold`` is delta's (default 0.1) or latency's (default 0)."""
    if name == "rate":
        return rate(x, steps, seed)
    if name == "latency":
        return latency(x, steps, 0.0 if threshold is None else threshold)
    if name == "delta":
        return delta(x, 0.1 if threshold is None else threshold, steps)
    if name == "direct":
        return direct(x, steps)
    raise SnncError(f"unknown encoder {name!r}; use one of {', '.join(ENCODERS)}")
