"""Loihi-style learning engine for one plastic dense synapse block, with Lava's arithmetic.

Reproduces lava-nc 0.10.0's ``bit_approximate_loihi`` learning model (shared/reference/loihi.md §5),
including its random streams, so that weights agree with Lava bit for bit given the same seed.

Per time step ``t`` (Lava's ``time_step`` = t + 1), ``spike_phase``:
  1. emit ``a_buf`` (computed last step); accumulate this step's pre spikes through the current
     weights into ``a_buf`` (weight_exp shift, no clipping);
  2. pre spikes: a neuron that spiked before in this epoch gets its x1/x2 impulse now; record
     its within-epoch spike time ``tx``; advance the trace generators;
  3. post spikes (back-propagated from the post neuron): ``y0``, repeat impulses, ``ty``; with a
     third factor (3F rules) y1..y3 are then set to the delivered values; advance again.
``learning_phase`` runs when (t + 1) % t_epoch == 0: traces decay through the epoch with
stochastic rounding, impulses land at the recorded spike times, each rule (dw, dd, dt) is
evaluated as a sum of products in a 16-bit accumulator, stochastically rounded to the variable's
width and saturated.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ...ir.learning_rule import FACTOR_WIDTH, ParsedRule, Product, parse_rule
from ...ir.weights import truncate
from ..loihi_lif import shift

W_TRACE, ACC_U, S_MANT_W = 7, 15, 4
SYN_SHIFT = 7  # 16-bit signed accumulator - 9-bit signed variable


@dataclass(frozen=True)
class LearningRule:
    """A Loihi learning rule: sum-of-products strings plus trace and epoch parameters.

    ``third_factor=True`` makes it a three-factor rule: y1..y3 are delivered to the post side
    every step (reward or error) instead of being post-synaptic traces.
    """

    dw: str | None = None
    dd: str | None = None
    dt: str | None = None
    x1_impulse: float = 0.0
    x1_tau: int = 0
    x2_impulse: float = 0.0
    x2_tau: int = 0
    y1_impulse: float = 0.0
    y1_tau: int = 0
    y2_impulse: float = 0.0
    y2_tau: int = 0
    y3_impulse: float = 0.0
    y3_tau: int = 0
    t_epoch: int = 1
    rng_seed: int = 0
    third_factor: bool = False

    def parsed(self) -> dict[str, ParsedRule]:
        """Target variable ('weights', 'tag_2', 'tag_1') -> parsed rule, in Lava's order."""
        out = {}
        for target, text in (("weights", self.dw), ("tag_2", self.dd), ("tag_1", self.dt)):
            rule = parse_rule(text)
            if rule is not None:
                out[target] = rule
        return out


class _TraceRandom:
    """Two numpy PCG64 streams: a float for decay rounding, an int in [0, 128) for impulses."""

    def __init__(self, seed_decay: int, seed_impulse: int) -> None:
        self._rd = np.random.default_rng(seed_decay)
        self._ri = np.random.default_rng(seed_impulse)
        self.advance()

    def advance(self) -> None:
        self.decay = self._rd.random(1)[0]
        self.impulse = self._ri.integers(0, 2**W_TRACE, size=1, dtype=int)[0]


def _split_impulse(values: list[float]) -> tuple[np.ndarray, np.ndarray]:
    arr = np.asarray(values, dtype=np.float64)
    whole = np.floor(arr)
    return whole.astype(np.int64), np.round((arr - whole) * 256).astype(np.int64)


def _stoch_round(values: np.ndarray, rand: float, prob: np.ndarray) -> np.ndarray:
    return (values + (rand < prob).astype(np.int64)).astype(np.int64)


def _add_impulse(tr: np.ndarray, rand: float, whole: np.ndarray, frac: np.ndarray) -> np.ndarray:
    return np.clip(_stoch_round(tr + whole, rand, frac), 0, 2**W_TRACE - 1)


def _decay(tr: np.ndarray, tau: np.ndarray, rand: float) -> np.ndarray:
    scaled = np.exp(-1.0 / tau) * tr
    return _stoch_round(np.floor(scaled), rand, scaled % 1)


