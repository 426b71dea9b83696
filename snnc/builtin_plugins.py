"""The built-in backends and simulators of ``snnc/registry.py`` (imports inside the methods).

Backends: ``loihi-sim`` and ``lava`` map the lowered graph onto chip cores (``program.h5``; the
Lava backend builds its processes from the program's graph when it runs), ``netx`` writes the
lowered graph as a lava-dl ``model.net``, ``nir`` the folded float graph as ``model.nir``.
Simulators: ``loihi-sim`` (the event simulator, counts chip events), ``reference`` (the reference
executor), ``lava`` (Lava's ``fixed_pt`` models) and ``brian2`` (Brian2, float graphs).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import BackendError, SnncError
from .registry import Needs


def _unavailable(name: str, exc: ImportError) -> BackendError:
    return BackendError(f"backend {name!r} unavailable ({exc}); install the matching extra "
                        "(see README)")


@dataclass(frozen=True)
class ChipBackend:
    """Maps the lowered graph onto a chip (``backends/loihi/mapper.py``) -> ``program.h5``."""

    name: str
    description: str

    def map(self, optimized: Any, chip: str | None, mapping: str | None = None) -> Any:
        """``mapping`` None: the chip's default (``mapper.default_strategy``: vendor on Loihi
        2, balanced on Loihi 1)."""
        from .backends.loihi.chips import DEFAULT_CHIP
        from .backends.loihi.mapper import map_graph

        rates = getattr(optimized, "layer_rates", lambda: None)()  # measured, or None: assumed
        return map_graph(optimized.lowered, chip or DEFAULT_CHIP, strategy=mapping, rates=rates)

    def write(self, result: Any, out: Path) -> list[str]:
        return [Path(result.program.save(out)).name]


@dataclass(frozen=True)
class NetxBackend:
    name: str = "netx"
    description: str = "lava-dl netx .net file of the lowered graph"

    def map(self, optimized: Any, chip: str | None) -> Any:
        return None

    def write(self, result: Any, out: Path) -> list[str]:
        try:
            from .backends.netx import write_netx
        except ImportError as exc:
            raise _unavailable(self.name, exc) from None
        return [write_netx(result.lowered, out / "model.net").name]


@dataclass(frozen=True)
class NirBackend:
    name: str = "nir"
    description: str = "NIR file of the folded float graph"

    def map(self, optimized: Any, chip: str | None) -> Any:
        return None

    def write(self, result: Any, out: Path) -> list[str]:
        from .ir.nir_io import write_nir

        graph = result.graph
        dt = graph.dt if graph.dt is not None else result.dt
        try:
            return [write_nir(graph, out / "model.nir", dt=dt).name]
        except ImportError as exc:
            raise _unavailable(self.name, exc) from None


LOIHI_SIM = ChipBackend("loihi-sim", "chip program (program.h5) for the event simulator")
LAVA = ChipBackend("lava", "chip program whose graph Lava runs with its fixed_pt models")
NETX = NetxBackend()
NIR = NirBackend()


def _no_options(name: str, options: dict[str, Any]) -> None:
    if options.get("lava_hw"):
        raise SnncError("--lava-hw selects Lava's Loihi 2 hardware run; use it with --backend "
                        "lava")
    if options.get("reset_interval"):
        raise SnncError(f"--reset-interval is only supported by --backend loihi-sim, not {name}")


@dataclass(frozen=True)
class EventSimulator:
    name: str = "loihi-sim"
    description: str = "event simulator on the mapped program, bit-exact, counts chip events"
    needs: Needs = "program"
    compile_target: str | None = "loihi-sim"

    def run(self, subject: Any, inputs: dict[str, Any], steps: int | None,
            probes: tuple[str, ...], **options: Any) -> Any:
        if options.get("lava_hw"):
            _no_options(self.name, {"lava_hw": True})
        from .simulators.event import simulate

        return simulate(subject, inputs, steps, probes,
                        reset_interval=int(options.get("reset_interval") or 0),
                        progress=bool(options.get("progress")))


@dataclass(frozen=True)
class ReferenceSimulator:
    name: str = "reference"
    description: str = "reference executor (float64 or exact integers) on the graph"
    needs: Needs = "graph"
    compile_target: str | None = None

    def run(self, subject: Any, inputs: dict[str, Any], steps: int | None,
            probes: tuple[str, ...], **options: Any) -> Any:
        _no_options(self.name, options)
        from .simulators.reference import simulate

        return simulate(subject, inputs, steps, probes)


@dataclass(frozen=True)
class LavaSimulator:
    name: str = "lava"
    description: str = "Lava fixed_pt models on the lowered graph (needs the Lava environment)"
    needs: Needs = "lowered"
    compile_target: str | None = "lava"

    def run(self, subject: Any, inputs: dict[str, Any], steps: int | None,
            probes: tuple[str, ...], **options: Any) -> Any:
        _no_options(self.name, {**options, "lava_hw": False})
        from .backends.lava import run_lava

        return run_lava(subject, inputs, steps, probes, hw=bool(options.get("lava_hw")))


@dataclass(frozen=True)
class Brian2Simulator:
    name: str = "brian2"
    description: str = "Brian2 network of a float graph (numpy target)"
    needs: Needs = "graph"
    compile_target: str | None = None

    def run(self, subject: Any, inputs: dict[str, Any], steps: int | None,
            probes: tuple[str, ...], **options: Any) -> Any:
        _no_options(self.name, options)
        from .simulators.brian2 import run_brian2

        return run_brian2(subject, inputs, steps, probes, target="numpy")


EVENT_SIM = EventSimulator()
REFERENCE_SIM = ReferenceSimulator()
LAVA_SIM = LavaSimulator()
BRIAN2_SIM = Brian2Simulator()
