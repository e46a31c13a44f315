"""The trend chart of one team as a PNG (matplotlib, Agg): mood per period, participation as bars.

Withheld periods are gaps in the line, never a point. Built with `Figure` directly (no pyplot
global state), so several reports can render at once from worker threads.
"""

from __future__ import annotations

import io
import logging
import os
import threading
from functools import lru_cache

from handlers.i18n import t
from handlers.reports import Mood, TeamReport

logger = logging.getLogger(__name__)


def warm_up() -> None:
    """Import matplotlib and draw one small labelled figure, so the first real chart does not pay.

    The first chart of a process costs about 1.2 s of import and about 1 s of font loading and
    text layout (the font list, FreeType faces, glyph caches); the report worker calls this in the
    background as it starts (bot/slack/heavy.py), before any leader asks.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(2.0, 1.0), dpi=50)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    ax.twinx().bar([0, 1], [50, 60])
    ax.plot([0, 1], [3.0, 4.0], marker="o")
    ax.scatter([0], [1.1], marker="x")
    ax.set_xticks([0, 1], ["01", "02"], fontsize=8)
    ax.set_title("pulse", fontsize=11)
    fig.text(0.01, 0.01, "n < 5", fontsize=7)
    fig.savefig(io.BytesIO(), format="png")


def warm_up_in_background(who: str) -> threading.Thread:
    """`warm_up` in a daemon thread at a lower CPU priority (Linux schedules threads one by one),
    so the process it runs in keeps starting, or acking, beside it. `who` names it in the log."""

    def run() -> None:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
        try:
            warm_up()
        except Exception:  # noqa: BLE001 - a failed warm-up only means the first chart pays for it
            logger.exception("chart warm-up failed", extra={"process": who})

    thread = threading.Thread(target=run, name="warm-charts", daemon=True)
    thread.start()
    return thread


# Where the axes sit in the figure: what `tight_layout` computed for this size, these fonts and
# both languages (every label is one line and the tick labels are fixed: 1-5, 0-100, period
# numbers). Laying out afresh cost a fifth of each chart's drawing time (issue 14).
_MARGINS = {"left": 0.081, "right": 0.898, "bottom": 0.112, "top": 0.889}
# Charts kept, by what they show: a leader asking again while nothing changed gets the same bytes.
CHARTS_KEPT = 64


def chart_png(report: TeamReport, locale: str) -> bytes:
    """The team's mood trend (1–5) over its periods, with participation bars on a second axis."""
    return _drawn(
        report.team, locale, report.min_group_size,
        tuple(p.period.split("-")[-1] for p in report.periods),
        tuple(p.mood.mean if isinstance(p.mood, Mood) else None for p in report.periods),
        tuple(100.0 * (p.participation or 0.0) for p in report.periods),
    )


@lru_cache(maxsize=CHARTS_KEPT)
def _drawn(team: str, locale: str, k: int, labels: tuple[str, ...], means: tuple[float | None, ...],
           shares: tuple[float, ...]) -> bytes:
    """The chart of exactly these figures (each argument is something drawn; nothing else is)."""
    # Imported here: matplotlib costs about half a second to import and most requests never draw.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    xs = list(range(len(labels)))
    moods = [float("nan") if m is None else m for m in means]

    fig = Figure(figsize=(7.0, 3.2), dpi=100)
    FigureCanvasAgg(fig)
    fig.subplots_adjust(**_MARGINS)
    ax = fig.add_subplot(1, 1, 1)
    bars = ax.twinx()
    bars.bar(xs, shares, color="#c9d6e8", width=0.6, zorder=0, label=t("reports.label.participation", locale))
    bars.set_ylim(0, 100)
    bars.set_ylabel(t("reports.chart.participation_axis", locale))
    ax.set_zorder(bars.get_zorder() + 1)
    ax.patch.set_visible(False)
    ax.plot(xs, moods, marker="o", color="#1f5fa8", linewidth=2, label=t("reports.label.mood", locale))
    gaps = [x for x, m in zip(xs, means, strict=True) if m is None]
    if gaps:  # a mark at the floor says "withheld", never a value
        ax.scatter(gaps, [1.1] * len(gaps), marker="x", color="#999999", s=20)
    ax.set_ylim(1, 5)
    ax.set_yticks([1, 2, 3, 4, 5])
    ax.set_ylabel(t("reports.chart.mood_axis", locale))
    ax.set_xticks(xs, labels, fontsize=8)
    ax.set_title(t("reports.chart.png_title", locale, team=team), fontsize=11)
    ax.grid(axis="y", alpha=0.3)
    if gaps:
        fig.text(0.01, 0.01, t("reports.chart.gap_note", locale, k=k), fontsize=7, color="#666666")
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()