@dataclass
class PlasticDense:
    """State and arithmetic of one plastic dense block, weight (n_post, n_pre)."""

    weights: np.ndarray
    rule: LearningRule
    weight_exp: int = 0
    num_weight_bits: int = 8
    num_message_bits: int = 0
    sign_mode: str = "mixed"
    tag_1: np.ndarray | None = None
    tag_2: np.ndarray | None = None
    flip_threshold: int | None = None  # BSO-style flips (see builtin.bso); None: no flips
    counts: dict[str, int] = field(
        default_factory=lambda: {"updates": 0, "epochs": 0, "flips": 0})

    def __post_init__(self) -> None:
        self.weights = truncate(np.asarray(self.weights, np.int64), self.sign_mode,
                                self.num_weight_bits)
        n_post, n_pre = self.weights.shape
        z = np.zeros((n_post, n_pre), np.int64)
        self.tag_1 = z.copy() if self.tag_1 is None else np.asarray(self.tag_1, np.int64)
        self.tag_2 = z.copy() if self.tag_2 is None else np.asarray(self.tag_2, np.int64)
        self.x = np.zeros((2, n_pre), np.int64)
        self.y = np.zeros((3, n_post), np.int64)
        self.tx = np.zeros(n_pre, np.int64)
        self.ty = np.zeros(n_post, np.int64)
        self.a_buf = np.zeros(n_post, np.int64)
        r = self.rule
        self._xi, self._xf = _split_impulse([r.x1_impulse, r.x2_impulse])
        self._yi, self._yf = _split_impulse([r.y1_impulse, r.y2_impulse, r.y3_impulse])
        self._xtau = np.array([r.x1_tau, r.x2_tau])
        self._ytau = np.array([r.y1_tau, r.y2_tau, r.y3_tau])
        self._rules = r.parsed()
        self._xr = _TraceRandom(r.rng_seed, r.rng_seed + 1)
        self._yr = _TraceRandom(r.rng_seed + 2, r.rng_seed + 3)
        self._conn = np.random.default_rng(2)
        self._conn_rand = self._conn.random(1)[0]

    # ---- spike phase --------------------------------------------------------------------------

    def accumulate(self, s_in: np.ndarray) -> np.ndarray:
        """Send last step's ``a_buf`` and accumulate this step's input (no learning)."""
        out = self.a_buf.copy()
        s_in = np.asarray(s_in)
        if self.num_message_bits > 0:
            acc = self.weights @ s_in.astype(np.int64)
        else:
            acc = self.weights[:, s_in != 0].sum(axis=1)
        self.a_buf = shift(acc.astype(np.int64), self.weight_exp)
        return out

    def spike_phase(self, s_in: np.ndarray, bap: np.ndarray, t: int,
                    third: dict[int, np.ndarray] | None = None) -> np.ndarray:
        """Send last step's ``a_buf``; take pre spikes, then post spikes ``bap`` of step ``t``.

        ``third`` (three-factor rules) maps a post-trace row (0: y1, 1: y2, 2: y3) to the value
        delivered to each post neuron this step.
        """
        s_in = np.asarray(s_in)
        out = self.accumulate(s_in)
        ts = self._epoch_step(t)
        spiked = s_in != 0
        again = (self.tx > 0) & spiked
        for k in range(2):
            self.x[k, again] = _add_impulse(self.x[k, again], 0, self._xi[k], self._xf[k])
        self.tx[spiked] = ts
        self._advance_traces()
        self._post_spikes(np.asarray(bap) != 0, ts)
        if self.rule.third_factor and third is not None:
            for row, value in third.items():
                self.y[row] = np.broadcast_to(np.asarray(value, np.int64), self.y[row].shape)
        self._advance_traces()
        return out

    def _post_spikes(self, bap: np.ndarray, ts: int) -> None:
        again = (self.ty > 0) & bap
        self.y[:, again] = _add_impulse(self.y[:, again], self._yr.impulse, self._yi[:, None],
                                        self._yf[:, None])
        self.ty[bap] = ts

    def _advance_traces(self) -> None:
        self._xr.advance()
        self._yr.advance()

    def _epoch_step(self, t: int) -> int:
        ts = (t + 1) % self.rule.t_epoch
        return ts or self.rule.t_epoch

    # ---- learning phase -----------------------------------------------------------------------

    def is_learning_step(self, t: int) -> bool:
        return (t + 1) % self.rule.t_epoch == 0

    def learning_phase(self, t: int) -> None:
        """Apply the rules at the end of an epoch (call when ``is_learning_step(t)``)."""
        self._conn_rand = self._conn.random(1)[0]
        x0, y0 = self.tx > 0, self.ty > 0
        xh, yh = self._histories()
        self.x = xh[-1].copy()
        if not self.rule.third_factor:
            self.y = yh[-1].copy()
        args = self._applier_args(xh, yh, x0, y0, t)
        new = {name: self._apply(name, rule, args) for name, rule in self._rules.items()}
        for name, value in new.items():
            setattr(self, name, value)
        if self.flip_threshold is not None:
            self._flip()
        self.counts["epochs"] += 1
        n_x, n_y = int(np.count_nonzero(x0)), int(np.count_nonzero(y0))
        if any(p.dependency == "u" for r in self._rules.values() for p in r.products) and \
                args["u"]:
            self.counts["updates"] += self.weights.size
        else:
            self.counts["updates"] += n_x * len(self.ty) + n_y * len(self.tx) - n_x * n_y
        self.tx[:] = 0
        self.ty[:] = 0

    def _flip(self) -> None:
        """BSO-style: flip w where sign(w) * momentum < -threshold; restart that momentum."""
        flip = np.sign(self.weights) * self.tag_1 < -self.flip_threshold
        self.weights = np.where(flip, -self.weights, self.weights)
        self.tag_1 = np.where(flip, 0, self.tag_1)
        self.counts["flips"] += int(flip.sum())

    def _histories(self) -> tuple[np.ndarray, np.ndarray]:
        te = self.rule.t_epoch
        xh = np.zeros((te + 1, *self.x.shape), np.int64)
        yh = np.zeros((te + 1, *self.y.shape), np.int64)
        xh[0], yh[0] = self.x, self.y
        for step in range(1, te + 1):
            for hist, tau, rnd, spikes, whole, frac in (
                    (xh, self._xtau, self._xr, self.tx, self._xi, self._xf),
                    (yh, self._ytau, self._yr, self.ty, self._yi, self._yf)):
                live = tau != 0
                hist[step][live] = _decay(hist[step - 1][live], tau[live][:, None], rnd.decay)
                ids = np.where(spikes == step)[0]
                hist[step][:, ids] = _add_impulse(hist[step][:, ids], rnd.impulse,
                                                  whole[:, None], frac[:, None])
        return xh, yh

    def _applier_args(self, xh: np.ndarray, yh: np.ndarray, x0: np.ndarray, y0: np.ndarray,
                      t: int) -> dict[str, object]:
        tx, ty = self.tx, self.ty
        args: dict[str, object] = {"x0": x0[None, :].astype(np.int64),
                                   "y0": y0[:, None].astype(np.int64),
                                   "w": self.weights, "d": self.tag_2, "t": self.tag_1, "u": 0}
        decim = next((r.decimate_exponent for r in self._rules.values()
                      if r.decimate_exponent is not None), None)
        if decim is not None:
            args["u"] = int(int((t + 1) / self.rule.t_epoch) % 2**decim == 0)
        n_pre = len(tx)
        for k, name in enumerate(("x1", "x2")):
            args[f"{name}_x0"] = xh[tx, k, np.arange(n_pre)][None, :]
            args[f"{name}_y0"] = xh[ty, k]  # (n_post, n_pre)
            args[f"{name}_u"] = xh[-1, k][None, :]
        n_post = len(ty)
        for k, name in enumerate(("y1", "y2", "y3")):
            args[f"{name}_x0"] = yh[tx, k].T  # (n_post, n_pre)
            args[f"{name}_y0"] = yh[ty, k, np.arange(n_post)][:, None]
            args[f"{name}_u"] = yh[-1, k][:, None]
        return args

    def _factor(self, dep: str, f: object, args: dict[str, object]) -> np.ndarray:
        const = f.const or 0  # type: ignore[attr-defined]
        var = f.var  # type: ignore[attr-defined]
        if var == "C":
            return np.asarray(const)
        if var in ("x0", "y0"):
            return np.asarray(args[var]) + const
        if var in ("w", "d", "t"):
            val = np.asarray(args[var]) + const
            return np.sign(val) if f.sgn else val  # type: ignore[attr-defined]
        return np.asarray(args[f"{var}_{dep}"]) + const

    def _product(self, p: Product, args: dict[str, object]) -> np.ndarray:
        cur = np.ones(self.weights.shape, np.int32) * np.asarray(args[p.dependency], np.int32)
        width = S_MANT_W
        for f in p.factors:
            w = FACTOR_WIDTH[f.var]
            width += w
            val = np.clip(self._factor(p.dependency, f, args), -(2**w), 2**w - 1)
            cur = (cur * np.asarray(val).astype(np.int32)).astype(np.int32)
        cur = (cur * np.int32(p.mantissa)).astype(np.int32)
        cur = np.right_shift(cur, max(0, width - ACC_U))
        cur = np.left_shift(cur, p.stored_exp)
        return np.clip(cur, -(2**ACC_U) - 1, 2**ACC_U - 1)

    def _apply(self, name: str, rule: ParsedRule, args: dict[str, object]) -> np.ndarray:
        acc = getattr(self, name).astype(np.int64) << SYN_SHIFT
        for p in rule.products:
            acc = np.clip(acc + self._product(p, args), -(2**ACC_U) - 1, 2**ACC_U - 1)
        if name == "weights" and self.sign_mode != "mixed":
            acc = np.maximum(0, acc) if self.sign_mode == "exc" else np.minimum(0, acc)
        if name == "tag_2":
            acc = np.maximum(0, acc)
        unit = 2 ** (ACC_U - 8)
        q = acc / unit
        acc = (_stoch_round(np.floor(q), self._conn_rand, q % 1) * unit).astype(np.int64)
        val = acc >> SYN_SHIFT
        if name == "weights":
            lo, hi = {"mixed": (-256, 255), "exc": (0, 255), "inh": (-255, 0)}[self.sign_mode]
            return np.clip(val, lo, hi)
        if name == "tag_2":
            return np.clip(val, 0, 255)
        return np.clip(val, -257, 255)
