"""Event-camera inputs and spike encoders (see ``formats.py``, ``binning.py``, ``encoders.py``).

Readers return ``EventStream``s (tonic's (x, y, t, p) structured array plus the sensor size);
``bin_events`` turns one into chip time steps exactly as ``snnc simulate/compile --input`` do,
so a training pipeline that calls it sees what the deployed chip sees.
"""

from .binning import BinSpec, bin_events, fit_frames
from .encoders import ENCODERS, delta, direct, encode, latency, rate
from .formats import read_events
from .inputs import InputOptions, read_input
from .stream import EVENT_DTYPE, EventStream

__all__ = ["ENCODERS", "EVENT_DTYPE", "BinSpec", "EventStream", "InputOptions", "bin_events",
           "delta", "direct", "encode", "fit_frames", "latency", "rate", "read_events",
           "read_input"]
