"""Time loops written inside ``forward`` (snnTorch tutorial style), unrolled by torch.fx.

``for step in range(num_steps)`` with a constant ``num_steps`` traces into ``num_steps`` copies
of the step. When every stateful neuron module is called the same number of times K > 1, call k
of each neuron is step k: snnc converts step 0 and drops the rest. Values computed from step
k >= 1 become ``StepValue(k)`` markers; repeated stateless calls on the same operands (``fc1(x)``
with direct encoding) are shared; ``torch.stack(per_step_list, dim=0)`` returns the step-0 value,
the per-step output. An input indexed as ``x[step]`` is time-major (T, B, ...).
"""

from __future__ import annotations

import operator
from collections import Counter
from dataclasses import dataclass
from typing import Any

import torch
from torch import fx

from ...errors import UnsupportedOpError
from . import converters as reg
from .context import Port, State


@dataclass(frozen=True)
class StepValue:
    """A value of time step ``step`` >= 1 of an unrolled loop (not converted)."""

    step: int


def loop_steps(gm: fx.GraphModule) -> dict[fx.Node, int]:
    """Call node -> step index for neurons called several times; {} without a time loop."""
    calls: dict[str, list[fx.Node]] = {}
    for n in gm.graph.nodes:
        if n.op == "call_module" and reg.is_stateful(gm.get_submodule(n.target)):
            calls.setdefault(n.target, []).append(n)
    counts = Counter(len(v) for v in calls.values())
    if not calls or set(counts) == {1}:
        return {}
    if len(counts) > 1:
        per = ", ".join(f"{k}: {len(v)}" for k, v in calls.items())
        raise UnsupportedOpError(
            f"forward calls its neurons different numbers of times ({per}): snnc reads a loop "
            "over time only when every neuron runs once per step. Supported instead: a "
            "forward that takes one time step, or a loop calling each neuron once per step.")
    return {node: k for nodes in calls.values() for k, node in enumerate(nodes)}


def time_indexed_length(gm: fx.GraphModule) -> int | None:
    """T when the first input is indexed ``x[step]`` with constant ints, else None."""
    ph = next((n for n in gm.graph.nodes if n.op == "placeholder"), None)
    idx = [u.args[1] for u in (ph.users if ph is not None else ())
           if u.op == "call_function" and u.target is operator.getitem
           and isinstance(u.args[1], int)]
    return max(idx) + 1 if idx else None


def max_step(value: Any) -> int:
    if isinstance(value, StepValue):
        return value.step
    if isinstance(value, list | tuple):
        return max((max_step(v) for v in value), default=0)
    if isinstance(value, dict):
        return max((max_step(v) for v in value.values()), default=0)
    return 0


def is_time_stack(n: fx.Node, args: list[Any], kwargs: dict[str, Any]) -> bool:
    """``torch.stack(per_step_values, dim=0)`` over an unrolled loop."""
    if n.op != "call_function" or n.target is not torch.stack or not args:
        return False
    seq = args[0]
    return isinstance(seq, list | tuple) and len(seq) > 1 and max_step(seq[1:]) > 0


def time_stack(ctx: Any, args: list[Any], kwargs: dict[str, Any]) -> Any:
    dim = args[1] if len(args) > 1 else kwargs.get("dim", 0)
    first = args[0][0]
    if dim != 0 or not isinstance(first, Port | State):
        ctx.fail(f"stacks per-step values along dim {dim}", "torch.stack(values, dim=0)")
    if isinstance(first, Port):  # now (T, B, ...): a final sum(0)/mean(0) is the readout
        return Port(first.node, first.shape, 2, first.spiking)
    return first


def cse_key(n: fx.Node, args: list[Any], kwargs: dict[str, Any]) -> Any:
    """A key under which repeated stateless calls share one result (None: do not share)."""
    def freeze(v: Any) -> Any:
        if isinstance(v, list | tuple):
            return tuple(freeze(x) for x in v)
        if isinstance(v, dict):
            return tuple(sorted((k, freeze(x)) for k, x in v.items()))
        if isinstance(v, Port | State | int | float | str | bool | type(None)):
            return v
        return ("id", id(v))

    if n.op not in ("call_module", "call_function", "call_method"):
        return None
    return (n.op, n.target, freeze(args), freeze(kwargs))
