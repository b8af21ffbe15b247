"""Small server-side SVG charts for the HTML report: no JavaScript, no fonts or images fetched.

Readable in print: the two series differ by fill *and* by pattern (solid vs outlined), every
bar carries its value as text, and the shortfall is hatched, not only coloured.
"""
from __future__ import annotations

from html import escape

WIDTH, HEIGHT = 560, 240
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 28, 36


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.1f}"


def _scale(values: list[float]) -> float:
    top = max([v for v in values if v is not None] + [1.0])
    step = 10 ** max(0, len(str(int(top))) - 1)
    return (int(top / step) + 1) * step


def paired_bars(title: str, labels: list[str], first: tuple[str, list[float | None]],
                second: tuple[str, list[float | None]], *, shade_shortfall: bool = False) -> str:
    """Two bars per label (e.g. required vs planned FTE). `shade_shortfall` hatches second < first."""
    (name_a, a), (name_b, b) = first, second
    top = _scale([*(v for v in a if v is not None), *(v for v in b if v is not None)])
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    group = plot_w / max(len(labels), 1)
    bar = group * 0.34

    def y(v: float) -> float:
        return TOP + plot_h * (1 - v / top)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" '
           f'height="{HEIGHT}" role="img" aria-label="{escape(title)}" font-family="sans-serif" font-size="11">',
           f"<title>{escape(title)}</title>",
           '<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
           'patternTransform="rotate(45)"><line x1="0" y1="0" x2="0" y2="6" stroke="#b42318" stroke-width="2"/>'
           "</pattern></defs>",
           f'<text x="{LEFT}" y="16" font-size="13" font-weight="bold">{escape(title)}</text>']
    for k in range(5):       # grid and axis labels
        v = top * k / 4
        out.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{LEFT - 4}" y="{y(v) + 4:.1f}" text-anchor="end" fill="#555">{_fmt(v)}</text>')
    for i, label in enumerate(labels):
        x0 = LEFT + group * i + group * 0.14
        va, vb = a[i] if i < len(a) else None, b[i] if i < len(b) else None
        if va is not None:
            out.append(f'<rect x="{x0:.1f}" y="{y(va):.1f}" width="{bar:.1f}" height="{y(0) - y(va):.1f}" '
                       f'fill="#1d4ed8"><title>{escape(name_a)} {escape(label)}: {_fmt(va)}</title></rect>')
            out.append(f'<text x="{x0 + bar / 2:.1f}" y="{y(va) - 3:.1f}" text-anchor="middle">{_fmt(va)}</text>')
        if vb is not None:
            xb = x0 + bar
            out.append(f'<rect x="{xb:.1f}" y="{y(vb):.1f}" width="{bar:.1f}" height="{y(0) - y(vb):.1f}" '
                       f'fill="#ffffff" stroke="#111" stroke-width="1.5"><title>{escape(name_b)} {escape(label)}: '
                       f"{_fmt(vb)}</title></rect>")
            out.append(f'<text x="{xb + bar / 2:.1f}" y="{y(vb) - 3:.1f}" text-anchor="middle">{_fmt(vb)}</text>')
            if shade_shortfall and va is not None and vb < va:
                out.append(f'<rect class="gap" x="{xb:.1f}" y="{y(va):.1f}" width="{bar:.1f}" '
                           f'height="{y(vb) - y(va):.1f}" fill="url(#hatch)" stroke="#b42318">'
                           f"<title>short {_fmt(va - vb)} in {escape(label)}</title></rect>")
        out.append(f'<text x="{x0 + bar:.1f}" y="{HEIGHT - BOTTOM + 14}" text-anchor="middle">{escape(label)}</text>')
    legend_y = HEIGHT - 8
    out.append(f'<rect x="{LEFT}" y="{legend_y - 9}" width="10" height="10" fill="#1d4ed8"/>'
               f'<text x="{LEFT + 14}" y="{legend_y}">{escape(name_a)}</text>')
    out.append(f'<rect x="{LEFT + 150}" y="{legend_y - 9}" width="10" height="10" fill="#fff" stroke="#111"/>'
               f'<text x="{LEFT + 164}" y="{legend_y}">{escape(name_b)}</text>')
    if shade_shortfall:
        out.append(f'<rect x="{LEFT + 300}" y="{legend_y - 9}" width="10" height="10" fill="url(#hatch)" '
                   f'stroke="#b42318"/><text x="{LEFT + 314}" y="{legend_y}">shortfall</text>')
    out.append("</svg>")
    return "".join(out)
