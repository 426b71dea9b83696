"""Event-driven, bit-accurate simulator of a mapped ``ChipProgram`` (see ``engine.py``).

``simulate(program, inputs, steps, probes) -> SimResult`` with ``.counters`` (``Counters``);
``EventSession`` runs a program with plastic synapses sample after sample (``session.py``).
"""

from .counters import Counters
from .engine import LearningOptions, simulate, simulate_pieces
from .session import EventSession

__all__ = ["Counters", "EventSession", "LearningOptions", "simulate", "simulate_pieces"]
