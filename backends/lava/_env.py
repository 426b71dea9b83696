"""Finding Lava: the one place that decides whether the Lava backend can run here."""

from __future__ import annotations

import sys
from types import ModuleType

from ...errors import BackendError

LAVA_VERSION = "0.10.0"
MISSING_LAVA = (
    "the Lava backend needs lava-nc 0.10.0, which runs only on Python 3.10 with numpy<2: "
    "create a Python 3.10 environment and `pip install 'snnc[lava]'` (or run `make setup-lava`)")


def require_lava() -> ModuleType:
    """Import Lava's process-model machinery or raise ``BackendError`` saying how to get it.

    Returns the ``lava.magma`` package. Everything else in this backend imports Lava only after
    this check has passed.
    """
    try:
        import lava.magma as magma
        import lava.magma.core.run_configs as run_configs  # noqa: F401
    except Exception as exc:  # ImportError, or numpy 2 ABI errors raised while importing
        raise BackendError(
            f"{MISSING_LAVA} (this is Python {sys.version.split()[0]}; importing Lava "
            f"failed with {type(exc).__name__}: {exc})") from exc
    return magma


def lava_version() -> str | None:
    """The installed lava-nc version, or None."""
    from importlib import metadata

    try:
        return metadata.version("lava-nc")
    except metadata.PackageNotFoundError:
        return None
