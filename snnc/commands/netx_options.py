"""The netx reader's options on the command line (``inspect``, ``compile``, ``simulate``).

They mirror ``netx.hdf5.Network``'s arguments and ``snnc.frontend.netx.read_netx``'s options:

- ``--netx-layers N``: read only the first N layers of the file (netx's ``num_layers``);
- ``--netx-skip-layers N``: read but do not build the first N layers; the stimulus feeds the next
  layer's synapse, with the skipped layer's message bits (netx's ``skip_layers``);
- ``--reset-interval N`` / ``--reset-offset K``: netx's ``reset_interval``/``reset_offset``: every
  LIF layer is reset every N steps, layer i of the network offset by its depth (``LIFReset``);
  on ``simulate`` of a ``.net`` file, ``--reset-interval`` means this (for other models it keeps
  its meaning there: zero all state every N steps);
- ``--input-message-bits B``: the stimulus is graded, B-bit payloads (netx's
  ``input_message_bits``; 0, the default, binary spikes) for a file without an input neuron;
- ``--input-bias B.npy``: drive the input neuron through ``bias_mant`` as lava-dl feeds PilotNet
  and tinynet (then the stimulus is zero; ``simulate`` needs only ``--steps``).

They apply to ``.net`` files only; given with any other model they are refused.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from ..errors import SnncError

MAX_LAYERS = 100_000
MAX_INTERVAL = 10_000_000


def netx_options(reset: bool = True) -> Callable[[Any], Any]:
    """Click decorator adding the netx reader's options (``reset=False``: the command already
    has its own ``--reset-interval``, which then also serves netx files)."""

    def deco(f: Any) -> Any:
        opts = [
            click.option("--netx-layers", type=click.IntRange(1, MAX_LAYERS), default=None,
                         help="netx files: read only the first N layers (netx's num_layers)."),
            click.option("--netx-skip-layers", type=click.IntRange(0, MAX_LAYERS), default=0,
                         help="netx files: read but do not build the first N layers; the "
                              "stimulus feeds the next layer's synapse (netx's skip_layers)."),
            click.option("--reset-offset", type=click.IntRange(0, MAX_INTERVAL), default=0,
                         help="netx files: phase of the periodic reset (netx's reset_offset)."),
            click.option("--input-message-bits", type=click.IntRange(0, 32), default=0,
                         help="netx files: the stimulus carries graded payloads of this many "
                              "bits (netx's input_message_bits; 0: binary spikes)."),
            click.option("--input-bias", type=click.Path(exists=True, dir_okay=False,
                                                         path_type=Path), default=None,
                         help="netx files: drive the input neuron through bias_mant with this "
                              "integer array, (C, H, W) or netx's (W, H, C), as lava-dl feeds "
                              "PilotNet; the stimulus is then zero."),
        ]
        if reset:
            opts.append(click.option(
                "--reset-interval", type=click.IntRange(1, MAX_INTERVAL), default=None,
                help="netx files: reset every layer every N steps, each offset by its depth "
                     "(netx's reset_interval)."))
        for opt in reversed(opts):
            f = opt(f)
        return f

    return deco


def netx_load_options(model: Path, netx_layers: int | None, reset_interval: int | None,
                      reset_offset: int, input_bias: Path | None,
                      input_message_bits: int = 0, skip_layers: int = 0) -> dict[str, Any]:
    """``read_netx`` keyword options from the CLI values; refused for non-netx models."""
    given = {"--netx-layers": netx_layers, "--reset-interval": reset_interval,
             "--input-bias": input_bias, "--reset-offset": reset_offset or None,
             "--input-message-bits": input_message_bits or None,
             "--netx-skip-layers": skip_layers or None}
    used = [k for k, v in given.items() if v is not None]
    if not is_netx(model):
        if used:
            raise SnncError(f"{', '.join(used)}: options of the netx reader, for lava-dl .net "
                            f"files only; {model} is not one")
        return {}
    if reset_offset and reset_interval is None:
        raise SnncError("--reset-offset needs --reset-interval (the offset is the phase of the "
                        "periodic reset)")
    opts: dict[str, Any] = {}
    if netx_layers is not None:
        opts["num_layers"] = netx_layers
    if reset_interval is not None:
        opts.update(reset_interval=reset_interval, reset_offset=reset_offset)
    if input_bias is not None:
        opts["input_bias"] = input_bias
    if input_message_bits:
        opts["input_message_bits"] = input_message_bits
    if skip_layers:
        opts["skip_layers"] = skip_layers
    return opts


def is_netx(model: Path) -> bool:
    return Path(model).suffix.lower() == ".net" and not Path(model).is_dir()
