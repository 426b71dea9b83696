"""``--force``: kept so that scripts passing it keep working; it changes nothing.

snnc never deletes or overwrites a file it did not write (``snnc/outdir.py``,
``snnc/manifest.py``), with or without ``--force``; earlier versions let ``--force`` replace a
foreign directory or file. After that rule there is nothing left for it to allow, so the option
is hidden from ``--help``, accepted by every command that writes (compile, learn, convert,
eval, sweep, simulate) and ignored, without a message.
"""

from __future__ import annotations

import click

FORCE_HELP = ("No effect (kept for scripts): snnc never deletes or overwrites files it did not "
              "write, with or without --force.")

force_option = click.option("--force", is_flag=True, hidden=True, expose_value=False,
                            help=FORCE_HELP)
