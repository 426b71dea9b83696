"""Converter registry: one converter per module class and per function/method, by family.

A module converter is ``conv(ctx, mod, args, kwargs, offset) -> value``: ``args`` hold ``Port``
objects for input-dependent tensors and plain torch values otherwise; ``offset`` is the number of
leading (batch, time) axes the module itself sees in front of the per-sample shape (1, except for
modules applied directly to SpikingJelly's (T, B, ...) tensors, where it is 2). A function
converter is ``conv(ctx, target, args, kwargs) -> value``.

A module class matches a converter registered for it or for a base class whose ``forward`` it
keeps (so ``snnc.nn.QuantLinear``, which overrides ``nn.Linear.forward``, is traced through rather
than converted as a float ``Linear``). Families (torch.nn, snnTorch, SpikingJelly, Norse, snnc.nn)
are imported only when their library is already loaded.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import Any

ModuleConverter = Callable[..., Any]
FunctionConverter = Callable[..., Any]

MODULES: dict[type, tuple[ModuleConverter, bool]] = {}
FUNCTIONS: dict[Any, FunctionConverter] = {}
#: module classes kept as leaves and converted as a whole (neurons): checked before tracing
STATEFUL: set[type] = set()

# family module -> library that must already be imported for it to load
FAMILIES = {
    "torch_nn": "torch",
    "functional": "torch",
    "activations": "torch",
    "attention": "torch",
    "snnc_nn": "snnc.nn",
    "snntorch": "snntorch",
    "spikingjelly": "spikingjelly",
    "sj_ann2snn": "spikingjelly.activation_based.ann2snn",
    "norse": "norse",
    "aten": "torch.export",
}


def module_converter(*classes: type, subclasses: bool = False, stateful: bool = False):
    """Register a converter for ``classes``; ``subclasses=True`` also covers subclasses that
    override ``forward``."""

    def deco(fn: ModuleConverter) -> ModuleConverter:
        for cls in classes:
            MODULES[cls] = (fn, subclasses)
            if stateful:
                STATEFUL.add(cls)
        return fn

    return deco


def function_converter(*targets: Any):
    """Register a converter for functions (objects) or tensor methods (``"method:name"``)."""

    def deco(fn: FunctionConverter) -> FunctionConverter:
        for t in targets:
            FUNCTIONS[t] = fn
        return fn

    return deco


def load_families() -> None:
    """Import the converter families whose libraries are loaded (idempotent)."""
    for fam, lib in FAMILIES.items():
        if lib in sys.modules or lib == "torch":
            importlib.import_module(f"{__name__}.{fam}")


def find_module_converter(mod: Any) -> ModuleConverter | None:
    """The converter for ``mod``'s class. Subclasses of stateful (neuron) classes never inherit
    it: they may change the dynamics without touching ``forward``."""
    cls = type(mod)
    if _user_neuron(mod):
        from .handwritten import convert_user_neuron

        return convert_user_neuron
    for base in cls.__mro__:
        entry = MODULES.get(base)
        if entry is None:
            continue
        fn, subclasses = entry
        if base is cls or subclasses or (cls.forward is base.forward and base not in STATEFUL):
            return fn
        return None
    return None


def is_stateful(mod: Any) -> bool:
    return _user_neuron(mod) or any(base in STATEFUL for base in type(mod).__mro__)


def _user_neuron(mod: Any) -> bool:
    """A class given to ``snnc.frontend.register_neuron``, or a plain-PyTorch module that
    computes a neuron's pattern (``handwritten.is_candidate``)."""
    from ...neurons import registered_for

    if registered_for(type(mod)) is not None:
        return True
    from ..handwritten import is_candidate, is_user_module

    return is_user_module(mod) and is_candidate(mod)


def find_function_converter(kind: str, target: Any) -> FunctionConverter | None:
    if kind == "call_method":
        return FUNCTIONS.get(f"method:{target}")
    return FUNCTIONS.get(target)


def supported_modules() -> str:
    names = sorted({f"{c.__module__.split('.')[0]}.{c.__name__}" for c in MODULES})
    return ", ".join(names)


def supported_functions() -> str:
    names = sorted({t[7:] if isinstance(t, str) else getattr(t, "__name__", str(t))
                    for t in FUNCTIONS})
    return ", ".join(names)
