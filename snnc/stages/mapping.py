"""Stage 3, ``map``: the optimized graph onto the target's chip -> ``ChipProgram`` (or None).

The target's backend (``snnc/registry.py``) maps; file-format backends (netx, nir) return None,
and so does a pipeline that stopped before the lowering its target needs. A graph with graded
sigma-delta layers and no ``--chip`` maps on Loihi 2 when the target's chip has binary spikes
only (Loihi 1; no built-in target since ``loihi-sim`` defaults to Loihi 2, issue 21): those are
Loihi 2's networks (lava-dl's SDNN). When a built-in chip refuses the program and the other one
takes it, the refusal (which names the feature or limit) says so and names the other chip.
"""

from __future__ import annotations

from typing import Any

from ..errors import ResourceError, SnncError, UnsupportedOpError
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
    chip = chip or target.chip
    try:
        return _map(backend, optimized, chip, mapping)
    except (ResourceError, UnsupportedOpError) as exc:
        hint = _other_chip(exc, backend, optimized, chip, mapping)
        if hint:
            raise type(exc)(f"{exc}{hint}") from None
        if not optimized.synthetic or "payload" not in str(exc):
            raise
        raise ResourceError(f"{exc} No --calibration input was given, so snnc assumed analog "
                            "input; if the model takes spikes, pass --calibration X.npy with "
                            "its binary input.") from None


def _map(backend: Any, optimized: Optimized, chip: str, mapping: str | None) -> Any:
    if mapping is None:
        return backend.map(optimized, chip)
    return backend.map(optimized, chip, mapping=mapping)


def _other_chip(exc: Exception, backend: Any, optimized: Optimized, chip: str,
                mapping: str | None) -> str:
    """When a built-in chip refuses the program and the other built-in chip takes the same
    lowered program: a sentence saying so (the refusal names the feature or limit). Empty when
    the message already names the other chip, or the other chip refuses too."""
    from ..backends.loihi.chips import OTHER_CHIP

    other = OTHER_CHIP.get(chip)
    if other is None or f"--chip {other}" in str(exc):
        return ""
    try:
        _map(backend, optimized, other, mapping)
    except SnncError:
        return ""
    return f" The same program fits on {other}: compile with --chip {other}."
