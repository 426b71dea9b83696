"""Collectors: how a Lava run's outputs and probed Vars are recorded, and the run configuration.

- ``"recorder"``: one ``Recorder`` process for everything (CPU only; joins independent
  networks into one run).
- ``"monitors"``: Lava's own processes, a sink ``RingBuffer`` per output and a ``Monitor`` per
  Var; what ``hw=True`` uses, since a custom Python process cannot read Vars on the chip.

Import only after ``_env.require_lava()``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Sequence
from typing import Any

import numpy as np

from ...errors import BackendError

LOIHI2_MISSING = (
    "hw=True runs the network on Loihi 2 through Lava's Loihi2HwCfg, which needs Intel's "
    "lava-loihi extension and access to Loihi 2 hardware (e.g. through the INRC); lava-loihi is "
    "not installed in this environment. Use hw=False to run Lava's bit-accurate CPU models.")


def run_config(hw: bool, procs: Sequence[Any], model_map: dict[Any, type]) -> Any:
    """``Loihi1SimCfg(select_tag="fixed_pt")`` on the CPU, ``Loihi2HwCfg`` with ``hw``.

    On the CPU the ProcessModel of every process in ``procs`` is chosen up front, once per
    process class, by Lava's own discovery and ``select`` rule: Lava would otherwise rediscover
    the models (importing every module of the process's package) once per process instance,
    which dominates compile time for networks of many small processes.
    """
    if not hw:
        from lava.magma.core.run_configs import Loihi1SimCfg

        cfg = Loihi1SimCfg(select_tag="fixed_pt")
        return Loihi1SimCfg(select_tag="fixed_pt",
                            exception_proc_model_map={**select_models(cfg, procs), **model_map})
    from lava.utils import loihi

    if not loihi.is_installed():
        raise BackendError(LOIHI2_MISSING)
    from lava.magma.core.run_configs import Loihi2HwCfg

    return Loihi2HwCfg(exception_proc_model_map=model_map)


def select_models(cfg: Any, procs: Sequence[Any]) -> dict[Any, type]:
    """{process instance: the ProcessModel Lava's ``cfg`` selects for its class}."""
    from lava.magma.compiler.compiler_graphs import ProcGroupDiGraphs

    by_class: dict[type, type] = {}
    chosen = {}
    for proc in procs:
        cls = type(proc)
        if cls not in by_class:
            by_class[cls] = cfg.select(proc, ProcGroupDiGraphs._find_proc_models(proc))
        chosen[proc] = by_class[cls]
    return chosen


def make_collector(kind: str, steps: int) -> Any:
    if kind == "recorder":
        return RecorderCollector(steps)
    if kind == "monitors":
        return MonitorCollector(steps)
    raise BackendError(f"unknown collector {kind!r}; use 'recorder' or 'monitors'")


class RecorderCollector:
    """Everything into one ``Recorder``: ``finish()`` creates and wires it, ``close()`` cleans."""

    def __init__(self, steps: int) -> None:
        self.steps = steps
        self.port_groups: list[list[Any]] = []
        self.variables: list[Any] = []
        self.recorder: Any = None
        self.tmpdir: str | None = None
        self._data: list[np.ndarray] | None = None

    def add_ports(self, ports: Sequence[Any]) -> tuple[str, int] | None:
        if not ports:
            return None
        self.port_groups.append(list(ports))
        return ("port", len(self.port_groups) - 1)

    def add_var(self, var: Any) -> tuple[str, int]:
        self.variables.append(var)
        return ("var", len(self.variables) - 1)

    def finish(self) -> Any:
        if not self.port_groups and not self.variables:
            return None
        from .recorder import Recorder

        self.tmpdir = tempfile.mkdtemp(prefix="snnc-lava-")
        self.recorder = Recorder(ports=self.port_groups, variables=self.variables,
                                 num_steps=self.steps, path=os.path.join(self.tmpdir, "rec.bin"))
        self.recorder.connect_targets()
        return self.recorder

    def close(self) -> None:
        if self.tmpdir is not None:
            shutil.rmtree(self.tmpdir, ignore_errors=True)
            self.tmpdir = None

    def lava_processes(self) -> list[Any]:
        return []

    def model_map(self) -> dict[Any, type]:
        # Lava looks the process *instance* up in this map (compiler_graphs._map_proc_to_model).
        return {self.recorder: self.recorder.make_model()} if self.recorder is not None else {}

    def read(self, handle: tuple[str, int] | None) -> np.ndarray | None:
        if handle is None:
            return None
        if self._data is None:
            self._data = self.recorder.data()
        kind, i = handle
        return self._data[i if kind == "port" else len(self.port_groups) + i]


class MonitorCollector:
    """A sink ``RingBuffer`` per recorded output, a ``Monitor`` per Var (Lava's own processes)."""

    def __init__(self, steps: int) -> None:
        self.steps = steps
        self.items: list[tuple[str, Any, Any]] = []

    def add_ports(self, ports: Sequence[Any]) -> int | None:
        from lava.proc.io.sink import RingBuffer

        if not ports:
            return None
        sink = RingBuffer(shape=tuple(ports[0].shape), buffer=self.steps)
        for port in ports:
            port.connect(sink.a_in)
        self.items.append(("sink", sink, None))
        return len(self.items) - 1

    def add_var(self, var: Any) -> int:
        from lava.proc.monitor.process import Monitor

        mon = Monitor()
        mon.probe(var, self.steps)
        self.items.append(("monitor", mon, var))
        return len(self.items) - 1

    def finish(self) -> Any:
        return self.items[0][1] if self.items else None

    def close(self) -> None:
        pass

    def lava_processes(self) -> list[Any]:
        return [proc for _, proc, _ in self.items]

    def model_map(self) -> dict[Any, type]:
        return {}

    def read(self, handle: int | None) -> np.ndarray | None:
        if handle is None:
            return None
        kind, proc, var = self.items[handle]
        if kind == "sink":
            data = np.moveaxis(np.asarray(proc.data.get()), -1, 0)
        else:
            data = np.asarray(proc.get_data()[var.process.name][var.name])
        return np.rint(data).astype(np.int64)
