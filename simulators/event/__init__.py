"""Event-driven, bit-accurate simulator of a mapped ``ChipProgram`` (see ``engine.py``).

``simulate(program, inputs, steps, probes) -> SimResult`` with ``.counters`` (``Counters``).
"""

from .counters import Counters
from .engine import simulate

__all__ = ["Counters", "simulate"]
