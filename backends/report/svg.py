"""Inline SVG charts for ``report.html``: no scripts, no external resources.

Every chart is a function returning an ``<svg>`` string; hover text uses SVG ``<title>``
elements, which browsers show without JavaScript. Labels are escaped here.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from html import escape

PALETTE = ("#3366cc", "#dc3912", "#ff9900", "#109618", "#990099", "#0099c6", "#dd4477",
           "#66aa00", "#b82e2e", "#316395", "#994499", "#22aa99")
WIDTH = 720
FONT = 'font-family="sans-serif" font-size="11"'


def _svg(width: int, height: int, body: list[str], label: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(label)}">'
            + "".join(body) + "</svg>")


def _text(x: float, y: float, s: str, anchor: str = "start", extra: str = "") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" {FONT} {extra}>'
            f"{escape(s)}</text>")


def empty(message: str, label: str) -> str:
    """A small chart that says why there is nothing to draw."""
    return _svg(WIDTH, 40, [_text(10, 24, message, extra='fill="#666"')], label)


def hbars(rows: Sequence[tuple[str, float]], fmt: Callable[[float], str], label: str,
          color: str = PALETTE[0]) -> str:
    """Horizontal bars, one per (label, value), largest scale = longest bar."""
    if not rows:
        return empty("nothing to show", label)
    top = max(v for _, v in rows) or 1.0
    left, bar_w, row_h = 200, WIDTH - 320, 20
    body = []
    for i, (name, value) in enumerate(rows):
        y = 6 + i * row_h
        w = max(bar_w * value / top, 0.0)
        tip = f"{name}: {fmt(value)}"
        body.append(_text(left - 6, y + 13, name[:32], "end"))
        body.append(f'<rect x="{left}" y="{y + 2}" width="{w:.1f}" height="{row_h - 6}" '
                    f'fill="{color}"><title>{escape(tip)}</title></rect>')
        body.append(_text(left + w + 6, y + 13, fmt(value)))
    return _svg(WIDTH, 12 + len(rows) * row_h, body, label)


def paired_bars(rows: Sequence[tuple[str, float, float]], names: tuple[str, str],
                fmt: Callable[[float], str], label: str) -> str:
    """Two bars per row (e.g. float vs chip), with a legend."""
    if not rows:
        return empty("nothing to show", label)
    top = max(max(a, b) for _, a, b in rows) or 1.0
    left, bar_w, row_h = 200, WIDTH - 320, 30
    body = [_legend([(names[0], PALETTE[0]), (names[1], PALETTE[1])], left, 12)]
    for i, (name, a, b) in enumerate(rows):
        y = 24 + i * row_h
        body.append(_text(left - 6, y + 15, name[:32], "end"))
        for k, (val, col) in enumerate(((a, PALETTE[0]), (b, PALETTE[1]))):
            w = max(bar_w * val / top, 0.0)
            yy = y + 2 + k * 12
            body.append(f'<rect x="{left}" y="{yy}" width="{w:.1f}" height="10" fill="{col}">'
                        f"<title>{escape(f'{name} {names[k]}: {fmt(val)}')}</title></rect>")
            body.append(_text(left + w + 4, yy + 9, fmt(val), extra='font-size="9"'))
    return _svg(WIDTH, 30 + len(rows) * row_h, body, label)


def _legend(items: Sequence[tuple[str, str]], x: float, y: float) -> str:
    out = []
    for name, col in items:
        out.append(f'<rect x="{x:.1f}" y="{y - 8:.1f}" width="10" height="10" fill="{col}"/>')
        out.append(_text(x + 14, y + 1, name[:24]))
        x += 20 + 7 * min(len(name), 24)
    return "".join(out)


def _axes(x0: float, y0: float, w: float, h: float, ymax: float, fmt: Callable[[float], str],
          xmax: float, xlabel: str) -> list[str]:
    body = [f'<line x1="{x0}" y1="{y0 + h}" x2="{x0 + w}" y2="{y0 + h}" stroke="#888"/>',
            f'<line x1="{x0}" y1="{y0}" x2="{x0}" y2="{y0 + h}" stroke="#888"/>',
            _text(x0 - 4, y0 + 4, fmt(ymax), "end"), _text(x0 - 4, y0 + h, "0", "end"),
            _text(x0, y0 + h + 14, "0"), _text(x0 + w, y0 + h + 14, f"{xmax:g}", "end"),
            _text(x0 + w / 2, y0 + h + 14, xlabel, "middle")]
    return body


def lines(series: Sequence[tuple[str, Sequence[float]]], step: float, fmt: Callable[[float], str],
          label: str, xlabel: str = "time step") -> str:
    """Line chart of several series sharing the x axis (point i at x = i * step)."""
    series = [(n, v) for n, v in series if len(v)]
    if not series:
        return empty("nothing to show", label)
    x0, y0, w, h = 70, 26, WIDTH - 90, 180
    n = max(len(v) for _, v in series)
    ymax = max((max(v) for _, v in series), default=0.0) or 1.0
    body = [_legend([(nm, PALETTE[i % len(PALETTE)]) for i, (nm, _) in enumerate(series)], x0, 12)]
    body += _axes(x0, y0, w, h, ymax, fmt, n * step, xlabel)
    for i, (name, vals) in enumerate(series):
        pts = " ".join(f"{x0 + w * k / max(n - 1, 1):.1f},{y0 + h - h * v / ymax:.1f}"
                       for k, v in enumerate(vals) if v is not None and math.isfinite(v))
        body.append(f'<polyline points="{pts}" fill="none" stroke="{PALETTE[i % len(PALETTE)]}" '
                    f'stroke-width="1.5"><title>{escape(name)}</title></polyline>')
    return _svg(WIDTH, y0 + h + 24, body, label)


def raster(layers: Sequence[tuple[str, dict]], label: str) -> str:
    """Spike raster: one band per layer, a dot per spike (time on x)."""
    if not layers:
        return empty("no spikes were recorded for the raster", label)
    x0, w, band = 150, WIDTH - 170, 90
    steps = max(d["steps"] for _, d in layers) or 1
    body = []
    for i, (name, d) in enumerate(layers):
        y0 = 10 + i * (band + 10)
        shown = max(len(d["neurons_shown"]), 1)
        body.append(_text(x0 - 6, y0 + band / 2, name[:22], "end"))
        body.append(_text(x0 - 6, y0 + band / 2 + 13, f"{len(d['neurons_shown'])} of "
                          f"{d['neurons_total']}", "end", 'fill="#666" font-size="9"'))
        body.append(f'<rect x="{x0}" y="{y0}" width="{w}" height="{band}" fill="#f6f6f6"/>')
        dw, dh = min(max(w / steps, 1.0), 4.0), min(max(band / shown, 1.0), 4.0)
        dots = "".join(f'<rect x="{x0 + w * (t + 0.5) / steps - dw / 2:.1f}" '
                       f'y="{y0 + band * (k + 0.5) / shown - dh / 2:.1f}" '
                       f'width="{dw:.1f}" height="{dh:.1f}"/>' for t, k in d["spikes"])
        body.append(f'<g fill="{PALETTE[i % len(PALETTE)]}">{dots}</g>')
    yb = 10 + len(layers) * (band + 10)
    body += [_text(x0, yb + 4, "0"), _text(x0 + w, yb + 4, str(steps), "end"),
             _text(x0 + w / 2, yb + 4, "time step", "middle")]
    return _svg(WIDTH, yb + 12, body, label)


def _shade(u: float) -> str:
    """White-to-dark-blue colour for u in [0, 1]."""
    lo, hi = (232, 238, 252), (8, 48, 107)
    r, g, b = (round(a + (c - a) * min(max(u, 0.0), 1.0)) for a, c in zip(lo, hi, strict=True))
    return f"#{r:02x}{g:02x}{b:02x}"


def mesh(chip: dict, cores: Sequence[dict], label: str, max_chips: int = 16) -> str:
    """Every chip's tile grid; each core slot coloured by its utilisation (busy / run time)."""
    m = chip["mesh"]
    tx, ty, cpt = m["tiles_x"], m["tiles_y"], m["cores_per_tile"]
    cols = math.ceil(math.sqrt(cpt))
    rows = math.ceil(cpt / cols)
    tile = 14 * max(cols, rows) + 6
    chip_w, chip_h = tx * tile + 24, ty * tile + 30
    per_row = max(1, WIDTH // chip_w)
    n_chips = min(chip["chips"], max_chips)
    top = max((c["utilisation"] for c in cores), default=0.0) or 1.0
    at = {(c["chip"], c["x"], c["y"], c["slot"]): c for c in cores}
    body = []
    for k in range(n_chips):
        ox, oy = 10 + (k % per_row) * chip_w, 30 + (k // per_row) * chip_h
        body.append(_text(ox, oy - 6, f"chip {k}"))
        for x in range(tx):
            for y in range(ty):
                X, Y = ox + x * tile, oy + y * tile
                body.append(f'<rect x="{X}" y="{Y}" width="{tile - 2}" height="{tile - 2}" '
                            'fill="none" stroke="#bbb"/>')
                for s in range(cpt):
                    body.append(_core_cell(at.get((k, x, y, s)), X + 3 + (s % cols) * 14,
                                           Y + 3 + (s // cols) * 14, top))
    height = 30 + math.ceil(n_chips / per_row) * chip_h
    body.append(_scale_legend(top, height))
    if chip["chips"] > max_chips:
        body.append(_text(10, height + 34, f"(first {max_chips} of {chip['chips']} chips shown)"))
    return _svg(WIDTH, height + 40, body, label)


def _core_cell(core: dict | None, x: float, y: float, top: float) -> str:
    if core is None:
        return f'<rect x="{x}" y="{y}" width="12" height="12" fill="#f4f4f4" stroke="#e0e0e0"/>'
    u = core["utilisation"]
    tip = (f"core {core['core']} ({core['layer']}): busy {100 * u:.1f}% of the run, "
           f"{core['neurons']} neurons, {core['syn_ops']:.4g} synaptic ops per inference")
    return (f'<rect class="core" x="{x}" y="{y}" width="12" height="12" fill="{_shade(u / top)}" '
            f'stroke="#345"><title>{escape(tip)}</title></rect>')


def _scale_legend(top: float, y: float) -> str:
    cells = "".join(f'<rect x="{10 + 12 * i}" y="{y}" width="12" height="10" '
                    f'fill="{_shade(i / 9)}"/>' for i in range(10))
    return (cells + _text(10, y + 22, "0% busy") +
            _text(130, y + 22, f"{100 * top:.1f}% busy (the busiest core)"))
