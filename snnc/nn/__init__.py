"""Reference PyTorch modules for training models that snnc deploys exactly.

- ``LIF`` / ``IF``: stateful neurons, one time step per call, hard or subtract reset, surrogate
  gradient; their update is exactly the IR's ``lif`` / ``if``.
- ``QuantLinear`` / ``QuantConv2d``: k-bit weights with per-channel power-of-two scales;
  ``BinaryLinear`` / ``BinaryConv2d``: ``sign(w) * alpha``. Straight-through gradients.
- ``reset_states(model)`` and ``run(model, x_seq)`` for time-major (T, B, ...) inputs.
- ``snnc.nn.transformer``: spike-driven (SDSA) and QSD (Q(KᵀV), multi-level spikes) attention
  as the papers' code writes them, with the neuron and projection as factories;
  ``snnc.nn.train``: the deterministic rate code and rate-loss trainer the examples share.

A model built from these and ``torch.nn`` layers is saved with ``torch.save(model, "model.pt")``
and loads in snnc without ``--trust-pickle``. Needs torch (``pip install snnc[torch]``).
"""

from .neurons import IF, LIF, reset_states, run
from .quant import (
    BinaryConv2d,
    BinaryLinear,
    QuantConv2d,
    QuantLinear,
    quantize_binary,
    quantize_uniform,
)

__all__ = [
    "IF", "LIF", "BinaryConv2d", "BinaryLinear", "QuantConv2d", "QuantLinear", "quantize_binary",
    "quantize_uniform", "reset_states", "run",
]
