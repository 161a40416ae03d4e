"""Small server-rendered SVG plots (no chart library, nothing fetched): a histogram and a p50/p90 trend."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup

W, H, LEFT, BOTTOM, TOP = 640, 220, 44, 28, 10


def histogram(values: Sequence[float], *, title: str, bins: int = 12) -> Markup:
    if not values:
        return Markup("")
    top = max(values) or 1.0
    width = top / bins
    counts = [0] * bins
    for v in values:
        counts[min(bins - 1, int(v / width))] += 1
    most = max(counts)
    bar_w = (W - LEFT - 10) / bins
    out = [_open(title)]
    for i, c in enumerate(counts):
        h = (H - BOTTOM - TOP) * c / most
        x = LEFT + i * bar_w
        out.append(
            f'<rect class="bar" x="{x + 1:.1f}" y="{H - BOTTOM - h:.1f}" width="{bar_w - 2:.1f}" height="{h:.1f}">'
            f"<title>{i * width:.0f}-{(i + 1) * width:.0f} s: {c}</title></rect>"
        )
        if i % 2 == 0:
            out.append(f'<text x="{x:.1f}" y="{H - BOTTOM + 14}">{i * width:.{0 if width >= 1 else 1}f}</text>')
    out.append(f'<text x="{W - 40}" y="{H - BOTTOM + 14}">{top:.0f} s</text>')
    out.append(f'<text x="4" y="{TOP + 10}">{most}</text>')
    out.append(_axes())
    out.append("</svg>")
    return Markup("".join(out))


def trend(days: Sequence[str], p50: Sequence[float | None], p90: Sequence[float | None], *, title: str) -> Markup:
    present = [v for v in (*p50, *p90) if v is not None]
    if not days or not present:
        return Markup("")
    top = max(present) or 1.0
    step = (W - LEFT - 10) / max(1, len(days) - 1)

    def line(values: Sequence[float | None], css: str) -> str:
        pts = [
            f"{LEFT + i * step:.1f},{H - BOTTOM - (H - BOTTOM - TOP) * v / top:.1f}"
            for i, v in enumerate(values)
            if v is not None
        ]
        dots = "".join(f'<circle class="{css}" cx="{p.split(",")[0]}" cy="{p.split(",")[1]}" r="3"/>' for p in pts)
        return f'<polyline class="{css}" points="{" ".join(pts)}"/>{dots}'

    out = [_open(title), line(p50, "p50"), line(p90, "p90"), _axes()]
    out.append(f'<text x="4" y="{TOP + 10}">{top:.0f} s</text>')
    for i in (0, len(days) - 1):
        out.append(f'<text x="{LEFT + i * step - (60 if i else 0):.1f}" y="{H - BOTTOM + 14}">{escape(days[i])}</text>')
    out.append(f'<text class="legend" x="{W - 150}" y="{TOP + 10}" fill="#0a6b2f">— p50</text>')
    out.append(f'<text class="legend" x="{W - 90}" y="{TOP + 10}" fill="#a4001d">— p90</text>')
    out.append("</svg>")
    return Markup("".join(out))


def _open(title: str) -> str:
    return (
        f'<svg class="plot" viewBox="0 0 {W} {H}" role="img" aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
    )


def _axes() -> str:
    return (
        f'<line class="axis" x1="{LEFT}" y1="{H - BOTTOM}" x2="{W - 6}" y2="{H - BOTTOM}"/>'
        f'<line class="axis" x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{H - BOTTOM}"/>'
    )
