"""Which package may import which: the one-way flow of ARCHITECTURE.md, enforced on every import.

Every module of the tree belongs to the layer of its longest prefix in ``LAYERS``; ``ALLOWED``
says which layers a layer may import (its own always). Imports are found with ast
(``import_layers.py``): at module level and inside functions, ``import x`` / ``from . import x``
/ ``importlib.import_module("...")``, so a lazy import cannot hide a back edge.
"""

from __future__ import annotations

import pytest
from import_layers import imports, module_name, source_files

#: module prefix -> layer (longest prefix wins).
LAYERS: dict[str, str] = {
    "snnc": "base", "snnc.errors": "base", "snnc.io": "base",
    "snnc.ir": "ir",
    # what an op means: per-op kernels, the reference executor, stimuli and results
    "snnc.simulators.kernels": "semantics", "snnc.simulators.kernels_float": "semantics",
    "snnc.simulators.kernels_loihi": "semantics", "snnc.simulators.reference": "semantics",
    "snnc.simulators.kernels_ann": "semantics", "snnc.simulators.kernels_sdn": "semantics",
    "snnc.simulators.kernels_attention": "semantics",
    "snnc.simulators.stimulus": "semantics", "snnc.simulators.result": "semantics",
    "snnc.simulators.loihi_lif": "semantics", "snnc.simulators.silicon": "semantics",
    "snnc.simulators.recording": "semantics",
    "snnc.simulators.learning.engine": "semantics",
    "snnc.simulators.learning.kernel": "semantics",
    "snnc.simulators.learning.builtin": "semantics",
    "snnc.passes": "passes",
    # ANN-to-SNN conversion: graph rewrites and runs in the reference simulator; its accuracy
    # table prices the runs with the report's analytic energy model, like the compile stages
    "snnc.convert": "convert", "snnc.convert.table": "driver",
    # the chip program and what it is made of (read by simulators, the report, Lava)
    "snnc.backends.loihi": "program",
    "snnc.backends.loihi.mapper": "mapper", "snnc.backends.loihi.partition": "mapper",
    "snnc.backends.loihi.rules": "mapper", "snnc.backends.loihi.balance": "mapper",
    "snnc.backends.loihi.vendor": "mapper", "snnc.backends.loihi.packing": "mapper",
    "snnc.backends.netx": "formats", "snnc.backends.lava": "lava",
    "snnc.simulators.event": "simulators", "snnc.simulators.brian2": "simulators",
    "snnc.simulators.event.counters": "counters",
    "snnc.simulators.learning": "learning",
    "snnc.backends.report": "report",
    "snnc.nn": "nn", "snnc.frontend": "frontend",
    # event-camera readers, binning and encoders: file formats to arrays, nothing else
    "snnc.events": "events",
    # the driver: the public API, the stages, targets, registry and CLI
    "snnc.api": "driver", "snnc.stages": "driver", "snnc.targets": "driver",
    "snnc.registry": "driver", "snnc.builtin_plugins": "driver", "snnc.commands": "driver",
    "snnc.cli": "driver", "snnc.__main__": "driver",
    # whole-dataset evaluation and sweeps run compiled programs through the public pieces
    "snnc.evaluate": "driver", "snnc.sweep": "driver",
}

ALLOWED: dict[str, set[str]] = {
    "base": set(),
    "ir": {"base"},
    "semantics": {"base", "ir"},
    "passes": {"base", "ir", "semantics"},
    "convert": {"base", "ir", "semantics"},
    "program": {"base", "ir"},
    "mapper": {"base", "ir", "program"},
    "formats": {"base", "ir"},
    "counters": {"base", "program"},
    "simulators": {"base", "ir", "semantics", "program", "counters"},
    "learning": {"base", "ir", "semantics", "program", "counters", "simulators"},
    "lava": {"base", "ir", "semantics", "program"},
    "report": {"base", "ir", "program", "counters"},
    "nn": {"base"},
    "frontend": {"base", "ir", "nn", "formats"},
    "events": {"base"},
}


def layer_of(module: str) -> str:
    parts = module.split(".")
    for k in range(len(parts), 0, -1):
        prefix = ".".join(parts[:k])
        if prefix in LAYERS:
            return LAYERS[prefix]
    raise KeyError(module)


def allowed(src_module: str, dst_module: str) -> bool:
    src, dst = layer_of(src_module), layer_of(dst_module)
    return src == "driver" or src == dst or dst in ALLOWED[src]


def violations() -> list[str]:
    bad = []
    for path in source_files():
        mod = module_name(path)
        src = layer_of(mod)
        if src == "driver":
            continue
        for line, name in imports(path):
            dst = layer_of(name)
            if not allowed(mod, name):
                bad.append(f"{path.relative_to(path.parents[len(path.parts) - 4])}:{line}: "
                           f"{mod} ({src}) imports {name} ({dst})")
    return bad


def test_every_module_has_a_layer() -> None:
    for path in source_files():
        layer_of(module_name(path))


def test_imports_follow_the_layer_table() -> None:
    bad = violations()
    assert not bad, "imports against the layer table:\n" + "\n".join(bad)


def test_the_scanner_sees_lazy_imports(tmp_path) -> None:
    """A function-level relative import and import_module are found (the check can fail)."""
    import import_layers

    pkg = import_layers.ROOT / "backends" / "report"
    found = {name for p in pkg.glob("*.py") for _, name in imports(p)}
    assert "snnc.backends.report.html" in found  # lazy ``from .html import`` in __init__
    assert layer_of("snnc.backends.loihi.mapper") == "mapper"
    assert "mapper" not in ALLOWED["report"]


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_table_has_no_cycles(layer) -> None:
    seen, todo = set(), [layer]
    while todo:
        for dep in ALLOWED.get(todo.pop(), set()):
            assert dep != layer, f"layer {layer} can reach itself"
            if dep not in seen:
                seen.add(dep)
                todo.append(dep)


#: the back edges issue 13 found in the tree; none may come back.
REMOVED_EDGES = [
    ("snnc.passes.driver", "snnc.targets"),
    ("snnc.backends.report.compiled", "snnc.passes.driver"),
    ("snnc.backends.report.compiled", "snnc.passes.qinputs"),
    ("snnc.backends.report.build", "snnc.backends.loihi.mapper"),
    ("snnc.backends.report.neurobench", "snnc.simulators.reference"),
    ("snnc.backends.report.activity", "snnc.simulators.event.counting"),
    ("snnc.backends.loihi.connectivity", "snnc.simulators.kernels_loihi"),
    ("snnc.backends.loihi.connectivity", "snnc.simulators.learning.engine"),
    ("snnc.simulators.learning.runner", "snnc.backends.loihi.mapper"),
    ("snnc.simulators.event.engine", "snnc.backends.report.energy"),
]


@pytest.mark.parametrize(("src", "dst"), REMOVED_EDGES)
def test_the_removed_back_edges_are_refused(src, dst) -> None:
    assert not allowed(src, dst)
