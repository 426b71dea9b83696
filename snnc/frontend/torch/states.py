"""Framework-specific model housekeeping: resetting neuron state, time mode, example inputs."""

from __future__ import annotations

import torch
from torch import nn

_FRAMEWORKS = ("snntorch", "spikingjelly", "norse")


def reset_model(model: nn.Module) -> None:
    """Reset the state of every stateful neuron (snnc.nn, snnTorch, SpikingJelly, hand-written
    neurons: ``handwritten.reset_user_neuron``)."""
    from .handwritten import is_candidate, is_user_module, reset_user_neuron

    for m in model.modules():
        if is_user_module(m) and is_candidate(m):
            reset_user_neuron(m)
        if hasattr(m, "reset_state") and type(m).__module__.startswith("snnc."):
            m.reset_state()
        elif hasattr(m, "reset_mem") and type(m).__module__.startswith("snntorch"):
            m.reset_mem()
        elif type(m).__module__.startswith("spikingjelly") and hasattr(m, "reset") \
                and hasattr(m, "_memories"):
            m.reset()


def uses_multi_step(model: nn.Module) -> bool:
    """True for SpikingJelly models that take (T, B, ...) inputs, and for models with Norse
    sequence modules (``norse.torch.LIF`` and ``Lift``, which loop over T themselves)."""
    for m in model.modules():
        if type(m).__module__.startswith("norse.torch.module") and type(m).__name__ in (
                "LIF", "Lift"):
            return True
        if not type(m).__module__.startswith("spikingjelly"):
            continue
        if getattr(m, "step_mode", "s") == "m" or type(m).__name__ in (
                "SeqToANNContainer", "MultiStepContainer"):
            return True
    return False


def model_dtype(model: nn.Module) -> torch.dtype:
    for t in list(model.parameters()) + list(model.buffers()):
        if t.is_floating_point():
            return t.dtype
    return torch.get_default_dtype()


def example_input(model: nn.Module, shape: tuple[int, ...], multi_step: bool,
                  steps: int | None = None) -> torch.Tensor:
    """A random input: (B=2, *shape), or (T, B=2, *shape) for multi-step models (T=3) and for
    models that index their input by time step (T = ``steps``)."""
    lead = (steps, 2) if steps else (3, 2) if multi_step else (2,)
    gen = torch.Generator().manual_seed(0)
    return torch.randn(*lead, *shape, generator=gen, dtype=model_dtype(model))


def model_sources(model: nn.Module) -> str:
    """The frameworks whose modules ``model`` uses, e.g. ``"snntorch"`` or ``"torch"``."""
    found = []
    for mod in _class_modules(model):
        name = "snnc.nn" if mod.startswith("snnc.nn") else mod.split(".")[0]
        if (name in _FRAMEWORKS or name == "snnc.nn") and name not in found:
            found.append(name)
    return "+".join(sorted(found)) or "torch"


def _class_modules(model: nn.Module) -> list[str]:
    """Python modules of the classes in ``model`` (for torch.export graphs: of the original
    modules, recorded in each node's ``nn_module_stack``)."""
    mods = [type(m).__module__ for m in model.modules()]
    graph = getattr(model, "graph", None)
    for node in getattr(graph, "nodes", ()):
        for _, cls in (node.meta.get("nn_module_stack") or {}).values():
            mods.append(cls.rsplit(".", 1)[0] if isinstance(cls, str) else cls.__module__)
    return mods
