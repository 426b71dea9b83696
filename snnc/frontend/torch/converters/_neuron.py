"""Shared helpers of the neuron converters."""

from __future__ import annotations

from typing import Any

import numpy as np

from ....errors import IRError
from ....ir import Scale
from ....ir.neurons import NeuronBase
from ..context import Context, Port
from ..quantgrid import to_numpy


def param(ctx: Context, value: Any, x: Port, what: str) -> np.ndarray:
    """A neuron parameter as an array that broadcasts to the per-sample shape of ``x``."""
    arr = np.asarray(to_numpy(value) if value is not None else 0.0, dtype=np.float64)
    while arr.ndim > len(x.shape) and arr.shape[0] == 1:
        arr = arr[0]
    try:
        np.broadcast_to(arr, x.shape)
    except ValueError:
        ctx.fail(f"{what} of shape {arr.shape} does not broadcast to the layer shape {x.shape}",
                 "scalar, per-channel or per-neuron parameters")
    return arr


def add_neuron(ctx: Context, path: str, cls: type[NeuronBase], x: Port, **params: Any) -> Port:
    """Add a neuron node of shape ``x.shape``; IR errors become located errors."""
    x = ctx.check_port(x)
    try:
        node = cls(shape=x.shape, **params)
    except IRError as exc:
        ctx.fail(f"parameters not representable: {exc}", "scalar or per-neuron parameters")
    return ctx.add(path, node, [x], spiking=bool(getattr(cls, "spiking", False)))


def graded(ctx: Context, path: str, spikes: Port, factor: Any) -> Port:
    """Multiply spikes by a graded-spike factor (a ``scale`` node) unless it is 1."""
    f = param(ctx, factor, spikes, "graded_spikes_factor")
    if np.all(f == 1):
        return spikes
    return ctx.add(f"{path}.graded", Scale(shape=spikes.shape, scale=f), [spikes])


def require_no_state(ctx: Context, state: Any, what: str) -> None:
    """Initial states passed into a neuron call must be absent or all zero."""
    if state is None:
        return
    if isinstance(state, Port):
        ctx.fail(f"{what} is passed in from a computation (a time loop inside forward?)",
                 "a forward that takes one time step, with the state kept by the module")
    arr = to_numpy(state) if not isinstance(state, tuple) else np.zeros(0)
    if arr.size and np.any(arr != 0):
        ctx.fail(f"{what} starts from a non-zero tensor", "zero initial state")
