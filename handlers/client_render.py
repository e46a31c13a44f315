"""The client-connection view in words and data: per period, the "customer" driver beside the
empty chairs opened, the share of them with client impacts and the follow-ups resolved.

The product's thesis made visible: do teams that keep the client in the room also feel closer to
the client? The score comes guarded from `handlers.reports` and is worded by `score_text`, so a
withheld score reads the same here as anywhere else; chair figures are not answers.
"""

from __future__ import annotations

from typing import Any

from handlers.figure_text import score_text
from handlers.i18n import fmt_number, fmt_percent, t, tn
from handlers.report_model import ClientPeriod, Pending, Score, TeamReport


def _r(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def _customer_json(c: ClientPeriod) -> dict[str, Any] | None:
    s = c.customer
    if s is None:
        return None  # the period's round asked another driver
    if isinstance(s, Score):
        return {"suppressed": False, "mean": _r(s.mean, 2), "respondents": s.respondents}
    if isinstance(s, Pending):  # an open round: no figure yet, and when it comes
        return {"suppressed": True, "pending": True, "results_at": s.closes.isoformat()}
    return {"suppressed": True}


def client_json(r: TeamReport) -> list[dict[str, Any]]:
    """One entry per period (`customer` null when the round asked another driver)."""
    return [{
        "period": c.period,
        "customer": _customer_json(c),
        "chairs_opened": c.chairs_opened,
        "chairs_with_impact": c.chairs_with_impact,
        "share_with_impact": _r(c.share_with_impact, 3),
        "followups_resolved": c.followups_resolved,
    } for c in r.client]


def client_csv_rows(r: TeamReport) -> list[tuple[str, str, Any, bool]]:
    """(period, metric, value, suppressed) rows; the customer score only where the round asked it."""
    rows: list[tuple[str, str, Any, bool]] = []
    for c in r.client:
        if c.customer is not None:
            shown = isinstance(c.customer, Score)
            rows.append((c.period, "client_customer_score", _r(c.customer.mean, 2) if shown else None, not shown))  # type: ignore[union-attr]
        rows.append((c.period, "client_chairs_opened", c.chairs_opened, False))
        rows.append((c.period, "client_chairs_with_impact", c.chairs_with_impact, False))
        rows.append((c.period, "client_share_with_impact", _r(c.share_with_impact, 3), False))
        rows.append((c.period, "client_followups_resolved", c.followups_resolved, False))
    return rows


def customer_text(c: ClientPeriod, r: TeamReport, locale: str) -> str:
    """The period's customer-connection score, why it is not shown, or that it was not asked."""
    if c.customer is None:
        return t("reports.client.not_asked", locale)
    return score_text(c.customer, r, locale)


def chairs_text(c: ClientPeriod, locale: str) -> str:
    """"2 chairs opened, 50 % with client impacts"."""
    opened = tn("reports.chairs_opened", c.chairs_opened, locale)
    if not c.chairs_opened:
        return opened
    return t("reports.client.with_impact", locale, opened=opened, share=fmt_percent(c.share_with_impact or 0.0, locale))


def resolved_text(c: ClientPeriod, locale: str) -> str:
    """"1 follow-up resolved"."""
    return tn("reports.client.resolved", c.followups_resolved, locale)


def client_line(c: ClientPeriod, r: TeamReport, locale: str) -> str:
    """One period in a line: the score, the chairs, the follow-ups resolved."""
    return " · ".join((t("reports.client.customer", locale, score=customer_text(c, r, locale)),
                       chairs_text(c, locale), resolved_text(c, locale)))


def client_facts(r: TeamReport, locale: str) -> tuple[tuple[str, str], ...]:
    """(period, line) for each period."""
    return tuple((c.period, client_line(c, r, locale)) for c in r.client)


def client_rows(r: TeamReport, locale: str) -> list[tuple[str, str, str, str, str]]:
    """The dashboard's table: period, customer score, chairs opened, share with impacts, follow-ups resolved."""
    return [(c.period, customer_text(c, r, locale), fmt_number(c.chairs_opened, locale),
             fmt_percent(c.share_with_impact, locale) if c.share_with_impact is not None else "—",
             fmt_number(c.followups_resolved, locale)) for c in r.client]

