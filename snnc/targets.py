"""Compilation targets as data: a name, a pass pipeline, a chip spec name and a backend name.

``TARGETS`` lists them; ``get_target(name)`` looks one up. ``Target.backend`` names a ``Backend``
of ``snnc/registry.py`` (the registry ``snnc simulate --backend`` and ``snnc list backends``
read too), which maps and writes in the ``map`` stage and ``CompileResult.save``:

- ``loihi-sim`` (default): lowered graph mapped onto the chip (Loihi 2 unless ``--chip``;
  ``backends/loihi/chips.DEFAULT_CHIP`` is the same name) -> ``program.h5`` for the event
  simulator (``snnc simulate OUT``);
- ``lava``: the same lowered graph and program; ``backends/lava`` builds the Lava processes from
  ``graph.lowered.snnc`` when it runs (Loihi 2 chip spec);
- ``netx``: the lowered graph written as a lava-dl ``model.net``;
- ``nir``: the folded float graph (no quantization) written as ``model.nir``.
"""

from __future__ import annotations

from dataclasses import dataclass

from .errors import SnncError
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
    backend: str  # a name in snnc.registry: "loihi-sim" | "lava" | "netx" | "nir" | plug-ins

    @property
    def lowers(self) -> bool:
        return "lower-loihi" in self.pipeline


TARGETS: dict[str, Target] = {t.name: t for t in (
    Target("loihi-sim", "Bit-exact simulated Loihi: lowered graph mapped onto chip cores "
           "(program.h5, event simulator).", DEFAULT_PIPELINE, "loihi2", "loihi-sim"),
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
