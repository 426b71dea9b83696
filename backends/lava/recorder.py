"""``Recorder``: one Lava process that records many OutPorts and Vars at every time step.

Lava's own ``Monitor`` records a single Var or OutPort and costs one OS process each; a network
with a few probed layers would need dozens. ``Recorder`` records any number of them in one
process: an InPort per recorded output (received in the spike phase of step t, like a sink
RingBuffer) and a RefPort per Var (read in the post-management phase of step t, after every
process has run its spike phase, like ``Monitor``). Because one Recorder connects to every
network it observes, it also joins several independent networks into one process graph, so they
compile and run in a single Lava run.

The data goes straight into a memory-mapped file (``path``) that the caller reads after the run:
``Var.get()`` would move it through Lava's runtime one element per message, which takes longer
than the simulation itself.

Import this module only after ``_env.require_lava()``: it imports Lava at module level.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from lava.magma.core.decorator import implements, requires
from lava.magma.core.model.py.model import PyLoihiProcessModel
from lava.magma.core.model.py.ports import PyInPort, PyRefPort
from lava.magma.core.model.py.type import LavaPyType
from lava.magma.core.process.ports.ports import InPort, RefPort
from lava.magma.core.process.process import AbstractProcess
from lava.magma.core.resources import CPU
from lava.magma.core.sync.protocols.loihi_protocol import LoihiProtocol


class Recorder(AbstractProcess):
    """Records ``ports`` and ``variables`` for ``num_steps`` steps into the file ``path``.

    Each entry of ``ports`` is a non-empty list of OutPorts (possibly virtual) of one shape,
    recorded as their sum. After the run, ``data()`` returns one (num_steps, *shape) int64 array
    per target in Lava layout: the ports first, then the variables, in the order given.
    """

    def __init__(self, *, ports: Sequence[Sequence[Any]], variables: Sequence[Any],
                 num_steps: int, path: str) -> None:
        shapes = [tuple(g[0].shape) for g in ports] + [tuple(v.shape) for v in variables]
        super().__init__(n_in=len(ports), n_ref=len(variables), num_steps=num_steps, path=path,
                         shapes=shapes)
        for i, group in enumerate(ports):
            setattr(self, f"in_{i}", InPort(shape=tuple(group[0].shape)))
        for i, var in enumerate(variables):
            setattr(self, f"ref_{i}", RefPort(shape=tuple(var.shape)))
        self._targets = (list(ports), list(variables))
        _open(path, num_steps, shapes, "w+").flush()

    def connect_targets(self) -> None:
        """Wire the targets (call once, after ``__init__`` has registered the ports)."""
        ports, variables = self._targets
        for i, group in enumerate(ports):
            for port in group:
                port.connect(getattr(self, f"in_{i}"))
        for i, var in enumerate(variables):
            getattr(self, f"ref_{i}").connect_var(var)

    def data(self) -> list[np.ndarray]:
        p = self.proc_params
        mm = _open(p["path"], p["num_steps"], p["shapes"], "r")
        return [np.array(a) for a in _views(mm, p["num_steps"], p["shapes"])]

    def make_model(self) -> type:
        """A ProcessModel for exactly this Recorder's ports (Lava needs one attribute per port)."""
        attrs: dict[str, Any] = {}
        for i in range(self.proc_params["n_in"]):
            attrs[f"in_{i}"] = LavaPyType(PyInPort.VEC_DENSE, np.int64)
        for i in range(self.proc_params["n_ref"]):
            attrs[f"ref_{i}"] = LavaPyType(PyRefPort.VEC_DENSE, np.int32)
        cls = type("PyRecorderModel", (_PyRecorderBase,), attrs)
        return implements(proc=Recorder, protocol=LoihiProtocol)(requires(CPU)(cls))


def _open(path: str, steps: int, shapes: Sequence[tuple[int, ...]], mode: str) -> np.memmap:
    total = steps * sum(int(np.prod(s)) for s in shapes)
    return np.memmap(path, dtype=np.int64, mode=mode, shape=(max(total, 1),))


def _views(mm: np.memmap, steps: int, shapes: Sequence[tuple[int, ...]]) -> list[np.ndarray]:
    out, at = [], 0
    for s in shapes:
        n = steps * int(np.prod(s))
        out.append(mm[at:at + n].reshape(steps, *s))
        at += n
    return out


class _PyRecorderBase(PyLoihiProcessModel):
    """Shared behaviour of the generated Recorder models (runs in Lava's child process)."""

    def _buffers(self) -> list[np.ndarray]:
        if not hasattr(self, "_bufs"):
            p = self.proc_params
            self._mm = _open(p["path"], p["num_steps"], p["shapes"], "r+")
            self._bufs = _views(self._mm, p["num_steps"], p["shapes"])
        return self._bufs

    def run_spk(self) -> None:
        bufs, row = self._buffers(), self.time_step - 1
        for i in range(self.proc_params["n_in"]):
            bufs[i][row] = getattr(self, f"in_{i}").recv()
        if self.proc_params["n_ref"] == 0:
            self._flush_at_end()

    def post_guard(self) -> bool:
        return self.proc_params["n_ref"] > 0

    def run_post_mgmt(self) -> None:
        bufs, row, n_in = self._buffers(), self.time_step - 1, self.proc_params["n_in"]
        for i in range(self.proc_params["n_ref"]):
            bufs[n_in + i][row] = getattr(self, f"ref_{i}").read()
        self._flush_at_end()

    def _flush_at_end(self) -> None:
        # The parent maps the same file (MAP_SHARED), so it sees every write; flushing once
        # at the end also puts the data on disk.
        if self.time_step == self.proc_params["num_steps"]:
            self._mm.flush()
