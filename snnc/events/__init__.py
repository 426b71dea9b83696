"""Event-camera inputs and spike encoders (see ``formats.py``, ``binning.py``, ``encoders.py``).

Readers return ``EventStream``s (tonic's (x, y, t, p) structured array plus the sensor size);
``bin_events`` turns one into chip time steps exactly as ``snnc simulate/compile --input`` do,
so a training pipeline that calls it sees what the deployed chip sees.
"""

import importlib
from typing import Any

# name -> submodule; imported on first use so that ``snnc simulate`` (which needs only the
# option declarations of ``inputs``) does not load every event reader at start-up
_LAZY = {"BinSpec": "binning", "bin_events": "binning", "fit_frames": "binning",
         "ENCODERS": "encoders", "delta": "encoders", "direct": "encoders", "encode": "encoders",
         "latency": "encoders", "rate": "encoders", "read_events": "formats",
         "InputOptions": "inputs", "read_input": "inputs", "EVENT_DTYPE": "stream",
         "EventStream": "stream"}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    globals()[name] = value
    return value
