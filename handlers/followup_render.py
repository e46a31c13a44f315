"""The report's follow-up figures in words and data: open, overdue, resolved, median days to resolve.

Shared by the text and chat report (`handlers.report_render`), its JSON and CSV, the dashboard
and the digest, so every place says them the same way. They are not answers, so never withheld.
"""

from __future__ import annotations

from typing import Any

from handlers.i18n import fmt_number, t
from handlers.report_model import TeamReport


def _days(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def followups_json(r: TeamReport) -> dict[str, Any]:
    """`{"open", "overdue", "resolved", "median_days_to_resolve"}` (null median when none resolved)."""
    f = r.followups
    return {"open": f.open, "overdue": f.overdue, "resolved": f.resolved,
            "median_days_to_resolve": _days(f.median_days)}


def followups_csv_rows(r: TeamReport) -> list[tuple[str, Any]]:
    """(metric, value) rows, after every row readers already parse."""
    f = r.followups
    return [("followups_open", f.open), ("followups_overdue", f.overdue), ("followups_resolved", f.resolved),
            ("followups_median_days_to_resolve", _days(f.median_days))]


def median_text(r: TeamReport, locale: str) -> str:
    """"4.5 days", or a dash when nothing was resolved in the window."""
    m = r.followups.median_days
    if m is None:
        return t("followups.report.none", locale)
    return t("followups.median_days", locale, days=fmt_number(m, locale, 1))


def followups_text(r: TeamReport, locale: str) -> str:
    """One line: "2 open (1 overdue) · 3 resolved · median time to resolve: 4.5 days"."""
    f = r.followups
    return t("followups.report.value", locale, open=fmt_number(f.open, locale), overdue=fmt_number(f.overdue, locale),
             resolved=fmt_number(f.resolved, locale), median=median_text(r, locale))


def followups_fact(r: TeamReport, locale: str) -> tuple[str, str]:
    """The report's fact line (label, value)."""
    return t("followups.report.label", locale), followups_text(r, locale)


def followups_items(r: TeamReport, locale: str) -> list[tuple[str, str]]:
    """The dashboard's four figures, each labelled."""
    f = r.followups
    return [(t("followups.dash.open", locale), fmt_number(f.open, locale)),
            (t("followups.dash.overdue", locale), fmt_number(f.overdue, locale)),
            (t("followups.dash.resolved", locale), fmt_number(f.resolved, locale)),
            (t("followups.dash.median", locale), median_text(r, locale))]
