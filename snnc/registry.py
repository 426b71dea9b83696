"""Backends and simulators: two protocols, one registry (targets, ``simulate``, ``snnc list``).

A ``Backend`` turns an optimized graph into what a target ships: ``map`` builds the chip program
(or returns None for file formats) and ``write`` puts the target's files into a directory. A
``Simulator`` runs a model on an input; ``needs`` says what it runs on: ``"program"`` (a mapped
``ChipProgram``), ``"lowered"`` (a graph of ``loihi.*`` ops) or ``"graph"`` (the graph as
loaded). One name may be both (``lava``, ``loihi-sim``).

Built-ins are import paths (``builtin_plugins.py``), imported on first use. Third-party packages
add theirs through the entry-point groups ``snnc.backends`` and ``snnc.simulators`` (name = the
CLI name, value = ``"package.module:attr"``, an instance of the protocol or a class building
one), like passes (``snnc.passes``).
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

from .errors import BackendError, SnncError

log = logging.getLogger(__name__)
BACKEND_GROUP = "snnc.backends"
SIMULATOR_GROUP = "snnc.simulators"
Needs = Literal["program", "lowered", "graph"]


@runtime_checkable
class Backend(Protocol):
    """What a compile target hands its optimized graph to."""

    name: str
    description: str

    def map(self, optimized: Any, chip: str | None) -> Any:
        """The ``ChipProgram`` of ``optimized`` (its ``lowered`` graph) on ``chip``, or None."""

    def write(self, result: Any, out: Path) -> list[str]:
        """Write the target's files for a ``CompileResult`` into ``out``; their names."""


@runtime_checkable
class Simulator(Protocol):
    """What ``snnc simulate --backend NAME`` runs."""

    name: str
    description: str
    needs: Needs
    #: the target whose stages turn an uncompiled model into what ``run`` needs
    compile_target: str | None

    def run(self, subject: Any, inputs: dict[str, Any], steps: int | None,
            probes: tuple[str, ...], **options: Any) -> Any:
        """A ``SimResult`` (time-major outputs, probes, and counters if it counts)."""


BUILTIN_BACKENDS: dict[str, str] = {
    "loihi-sim": "snnc.builtin_plugins:LOIHI_SIM",
    "lava": "snnc.builtin_plugins:LAVA",
    "netx": "snnc.builtin_plugins:NETX",
    "nir": "snnc.builtin_plugins:NIR",
}
BUILTIN_SIMULATORS: dict[str, str] = {
    "loihi-sim": "snnc.builtin_plugins:EVENT_SIM",
    "reference": "snnc.builtin_plugins:REFERENCE_SIM",
    "lava": "snnc.builtin_plugins:LAVA_SIM",
    "brian2": "snnc.builtin_plugins:BRIAN2_SIM",
}


@dataclass
class _Table:
    kind: str
    protocol: type
    paths: dict[str, str]
    loaded: dict[str, Any] = field(default_factory=dict)
    #: called once, before the first look-up of a name that is not built in (entry points)
    extend: Any = None

    def _extended(self) -> dict[str, str]:
        if self.extend is not None:
            extend, self.extend = self.extend, None
            extend()
        return self.paths

    def names(self) -> list[str]:
        return list(self._extended())

    def has(self, name: str) -> bool:
        return name in self.paths or name in self._extended()

    def get(self, name: str) -> Any:
        if name in self.loaded:
            return self.loaded[name]
        if name not in self.paths and name not in self._extended():
            raise SnncError(f"unknown {self.kind} {name!r}; available: {', '.join(self.paths)} "
                            f"(see `snnc list backends`)")
        module, _, attr = self.paths[name].partition(":")
        try:
            obj = getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError) as exc:
            raise BackendError(f"{self.kind} {name!r} ({self.paths[name]}) cannot be loaded: "
                               f"{exc}") from None
        obj = obj() if isinstance(obj, type) else obj
        if not isinstance(obj, self.protocol):
            raise BackendError(f"{self.kind} {name!r} ({self.paths[name]}) does not implement "
                               f"the {self.protocol.__name__} protocol (see snnc/registry.py)")
        self.loaded[name] = obj
        return obj


class Registry:
    """Backends and simulators by name; ``default_registry()`` adds the entry points."""

    def __init__(self, backends: dict[str, str] | None = None,
                 simulators: dict[str, str] | None = None) -> None:
        self._backends = _Table("backend", Backend, dict(BUILTIN_BACKENDS if backends is None
                                                         else backends))
        self._simulators = _Table("simulator", Simulator,
                                  dict(BUILTIN_SIMULATORS if simulators is None else simulators))

    def add_backend(self, name: str, path: str) -> None:
        self._backends.paths[name] = path

    def add_simulator(self, name: str, path: str) -> None:
        self._simulators.paths[name] = path

    def backend(self, name: str) -> Backend:
        return self._backends.get(name)

    def simulator(self, name: str) -> Simulator:
        return self._simulators.get(name)

    def backend_names(self) -> list[str]:
        return self._backends.names()

    def simulator_names(self) -> list[str]:
        return self._simulators.names()

    def has_simulator(self, name: str) -> bool:
        return self._simulators.has(name)

    def describe(self) -> list[tuple[str, str, str]]:
        """(name, roles, description) of every backend and simulator, in registry order."""
        rows: dict[str, tuple[list[str], str]] = {}
        for name in self.backend_names():
            rows[name] = (["compile"], _description(self._backends, name))
        for name in self.simulator_names():
            roles, text = rows.get(name, ([], ""))
            rows[name] = ([*roles, "simulate"], text or _description(self._simulators, name))
        return [(name, "/".join(roles), text) for name, (roles, text) in rows.items()]


def _description(table: _Table, name: str) -> str:
    try:
        return str(table.get(name).description)
    except SnncError as exc:
        return f"(unavailable: {exc})"


def default_registry() -> Registry:
    """Built-ins plus the backends and simulators of installed packages (entry points).

    The installed packages' entry points are read only when a name that is not built in is
    looked up or the names are listed: scanning every distribution's metadata costs tens of
    milliseconds, a large part of a ``snnc simulate`` start-up that needs only built-ins."""
    reg = Registry()
    for group, builtin, table in ((BACKEND_GROUP, BUILTIN_BACKENDS, reg._backends),
                                  (SIMULATOR_GROUP, BUILTIN_SIMULATORS, reg._simulators)):
        table.extend = _entry_point_reader(group, builtin, table.paths)
    return reg


def _entry_point_reader(group: str, builtin: dict[str, str], paths: dict[str, str]) -> Any:
    def read() -> None:
        import importlib.metadata

        for ep in importlib.metadata.entry_points(group=group):
            if ep.name in builtin:
                log.warning("entry point %s=%s ignored: %r is built in", ep.name, ep.value,
                            ep.name)
                continue
            paths[ep.name] = ep.value

    return read
