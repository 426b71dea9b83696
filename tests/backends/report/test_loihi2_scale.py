"""benchmarks/loihi2_scale.py: the loihi2-estimate TOML's [scale] / [uncertainty] lines are
written from loihi2_facts, and the shipped file is already what it writes."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def _mod():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import loihi2_scale
    finally:
        sys.path.pop(0)
    return loihi2_scale


def test_rewrite_replaces_only_the_factor_lines() -> None:
    from snnc.backends.report.loihi2_facts import Factor

    m = _mod()
    e, t = Factor(0.5, 0.4, 0.6, {}), Factor(0.25, 0.2, 0.5, {})
    text = ("# head\n[scale]\nenergy = 9  # old\ntime = 9\n\n[uncertainty]\nenergy_low = 1\n"
            "energy_high = 1\ntime_low = 1\ntime_high = 1\nbasis = \"kept\"\n"
            "[static]\nenergy = 7\n")
    out = m.rewrite(text, e, t).splitlines()
    assert out[2].startswith("energy = 0.5000  #")
    assert "range 0.4000..0.6000" in out[2]
    assert out[3].startswith("time = 0.2500 ")
    # on the central value: 0.4 / 0.5, 0.6 / 0.5; 0.2 / 0.25, 0.5 / 0.25
    assert out[6:10] == ["energy_low = 0.8000", "energy_high = 1.2000", "time_low = 0.8000",
                         "time_high = 2.0000"]
    assert out[10] == 'basis = "kept"'
    assert out[-1] == "energy = 7"  # another table's key is left alone
    assert out[0] == "# head"


def test_the_shipped_model_is_what_the_derivation_writes() -> None:
    from snnc.backends.loihi.chips import load_chip
    from snnc.backends.report.energy import MODEL_DIR, load_model
    from snnc.backends.report.loihi2_facts import energy_factor, time_factor

    m = _mod()
    c = load_chip("loihi1").costs
    l1 = load_model("loihi1-sanafe", load_chip("loihi1")).system
    text = (MODEL_DIR / "loihi2-estimate.toml").read_text()
    assert m.rewrite(text, energy_factor(c.energy_pj, l1), time_factor(c.time_ns)) == text
