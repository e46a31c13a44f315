"""The dashboard's charts as hand-built SVG: presentation attributes only, no style and no script.

Hand-built rather than matplotlib's SVG because the page's Content-Security-Policy forbids inline
styles (matplotlib writes `style=` on every shape) and a chart this small weighs a few KB.
A withheld figure (`Suppressed`) has no number, so it can only ever be a gap here: the mood line
breaks and no point is drawn. Every chart carries a `<title>` and a `<desc>` (its text
alternative); the page puts a table view beside it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

from markupsafe import Markup, escape

from handlers.reports import Enps, Mood, Period, Score

WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 44, 48, 16, 44
MOOD_COLOUR = "#1f5f99"
BAR_COLOUR = "#c9dcee"
GRID_COLOUR = "#d9d9d9"
TEXT_COLOUR = "#333333"


def _f(value: float) -> str:
    return f"{value:.1f}"


def trend_svg(periods: Sequence[Period], *, chart_id: str, title: str, desc: str,
              participation_label: str, mood_label: str) -> Markup:
    """Mood (line, 1–5, left axis) and participation (bars, 0–100 %, right axis) on one time axis."""
    n = max(len(periods), 1)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / n
    parts = _open_svg(chart_id, title, desc, HEIGHT)
    for level in range(1, 6):  # mood grid and left axis
        y = TOP + (5 - level) / 4 * plot_h
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{_f(y)}" y2="{_f(y)}" stroke="{GRID_COLOUR}"/>')
        parts.append(f'<text x="{LEFT - 8}" y="{_f(y + 4)}" text-anchor="end" font-size="11" '
                     f'fill="{TEXT_COLOUR}">{level}</text>')
    for share in (0, 50, 100):  # right axis: participation
        y = TOP + (1 - share / 100) * plot_h
        parts.append(f'<text x="{WIDTH - RIGHT + 6}" y="{_f(y + 4)}" font-size="11" fill="{TEXT_COLOUR}">'
                     f'{share}%</text>')
    path: list[str] = []
    points: list[str] = []
    pen_up = True
    for i, p in enumerate(periods):
        x = LEFT + (i + 0.5) * step
        if p.participation is not None:
            h = p.participation * plot_h
            parts.append(f'<rect x="{_f(x - step * 0.3)}" y="{_f(TOP + plot_h - h)}" width="{_f(step * 0.6)}" '
                         f'height="{_f(h)}" fill="{BAR_COLOUR}"/>')
        parts.append(_period_label(i, n, x, HEIGHT - BOTTOM + 16, p.period))
        if isinstance(p.mood, Mood):
            y = TOP + (5 - p.mood.mean) / 4 * plot_h
            path.append(f"{'M' if pen_up else 'L'}{_f(x)} {_f(y)}")
            points.append(f'<circle cx="{_f(x)}" cy="{_f(y)}" r="3.5" fill="{MOOD_COLOUR}"/>')
            pen_up = False
        else:
            pen_up = True  # a withheld or pending figure: the line breaks, nothing is drawn
    if path:
        parts.append(f'<path d="{" ".join(path)}" fill="none" stroke="{MOOD_COLOUR}" stroke-width="2.5"/>')
    parts.extend(points)
    legend_y = HEIGHT - 8
    parts.append(f'<rect x="{LEFT}" y="{legend_y - 9}" width="12" height="10" fill="{BAR_COLOUR}"/>'
                 f'<text x="{LEFT + 16}" y="{legend_y}" font-size="11" fill="{TEXT_COLOUR}">'
                 f'{escape(participation_label)}</text>')
    parts.append(f'<line x1="{LEFT + 170}" x2="{LEFT + 186}" y1="{legend_y - 4}" y2="{legend_y - 4}" '
                 f'stroke="{MOOD_COLOUR}" stroke-width="2.5"/>'
                 f'<text x="{LEFT + 192}" y="{legend_y}" font-size="11" fill="{TEXT_COLOUR}">'
                 f'{escape(mood_label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text above went through escape()


def sparkline_svg(points: Sequence[float | None], *, label: str) -> Markup:
    """A small mood trend for the overview table (1–5); gaps where a figure is withheld."""
    w, h, pad = 120, 28, 3
    n = max(len(points), 1)
    step = (w - 2 * pad) / max(n - 1, 1)
    path: list[str] = []
    pen_up = True
    for i, v in enumerate(points):
        if v is None:
            pen_up = True
            continue
        x, y = pad + i * step, pad + (5 - v) / 4 * (h - 2 * pad)
        path.append(f"{'M' if pen_up else 'L'}{_f(x)} {_f(y)}")
        pen_up = False
    line = f'<path d="{" ".join(path)}" fill="none" stroke="{MOOD_COLOUR}" stroke-width="2"/>' if path else ""
    return Markup(  # noqa: S704 - the label is escaped, the rest is numbers
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}" height="{h}" role="img" '
        f'aria-label="{escape(label)}">{line}</svg>'
    )


# Worst to best, as the check-in's buttons ascend; readable apart in greyscale too.
SCALE_COLOURS = ("#b2182b", "#ef8a62", "#bdbdbd", "#67a9cf", "#2166ac")


def distribution_svg(periods: Sequence[Period], *, chart_id: str, title: str, desc: str,
                     value_label: str) -> Markup:
    """How many chose each mood (1–5) per closed period, as stacked shares; a withheld period stays empty."""
    n = max(len(periods), 1)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / n
    parts = _open_svg(chart_id, title, desc, HEIGHT)
    for share in (0, 50, 100):
        y = TOP + (1 - share / 100) * plot_h
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{_f(y)}" y2="{_f(y)}" stroke="{GRID_COLOUR}"/>'
                     f'<text x="{LEFT - 8}" y="{_f(y + 4)}" text-anchor="end" font-size="11" '
                     f'fill="{TEXT_COLOUR}">{share}%</text>')
    for i, p in enumerate(periods):
        x = LEFT + (i + 0.5) * step
        parts.append(_period_label(i, n, x, HEIGHT - BOTTOM + 16, p.period))
        if not isinstance(p.mood, Mood):
            continue  # withheld or still open: no bar at all
        total = sum(p.mood.distribution) or 1
        bottom = float(TOP + plot_h)
        for count, colour in zip(p.mood.distribution, SCALE_COLOURS, strict=True):
            h = count / total * plot_h
            if h > 0:
                parts.append(f'<rect x="{_f(x - step * 0.3)}" y="{_f(bottom - h)}" width="{_f(step * 0.6)}" '
                             f'height="{_f(h)}" fill="{colour}"/>')
            bottom -= h
    legend_y = HEIGHT - 8
    parts.append(f'<text x="{LEFT}" y="{legend_y}" font-size="11" fill="{TEXT_COLOUR}">{escape(value_label)}</text>')
    for v, colour in enumerate(SCALE_COLOURS, start=1):
        x = LEFT + 110 + (v - 1) * 40
        parts.append(f'<rect x="{x}" y="{legend_y - 9}" width="12" height="10" fill="{colour}"/>'
                     f'<text x="{x + 16}" y="{legend_y}" font-size="11" fill="{TEXT_COLOUR}">{v}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text above went through escape()


def _period_label(i: int, n: int, x: float, y: float, period: str) -> str:
    """The name of the i-th of n periods under the axis, for about eight of them and the last."""
    if i % math.ceil(n / 8) and i != n - 1:
        return ""
    return (f'<text x="{_f(x)}" y="{_f(y)}" text-anchor="middle" font-size="10" '
            f'fill="{TEXT_COLOUR}">{escape(period)}</text>')


def _open_svg(chart_id: str, title: str, desc: str, height: int) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" role="img" class="chart" '
        f'aria-labelledby="{chart_id}-t {chart_id}-d">',
        f'<title id="{chart_id}-t">{escape(title)}</title><desc id="{chart_id}-d">{escape(desc)}</desc>',
    ]


HEAT_LEFT, HEAT_ROW = 150, 24
WITHHELD_COLOUR = "#9e9e9e"


def heatmap_svg(periods: Sequence[Period], drivers: Sequence[tuple[str, str]], *, chart_id: str, title: str,
                desc: str, value_label: str, fmt: Callable[[float], str]) -> Markup:
    """Driver (rows, `(name, label)`) × period (columns): each round scores its one driver, coloured 1–5.

    A withheld or pending score is an empty dashed cell: no colour and no number.
    """
    n = max(len(periods), 1)
    rows = {name: j for j, (name, _label) in enumerate(drivers)}
    plot_w = WIDTH - HEAT_LEFT - 16
    step = plot_w / n
    height = TOP + max(len(drivers), 1) * HEAT_ROW + 56
    parts = _open_svg(chart_id, title, desc, height)
    for j, (_name, label) in enumerate(drivers):
        y = TOP + j * HEAT_ROW
        parts.append(f'<text x="{HEAT_LEFT - 8}" y="{_f(y + HEAT_ROW / 2 + 4)}" text-anchor="end" font-size="11" '
                     f'fill="{TEXT_COLOUR}">{escape(label)}</text>'
                     f'<line x1="{HEAT_LEFT}" x2="{WIDTH - 16}" y1="{_f(y + HEAT_ROW)}" y2="{_f(y + HEAT_ROW)}" '
                     f'stroke="{GRID_COLOUR}"/>')
    bottom = TOP + max(len(drivers), 1) * HEAT_ROW
    for i, p in enumerate(periods):
        x = HEAT_LEFT + i * step
        parts.append(_period_label(i, n, x + step / 2, bottom + 16, p.period))
        row = rows.get(p.driver)
        if row is None:
            continue
        y = TOP + row * HEAT_ROW + 2
        cell = f'x="{_f(x + 1)}" y="{_f(y)}" width="{_f(max(step - 2, 1))}" height="{HEAT_ROW - 4}"'
        s = p.driver_score
        if not isinstance(s, Score):
            parts.append(f'<rect {cell} fill="none" stroke="{WITHHELD_COLOUR}" stroke-dasharray="3 2"/>')
            continue
        level = min(4, max(0, round(s.mean) - 1))
        parts.append(f'<rect {cell} fill="{SCALE_COLOURS[level]}"/>')
        if step >= 28:
            ink = "#ffffff" if level in (0, 4) else TEXT_COLOUR
            parts.append(f'<text x="{_f(x + step / 2)}" y="{_f(y + HEAT_ROW / 2 + 2)}" text-anchor="middle" '
                         f'font-size="10" fill="{ink}">{escape(fmt(s.mean))}</text>')
    legend_y = height - 8
    parts.append(f'<text x="{HEAT_LEFT - 8}" y="{legend_y}" text-anchor="end" font-size="11" '
                 f'fill="{TEXT_COLOUR}">{escape(value_label)}</text>')
    for v, colour in enumerate(SCALE_COLOURS, start=1):
        x = HEAT_LEFT + (v - 1) * 40
        parts.append(f'<rect x="{x}" y="{legend_y - 9}" width="12" height="10" fill="{colour}"/>'
                     f'<text x="{x + 16}" y="{legend_y}" font-size="11" fill="{TEXT_COLOUR}">{v}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text above went through escape()


ENPS_UP, ENPS_DOWN = "#2166ac", "#b2182b"


def enps_svg(periods: Sequence[Period], *, chart_id: str, title: str, desc: str,
             fmt: Callable[[float], str]) -> Markup:
    """eNPS per period (−100…100) as bars up or down from zero; a round that did not ask it, or whose
    eNPS is withheld or pending, has no bar and no number."""
    n = max(len(periods), 1)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / n
    zero = TOP + plot_h / 2
    parts = _open_svg(chart_id, title, desc, HEIGHT)
    for level in (-100, -50, 0, 50, 100):
        y = zero - level / 200 * plot_h
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{_f(y)}" y2="{_f(y)}" '
                     f'stroke="{TEXT_COLOUR if level == 0 else GRID_COLOUR}"/>'
                     f'<text x="{LEFT - 8}" y="{_f(y + 4)}" text-anchor="end" font-size="11" '
                     f'fill="{TEXT_COLOUR}">{level}</text>')
    for i, p in enumerate(periods):
        x = LEFT + (i + 0.5) * step
        parts.append(_period_label(i, n, x, HEIGHT - BOTTOM + 16, p.period))
        e = p.enps
        if not isinstance(e, Enps):
            continue
        h = abs(e.score) / 200 * plot_h
        top = zero - h if e.score >= 0 else zero
        parts.append(f'<rect x="{_f(x - step * 0.3)}" y="{_f(top)}" width="{_f(step * 0.6)}" height="{_f(h)}" '
                     f'fill="{ENPS_UP if e.score >= 0 else ENPS_DOWN}"/>')
        label_y = top - 4 if e.score >= 0 else zero - 4  # a negative bar's number sits above the zero line
        parts.append(f'<text x="{_f(x)}" y="{_f(label_y)}" text-anchor="middle" font-size="10" '
                     f'fill="{TEXT_COLOUR}">{escape(fmt(e.score))}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text above went through escape()
