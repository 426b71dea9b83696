"""Compilation targets as data: a name, a pass pipeline, a chip spec name and a backend.

``TARGETS`` is the registry; ``get_target(name)`` looks one up. ``emit(target, result, out)``
is the one place where a compile result is handed to a backend writer or to the Loihi mapper
(``backends.loihi.mapper.map_graph`` -> ``ChipProgram.save``), all imported lazily:

- ``loihi-sim`` (default): lowered graph mapped onto the chip -> ``program.h5`` for the event
  simulator (``snnc simulate OUT``);
- ``lava``: the same lowered graph and program; ``backends/lava`` builds the Lava processes from
  ``graph.lowered.snnc`` when it runs (Loihi 2 chip spec);
- ``netx``: the lowered graph written as a lava-dl ``model.net``;
- ``nir``: the folded float graph (no quantization) written as ``model.nir``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import BackendError, SnncError
from .passes import DEFAULT_PIPELINE, FLOAT_PIPELINE

#: netx stores effective integer weights in [-256, 254] and biases with exponent 6.
NETX_PIPELINE = DEFAULT_PIPELINE.replace("quantize-loihi",
                                         "quantize-loihi{max_weight=254,bias_exp=6}")


@dataclass(frozen=True)
class Target:
    name: str
    description: str
    pipeline: str
    chip: str | None
    backend: str  # "loihi" | "lava" | "netx" | "nir"

    @property
    def lowers(self) -> bool:
        return "lower-loihi" in self.pipeline


TARGETS: dict[str, Target] = {t.name: t for t in (
    Target("loihi-sim", "Bit-exact simulated Loihi: lowered graph mapped onto chip cores "
           "(program.h5, event simulator).", DEFAULT_PIPELINE, "loihi1", "loihi"),
    Target("lava", "Lava processes with fixed_pt models (CPU) or Loihi 2; same lowered graph.",
           DEFAULT_PIPELINE, "loihi2", "lava"),
    Target("netx", "lava-dl netx .net file of the lowered graph.", NETX_PIPELINE, "loihi2",
           "netx"),
    Target("nir", "NIR file of the folded float graph (no quantization).", FLOAT_PIPELINE, None,
           "nir"),
)}

DEFAULT_TARGET = "loihi-sim"


def get_target(name: str) -> Target:
    if name not in TARGETS:
        raise SnncError(f"unknown target {name!r}; available targets: {', '.join(TARGETS)} "
                        "(see `snnc list targets`)")
    return TARGETS[name]


def emit(target: Target, result: Any, out: Path, chip: str | None = None,
         dt: float | None = None) -> dict[str, Any]:
    """Write ``target``'s artifacts for a ``CompileResult`` into directory ``out``; returns a
    summary (files written, mapping figures). Backends that are not installed are reported in
    the summary instead of failing the compile."""
    try:
        if target.backend in ("loihi", "lava"):
            return _map(result, out, chip or target.chip)
        if target.backend == "netx":
            from .backends.netx import write_netx

            return {"files": [write_netx(_lowered(result), out / "model.net").name]}
        if target.backend == "nir":
            from .ir.nir_io import write_nir

            graph = result.graph
            dt = graph.dt if graph.dt is not None else dt
            return {"files": [write_nir(graph, out / "model.nir", dt=dt).name]}
    except ImportError as exc:
        raise BackendError(f"target {target.name!r}: backend unavailable ({exc}); install the "
                           "matching extra (see README)") from None
    raise SnncError(f"target {target.name!r}: unknown backend {target.backend!r}")


def _lowered(result: Any) -> Any:
    if result.lowered is None:
        raise SnncError("this target needs the lowered graph, but the pipeline stopped before "
                        "lower-loihi (remove --stop-after or add lower-loihi to --pipeline)")
    return result.lowered


def _map(result: Any, out: Path, chip: str | None) -> dict[str, Any]:
    from .backends.loihi.mapper import map_graph

    program = map_graph(_lowered(result), chip or "loihi1")
    result.program = program
    path = program.save(out)
    return {"files": [Path(path).name], "chip": program.chip.name, "cores": program.n_cores,
            "chips": program.n_chips}
