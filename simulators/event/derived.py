"""``ProgramCache``: what the event simulator derives from a ``ChipProgram``, computed once.

A ``ChipProgram`` is frozen and holds nothing but the mapping. What a simulation derives from it
(each synapse's ``Connectivity``, its weights in kernel layout (``SynapseStatic``), the counter
tables of ``counting.py``) is kept here instead, keyed by the program object (an entry goes when
its program does). ``simulate`` uses the module's ``SHARED`` cache, so repeated calls on one
program (shards of a dataset) derive these once; an ``EventSession`` owns its own.
The values depend on the program only, never on a run's batch, inputs or learning state.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any, TypeVar

from ...backends.loihi.connectivity import Connectivity
from ...backends.loihi.program import ChipProgram

V = TypeVar("V")


class ProgramCache:
    """Per-program derived data, by kind and synapse name.

    Keyed by the program's identity (a ``ChipProgram`` compares by value and is unhashable; two
    equal programs simply derive their data twice); an entry is dropped when its program is
    garbage-collected, before its ``id`` can be reused.
    """

    def __init__(self) -> None:
        self._by_id: dict[int, dict[tuple[str, str], Any]] = {}

    def entries(self, program: ChipProgram) -> dict[tuple[str, str], Any]:
        """The entries of ``program`` ((kind, name) -> value), created empty on first use."""
        key = id(program)
        entries = self._by_id.get(key)
        if entries is None:
            entries = self._by_id[key] = {}
            weakref.finalize(program, self._by_id.pop, key, None)
        return entries

    def get(self, program: ChipProgram, kind: str, name: str, make: Callable[[], V]) -> V:
        """The value ``(kind, name)`` of ``program``, made with ``make()`` on first use."""
        entries = self.entries(program)
        key = (kind, name)
        if key not in entries:
            entries[key] = make()
        return entries[key]  # type: ignore[no-any-return]

    def __len__(self) -> int:
        """Programs with entries."""
        return len(self._by_id)

    def connectivity(self, program: ChipProgram, synapse: str) -> Connectivity:
        return self.get(program, "connectivity", synapse,
                        lambda: Connectivity(program.graph.nodes[synapse]))



#: the cache ``simulate`` uses when not given one
SHARED = ProgramCache()
