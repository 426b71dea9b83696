"""The errors users see. The CLI prints their message and exits with status 2."""

from __future__ import annotations


class SnncError(Exception):
    """Base of every error snnc reports to a user (message only, no traceback)."""

    exit_code = 2


class IRError(SnncError):
    """A node or graph that does not verify."""


class FormatError(SnncError):
    """A file that is missing, truncated or not in the expected format (names file and field)."""


class UnsupportedOpError(SnncError):
    """A module, layer or op that snnc cannot convert (names it, where it is, what is supported)."""


class PassError(SnncError):
    """A pass whose preconditions fail or that fails while running."""


class ResourceError(SnncError):
    """Something that does not fit the chip: what, by how much, and the option that would help."""


class QuantizationError(SnncError):
    """A value that cannot be represented in the target's integer formats."""


class BackendError(SnncError):
    """A backend that is unavailable or failed (for example Lava not importable)."""
