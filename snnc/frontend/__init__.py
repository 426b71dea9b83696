"""Front ends: readers that turn model files into ``snnc.ir.Graph``.

- ``snnc.frontend.torch``: PyTorch ``.pt`` / ``.pth`` / ``.pt2`` (needs torch): torch.fx tracing
  of one time step, converters for torch.nn, snnTorch, SpikingJelly, Norse and snnc.nn;
- ``snnc.frontend.netx``: lava-dl netx ``.net`` files.

NIR files are read by ``snnc.ir.nir_io``. ``snnc.api.load`` picks the reader by file suffix.
``register_neuron(cls, to_ir)`` (``snnc.frontend.neurons``) converts neuron modules that snnc
does not recognise.
"""

from .neurons import register_neuron

__all__ = ["register_neuron"]
