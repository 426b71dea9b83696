"""Number formatting shared by the terminal table, the HTML page and the comparison."""

from __future__ import annotations

import math
from typing import Any

_PREFIXES = ((1e9, "G"), (1e6, "M"), (1e3, "k"), (1.0, ""), (1e-3, "m"), (1e-6, "µ"),
             (1e-9, "n"), (1e-12, "p"), (1e-15, "f"))


def si(value: float | None, unit: str = "", digits: int = 3) -> str:
    """``1.23 µJ``-style text; ``-`` for None or NaN."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "-"
    if value == 0:
        return f"0 {unit}".strip()
    mag = abs(value)
    for scale, prefix in _PREFIXES:
        if mag >= scale * 0.9995:
            return f"{value / scale:.{digits}g} {prefix}{unit}".strip()
    scale, prefix = _PREFIXES[-1]
    return f"{value / scale:.{digits}g} {prefix}{unit}".strip()


def energy(j: float | None) -> str:
    return si(j, "J")


def seconds(s: float | None) -> str:
    return si(s, "s")


def count(x: float | None) -> str:
    if x is None:
        return "-"
    if abs(x) < 1000 and float(x).is_integer():
        return str(int(x))
    return si(x, "")


def pct(x: float | None, digits: int = 1) -> str:
    return "-" if x is None else f"{100 * x:.{digits}f}%"


def rate_per_s(x: float | None) -> str:
    return "-" if x is None or not math.isfinite(x) else si(x, "/s")


def span(rng: Any, fmt: Any = energy) -> str:
    """``[lo, hi]`` as ``lo – hi``; empty when unknown."""
    if not rng:
        return ""
    return f"{fmt(rng[0])} – {fmt(rng[1])}"


def ratio(a: float | None, b: float | None) -> str:
    """b / a as ``×1.23``."""
    if not a or b is None:
        return "-"
    return f"×{b / a:.3g}"
