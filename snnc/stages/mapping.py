"""Stage 3, ``map``: the optimized graph onto the target's chip -> ``ChipProgram`` (or None).

The target's backend (``snnc/registry.py``) maps; file-format backends (netx, nir) return None,
and so does a pipeline that stopped before the lowering its target needs. A graph with graded
sigma-delta layers and no ``--chip`` maps on Loihi 2 when the target's chip has binary spikes
only (Loihi 1): those are Loihi 2's networks (lava-dl's SDNN).
"""

from __future__ import annotations

from typing import Any

from ..errors import ResourceError
from ..ir.traits import Trait, has
from .optimize import Optimized

GRADED_CHIP = "loihi2"


def map_program(optimized: Optimized, target: Any, chip: str | None = None,
                backend: Any = None, mapping: str | None = None) -> Any:
    """The ``ChipProgram`` of ``optimized.lowered`` on ``chip`` (default: the target's), with
    the mapper's strategy ``mapping`` (None: the backend's default)."""
    if optimized.lowered is None:
        return None
    if backend is None:
        from ..registry import default_registry

        backend = default_registry().backend(target.backend)
    if chip is None and target.chip == "loihi1" and any(
            has(n, Trait.GRADED) for n in optimized.lowered.nodes.values()):
        chip = GRADED_CHIP  # sigma-delta layers send graded spikes, which Loihi 1 has not
    try:
        if mapping is None:
            return backend.map(optimized, chip or target.chip)
        return backend.map(optimized, chip or target.chip, mapping=mapping)
    except ResourceError as exc:
        if not optimized.synthetic or "payload" not in str(exc):
            raise
        raise ResourceError(f"{exc} No --calibration input was given, so snnc assumed analog "
                            "input; if the model takes spikes, pass --calibration X.npy with "
                            "its binary input.") from None
