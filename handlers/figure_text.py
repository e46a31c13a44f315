"""How chat and the dashboard word one guarded figure: its number, or why it is not shown.

Shared by `handlers.report_render`, `handlers.client_render` and the dashboard, so a withheld
figure reads the same wherever it appears.
"""

from __future__ import annotations

from handlers.i18n import fmt_date, fmt_number, t
from handlers.report_model import Pending, Score, Suppressed, TeamReport


def withheld_text(figure: object, r: TeamReport, locale: str) -> str | None:
    """The words for a figure that is not shown (pending, or below the threshold); None for one that is."""
    if isinstance(figure, Pending):
        return t("reports.pending", locale, date=fmt_date(figure.closes, locale))
    if isinstance(figure, Suppressed):
        return t("reports.suppressed", locale, k=r.min_group_size)
    return None


def score_text(s: Score | Suppressed, r: TeamReport, locale: str) -> str:
    """A driver score (of the window or of one period), or why it is not shown."""
    return fmt_number(s.mean, locale, 1) if isinstance(s, Score) else withheld_text(s, r, locale) or ""
