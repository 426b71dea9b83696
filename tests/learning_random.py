"""Random on-chip learning configurations, and snnc's engine run on one of them.

A ``LearnCase`` is one plastic synapse block with everything Lava's ``LearningDense`` needs: a
learning rule (sum-of-products strings drawn by ``random_rule`` from the grammar both Lava and
snnc accept: x0/y0/u<k> dependencies, traces x1 x2 y1 y2 y3, synaptic variables w d t,
``(var ± C)``, ``sgn(w|d|t ± C)``, a dependency used as a factor, scale literals ``m*2^e``,
``2^e`` and ``m`` in any position), trace impulses (with fraction bits) and taus (0 included),
t_epoch, seed, initial weights and tags, pre spikes (binary or graded) and the post side: a
``loihi.lif`` population fed by the block (``post is None``) or post spikes given directly.
Three-factor cases also carry the y1..y3 values delivered every step.

``run_engine`` runs snnc's ``PlasticDense`` on a case and returns its state after every step.
Only NumPy and snnc: usable in both environments.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from snnc.ir import LoihiLIF
from snnc.simulators.kernels import KERNELS
from snnc.simulators.learning.engine import LearningRule, PlasticDense
from snnc.simulators.reference import simulate  # noqa: F401  (registers the kernels)

RECORDED = ("weights", "tag_1", "tag_2", "x1", "x2", "y1", "y2", "y3", "a_out")
TRACES_2F = ("x1", "x2", "y1", "y2", "y3")
SYN = ("w", "d", "t")
#: Loihi3FLearningRule's post traces: impulse 0, tau 65535 (the delivered value is held)
HOLD_3F = {"y1_impulse": 0.0, "y1_tau": 65535, "y2_impulse": 0.0, "y2_tau": 65535,
           "y3_impulse": 0.0, "y3_tau": 65535}


@dataclass
class LearnCase:
    name: str
    rule: LearningRule
    weights: np.ndarray  # (n_post, n_pre)
    pre: np.ndarray  # (T, n_pre): 0/1, or graded payloads when num_message_bits > 0
    post: np.ndarray | None = None  # (T, n_post) post spikes; None: a loihi.lif post population
    lif: dict = field(default_factory=lambda: {"du": 4095, "dv": 0, "vth": 0})
    third: np.ndarray | None = None  # (T, 3, n_post) y1..y3 delivered (three-factor rules)
    sign_mode: str = "mixed"
    weight_exp: int = 0
    num_weight_bits: int = 8
    num_message_bits: int = 0
    tag_1: np.ndarray | None = None
    tag_2: np.ndarray | None = None

    @property
    def steps(self) -> int:
        return self.pre.shape[0]


def _scale(rng: np.random.Generator) -> str:
    """A scale literal in one of Lava's forms; the product's exponent stays in range."""
    exp = int(rng.integers(-7, 2))
    kind = rng.integers(5)
    if kind == 0:
        return f"2^{exp}"
    if kind == 1:
        return f"{int(rng.integers(1, 8))}*2^{exp}"
    if kind == 2:  # an even mantissa that Loihi normalises: 16*2^-6 -> 4*2^-4
        mant, halvings = [(8, 1), (12, 1), (16, 2), (24, 2), (32, 3)][int(rng.integers(5))]
        return f"{mant}*2^{exp - halvings}"
    if kind == 3:
        return str(int(rng.integers(1, 4)))
    return f"2^{exp}*{int(rng.integers(1, 4))}"  # two literals, multiplied together


def _factor(rng: np.random.Generator, variables: tuple[str, ...]) -> str:
    kind = rng.choice(["var", "bracket", "sgn", "dep"], p=[0.45, 0.3, 0.15, 0.1])
    if kind == "dep":  # x0 or y0 as a 1-bit factor, possibly with a constant
        d = str(rng.choice(["x0", "y0"]))
        return d if rng.random() < 0.7 else f"({d}{rng.choice(['+', '-'])}{rng.integers(4)})"
    if kind == "sgn":
        var = str(rng.choice(SYN))
        c = int(rng.integers(0, 100))
        return f"sgn({var})" if c < 30 else f"sgn({var}{rng.choice(['+', '-'])}{c})"
    var = str(rng.choice(variables))
    if kind == "bracket":
        return f"({var}{rng.choice(['+', '-'])}{int(rng.integers(0, 128))})"
    return var


def random_product(rng: np.random.Generator, variables: tuple[str, ...], k: int) -> str:
    dep = str(rng.choice(["x0", "y0", f"u{k}"], p=[0.4, 0.4, 0.2]))
    n = int(rng.choice(5, p=[0.2, 0.35, 0.3, 0.1, 0.05]))  # 4 factors can wrap int32
    terms = [dep] + [_factor(rng, variables) for _ in range(n)]
    if rng.random() < 0.85:
        terms.insert(int(rng.integers(len(terms) + 1)), _scale(rng))
    return "*".join(terms)


def random_sum(rng: np.random.Generator, variables: tuple[str, ...], k: int) -> str:
    out = ""
    for i in range(int(rng.integers(1, 4))):
        sign = rng.choice(["+", "-"])
        out += ("-" if sign == "-" else "") if i == 0 else f" {sign} "
        out += random_product(rng, variables, k)
    return out


def random_rule(rng: np.random.Generator, third_factor: bool, seed: int) -> LearningRule:
    """dw always, dd and dt sometimes; random impulses (1/16 steps) and taus (0 = no decay)."""
    k = int(rng.integers(0, 4))
    targets = {"dw": random_sum(rng, TRACES_2F + SYN, k)}
    for name in ("dd", "dt"):
        if rng.random() < 0.4:
            targets[name] = random_sum(rng, TRACES_2F + SYN, k)

    def impulse() -> float:
        return float(rng.integers(0, 48 * 16)) / 16 if rng.random() < 0.85 else 0.0

    def tau() -> int:
        return int(rng.choice([0, int(rng.integers(1, 8)), int(rng.integers(8, 64)), 200],
                              p=[0.1, 0.3, 0.5, 0.1]))

    traces = {f"{n}_{p}": impulse() if p == "impulse" else tau()
              for n in ("x1", "x2", "y1", "y2", "y3") for p in ("impulse", "tau")}
    if third_factor:
        traces.update(HOLD_3F)
    return LearningRule(**targets, **traces, t_epoch=int(rng.integers(1, 5)), rng_seed=seed,
                        third_factor=third_factor)


def _spikes(rng: np.random.Generator, steps: int, n: int) -> np.ndarray:
    return (rng.random((steps, n)) < rng.choice([0.1, 0.25, 0.5])).astype(np.int64)


def random_case(rng: np.random.Generator, name: str, steps: int) -> LearnCase:
    """Shapes up to 5x4, mixed/excitatory/inhibitory weights, LIF-driven or given post spikes."""
    n_post, n_pre = int(rng.integers(1, 6)), int(rng.integers(1, 6))
    third = rng.random() < 0.3
    rule = random_rule(rng, third, seed=int(rng.integers(0, 2**20)))
    mode = str(rng.choice(["mixed", "exc", "inh"], p=[0.6, 0.3, 0.1]))
    lo, hi = {"mixed": (-256, 256), "exc": (0, 256), "inh": (-255, 1)}[mode]
    if mode == "mixed" and rng.random() < 0.4:
        lo = 0  # excitatory-only values in a mixed-sign block
    elif mode != "mixed" and rng.random() < 0.2:
        lo, hi = -256, 256  # wrong-signed weights: Lava keeps them until dw saturates them
    case = LearnCase(name=name, rule=rule, weights=rng.integers(lo, hi, (n_post, n_pre)),
                     pre=_spikes(rng, steps, n_pre), sign_mode=mode,
                     weight_exp=int(rng.integers(-2, 3)),
                     num_weight_bits=int(rng.choice([8, 8, 7, 6])))
    if rng.random() < 0.2:
        case.num_message_bits = 8
        case.pre = case.pre * rng.integers(1, 256, case.pre.shape)
    if rng.random() < 0.5:
        case.post = _spikes(rng, steps, n_post)
    else:
        case.lif = {"du": int(rng.integers(0, 4096)), "dv": int(rng.integers(0, 4096)),
                    "vth": int(rng.integers(0, 20)), "bias_mant": int(rng.integers(0, 200)),
                    "bias_exp": int(rng.integers(0, 4))}
    if third:
        lo, hi = (0, 128) if rng.random() < 0.8 else (-40, 200)  # Lava does not clip them
        case.third = rng.integers(lo, hi, (steps, 3, n_post))
    if rng.random() < 0.5:
        case.tag_1 = rng.integers(-200, 200, (n_post, n_pre))
        case.tag_2 = rng.integers(0, 200, (n_post, n_pre))
    return case


def run_engine(case: LearnCase, post: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """snnc's engine on ``case``: {name in RECORDED or "post": (T, ...) after every step}.

    Post spikes come from ``post`` if given, else ``case.post``, else from snnc's own
    ``loihi.lif`` kernel fed by the block (the whole loop).
    """
    syn = PlasticDense(weights=case.weights, rule=case.rule, weight_exp=case.weight_exp,
                       num_weight_bits=case.num_weight_bits,
                       num_message_bits=case.num_message_bits, sign_mode=case.sign_mode,
                       tag_1=case.tag_1, tag_2=case.tag_2)
    given = post if post is not None else case.post
    n_post = case.weights.shape[0]
    lif = LoihiLIF(shape=(n_post,), **case.lif)
    kern = KERNELS["loihi.lif"]
    state = kern.init(lif, 1)
    rec: dict[str, list[np.ndarray]] = {k: [] for k in (*RECORDED, "post")}
    for t in range(case.steps):
        if given is None:
            spikes, state = kern.step(lif, syn.a_buf[None], state, t)
            bap = spikes[0]
        else:
            bap = given[t]
        third = None if case.third is None else {k: case.third[t, k] for k in range(3)}
        a_out = syn.spike_phase(case.pre[t], bap, t, third)
        if syn.is_learning_step(t):
            syn.learning_phase(t)
        values = {"weights": syn.weights, "tag_1": syn.tag_1, "tag_2": syn.tag_2,
                  "x1": syn.x[0], "x2": syn.x[1], "y1": syn.y[0], "y2": syn.y[1],
                  "y3": syn.y[2], "a_out": a_out, "post": bap}
        for k, v in values.items():
            rec[k].append(np.array(v, np.int64))
    return {k: np.stack(v) for k, v in rec.items()}
