"""Write loihi2-estimate's ``[scale]`` and ``[uncertainty]`` factors from ``loihi2_facts``.

``benchmarks/calibrate.py`` writes the model's ``[system]`` table (after the CALIBRATED
marker); this writes the two factors fitted on lava-dl's Loihi 2 PilotNet LIF run above it,
each line of the two tables that holds a number, so the TOML is what the derivation says
(``tests/backends/report/test_loihi2_facts.py`` checks it). The facts' constants
``PILOTNET_LIF_EVENTS_L1_UJ`` and ``PILOTNET_LIF_STEP_L1_NS`` are checked, not rewritten:
calibrate.py prints DIFFERS when the reconstruction no longer gives them.
"""

from __future__ import annotations

import re
from pathlib import Path

from snnc.backends.loihi.chips import load_chip
from snnc.backends.report.energy import MODEL_DIR
from snnc.backends.report.loihi2_facts import Factor, energy_factor, step_floor_ns, time_factor
from snnc.backends.report.system import SystemCosts


def scale_values(e: Factor, t: Factor) -> dict[tuple[str, str], str]:
    """(table, key) -> the TOML line for it."""
    fl = step_floor_ns() / 1e3
    return {
        ("scale", "energy"): f"energy = {e.central:.4f}  # fitted on lava-dl's Loihi 2 PilotNet "
                             f"LIF, range {e.low:.4f}..{e.high:.4f}",
        ("scale", "time"): f"time = {t.central:.4f}    # fitted on the same run's step (less the "
                           f"{fl:.2f} µs floor), range {t.low:.4f}..{t.high:.4f}",
        ("uncertainty", "energy_low"): f"energy_low = {e.on_central[0]:.4f}",
        ("uncertainty", "energy_high"): f"energy_high = {e.on_central[1]:.4f}",
        ("uncertainty", "time_low"): f"time_low = {t.on_central[0]:.4f}",
        ("uncertainty", "time_high"): f"time_high = {t.on_central[1]:.4f}",
    }


def rewrite(text: str, e: Factor, t: Factor) -> str:
    """``text`` with the factor lines of ``[scale]`` / ``[uncertainty]`` replaced."""
    values, table, out = scale_values(e, t), "", []
    for line in text.splitlines():
        head = re.match(r"^\[([^\]]+)\]\s*$", line)
        if head:
            table = head.group(1)
        key = re.match(r"^([A-Za-z_]+)\s*=", line)
        out.append(values.get((table, key.group(1)), line) if key else line)
    return "\n".join(out) + ("\n" if text.endswith("\n") else "")


def write(path: Path, e: Factor, t: Factor) -> bool:
    """Rewrite the file's factor lines; True when something changed."""
    old = path.read_text()
    new = rewrite(old, e, t)
    if new != old:
        path.write_text(new)
    return new != old


def write_model(l1: SystemCosts) -> bool:
    """Rewrite ``loihi2-estimate.toml``'s factors from Loihi 1's table and its calibrated
    [system] lines ``l1`` (whose management power the energy factor subtracts)."""
    c = load_chip("loihi1").costs
    return write(MODEL_DIR / "loihi2-estimate.toml", energy_factor(c.energy_pj, l1),
                 time_factor(c.time_ns))
