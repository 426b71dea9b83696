"""Built-in learning rules, each a ``LearningRule`` plus its documented intent.

- ``stdp``: pair-based STDP (Lava's STDPLoihi form): dw = A+ * y0 * x1 - A- * x0 * y1; a post
  spike potentiates by the pre trace, a pre spike depresses by the post trace.
- ``rstdp``: reward-modulated STDP: the STDP term accumulates in the tag t (eligibility, with
  decay), and the weight moves by t times the reward delivered on y2 (third factor) every epoch.
- ``error3f``: event-driven error rule: dw = 2^-s * x0 * (y1 - 64) - 2^-7 * u_k * w. A synapse
  changes by the error only in an epoch where its pre neuron spiked (an event), by the error
  delivered to its post neuron as y1 = 64 + e (offset so the 7-bit unsigned trace can carry a
  signed error); every 2^k epochs all weights decay by 1/128 (bounded weights, no saturation).
- ``bso``: flip learning for binary weights in the style of BSO: the same error term accumulates
  as momentum in the tag t (t <- t - t/2^m + 2^-s * x0 * (y1 - 64)); a weight flips sign when
  sign(w) * t < -flip_threshold, and its momentum restarts at zero. No latent real-valued weight.
  The flip is snnc's extension of Loihi's rule set (Loihi's sum-of-products cannot threshold a
  product); its cost is counted as one synaptic update per flip.
"""

from __future__ import annotations

from dataclasses import dataclass

from .engine import LearningRule

ERROR_OFFSET = 64
#: Post traces of three-factor rules hold the delivered value: Lava's Loihi3FLearningRule gives
#: them tau 65535 (a trace with tau 0 reads as zero after the epoch's first step).
HOLD = {"y1_tau": 65535, "y2_tau": 65535, "y3_tau": 65535}


@dataclass(frozen=True)
class RuleSpec:
    rule: LearningRule
    description: str
    third_factor: str | None = None  # None | "error" | "reward"
    flip_threshold: int | None = None


def stdp(a_plus: str = "2^-2", a_minus: str = "2^-2", tau: int = 10, seed: int = 0) -> RuleSpec:
    rule = LearningRule(dw=f"{a_plus}*y0*x1 - {a_minus}*x0*y1", x1_impulse=16, x1_tau=tau,
                        y1_impulse=16, y1_tau=tau, t_epoch=1, rng_seed=seed)
    return RuleSpec(rule, "pair-based STDP: potentiate on post spikes, depress on pre spikes")


def rstdp(lr: str = "2^-2", tau_e: str = "2^-3", seed: int = 0) -> RuleSpec:
    rule = LearningRule(dt=f"{lr}*y0*x1 - {lr}*x0*y1 - {tau_e}*u0*t", dw="u0*t*(y2-64)*2^-6",
                        x1_impulse=16, x1_tau=10, t_epoch=1, rng_seed=seed,
                        third_factor=True, **HOLD)
    return RuleSpec(rule, "reward-modulated STDP: eligibility in the tag, reward on y2",
                    third_factor="reward")


def error3f(shift: int = 3, decay_every: int | None = 7, seed: int = 0) -> RuleSpec:
    decay = f" - 2^-7*u{decay_every}*w" if decay_every is not None else ""
    rule = LearningRule(dw=f"2^-{shift}*x0*(y1-{ERROR_OFFSET}){decay}", x1_impulse=16, x1_tau=4,
                        t_epoch=1, rng_seed=seed, third_factor=True, **HOLD)
    return RuleSpec(rule, "event-driven error rule: updates only on pre-synaptic events",
                    third_factor="error")


def bso(shift: int = 1, momentum_shift: int = 4, flip_threshold: int = 24,
        seed: int = 0) -> RuleSpec:
    rule = LearningRule(dt=f"2^-{shift}*x0*(y1-{ERROR_OFFSET}) - 2^-{momentum_shift}*u0*t",
                        x1_impulse=16, x1_tau=4, t_epoch=1, rng_seed=seed, third_factor=True,
                        **HOLD)
    return RuleSpec(rule, "binary flip learning: momentum in the tag, flip past a threshold",
                    third_factor="error", flip_threshold=flip_threshold)


BUILTIN = {"stdp": stdp, "rstdp": rstdp, "error3f": error3f, "bso": bso}
