"""Small self-contained SVG charts for the eval and sweep pages: histogram, heatmap, scatter."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape

import numpy as np

W, H, PAD = 440, 240, 44


def _svg(body: list[str], label: str, w: int = W, h: int = H) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
            f'viewBox="0 0 {w} {h}" role="img" aria-label="{escape(label)}">'
            + "".join(body) + "</svg>")


def _text(x: float, y: float, s: str, anchor: str = "middle", size: int = 11) -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}">'
            f"{escape(s)}</text>")


def histogram(values: Sequence[float], fmt: Callable[[float], str], label: str,
              bins: int = 20) -> str:
    v = np.asarray(values, np.float64)
    if v.size == 0:
        return _svg([_text(W / 2, H / 2, "no samples")], label)
    lo, hi = float(v.min()), float(v.max())
    if hi <= lo:
        hi = lo + (abs(lo) * 1e-6 or 1e-12)
    counts, edges = np.histogram(v, bins=bins, range=(lo, hi))
    cmax = max(int(counts.max()), 1)
    pw, ph = W - 2 * PAD, H - 2 * PAD
    body = [f'<line x1="{PAD}" y1="{H - PAD}" x2="{W - PAD}" y2="{H - PAD}" stroke="#444"/>']
    bw = pw / bins
    for i, c in enumerate(counts):
        h = ph * c / cmax
        body.append(f'<rect x="{PAD + i * bw:.1f}" y="{H - PAD - h:.1f}" width="{bw - 1:.1f}" '
                    f'height="{h:.1f}" fill="#2e86c1"><title>{escape(fmt(edges[i]))} - '
                    f"{escape(fmt(edges[i + 1]))}: {int(c)}</title></rect>")
    body += [_text(PAD, H - PAD + 16, fmt(lo), "start"), _text(W - PAD, H - PAD + 16, fmt(hi),
                                                                  "end"),
             _text(PAD - 6, PAD + 4, str(cmax), "end"), _text(W / 2, H - 8, label)]
    return _svg(body, label)


def heatmap(matrix: np.ndarray, label: str, xlabel: str, ylabel: str) -> str:
    m = np.asarray(matrix, np.float64)
    k = m.shape[0]
    cell = max(12, min(32, 300 // max(k, 1)))
    size = PAD + k * cell + 20
    top = float(m.max()) or 1.0
    body = []
    for i in range(k):
        for j in range(k):
            u = m[i, j] / top
            shade = int(255 - 200 * u)
            body.append(f'<rect x="{PAD + j * cell}" y="{PAD + i * cell}" width="{cell}" '
                        f'height="{cell}" fill="rgb({shade},{shade},255)" stroke="#fff">'
                        f"<title>{ylabel} {i}, {xlabel} {j}: {int(m[i, j])}</title></rect>")
            if m[i, j]:
                body.append(_text(PAD + (j + .5) * cell, PAD + (i + .5) * cell + 4,
                                  str(int(m[i, j])), size=9))
        body.append(_text(PAD - 6, PAD + (i + .5) * cell + 4, str(i), "end", 9))
        body.append(_text(PAD + (i + .5) * cell, PAD - 6, str(i), size=9))
    body += [_text(PAD + k * cell / 2, 14, xlabel), _text(12, PAD + k * cell / 2, ylabel)]
    return _svg(body, label, size, size)


def scatter(points: Sequence[tuple[float, float, str, bool]], xfmt: Callable[[float], str],
            xlabel: str, ylabel: str, label: str) -> str:
    """Points (x, y in [0, 1] accuracy, name, on the Pareto front); the front is joined."""
    if not points:
        return _svg([_text(W / 2, H / 2, "no points")], label)
    xs = np.array([p[0] for p in points], np.float64)
    lo, hi = float(xs.min()), float(xs.max())
    span = (hi - lo) or (abs(hi) * 0.1 or 1.0)
    lo, hi = lo - 0.05 * span, hi + 0.05 * span
    pw, ph = W - 2 * PAD, H - 2 * PAD

    def px(x: float) -> float:
        return PAD + pw * (x - lo) / (hi - lo)

    def py(y: float) -> float:
        return H - PAD - ph * y

    body = [f'<line x1="{PAD}" y1="{H - PAD}" x2="{W - PAD}" y2="{H - PAD}" stroke="#444"/>',
            f'<line x1="{PAD}" y1="{PAD}" x2="{PAD}" y2="{H - PAD}" stroke="#444"/>']
    front = sorted((p for p in points if p[3]), key=lambda p: p[0])
    if len(front) > 1:
        path = " ".join(f"{px(p[0]):.1f},{py(p[1]):.1f}" for p in front)
        body.append(f'<polyline points="{path}" fill="none" stroke="#c0392b"/>')
    for x, y, name, on in points:
        colour = "#c0392b" if on else "#7f8c8d"
        body.append(f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="4" fill="{colour}">'
                    f"<title>{escape(name)}: {escape(xfmt(x))}, {y:.1%}</title></circle>")
    body += [_text(PAD, H - PAD + 16, xfmt(lo), "start"), _text(W - PAD, H - PAD + 16, xfmt(hi),
                                                                   "end"),
             _text(PAD - 6, PAD + 4, "100%", "end"), _text(PAD - 6, H - PAD, "0%", "end"),
             _text(W / 2, H - 8, xlabel),
             f'<text x="0" y="0" font-size="11" text-anchor="middle" '
             f'transform="translate(12,{H / 2:.0f}) rotate(-90)">{escape(ylabel)}</text>']
    return _svg(body, label)
