"""The team page's sections beyond the chat message: driver heatmap, eNPS trend, empty chair, deliveries.

Each reads the same `TeamReport` as chat and words every figure, and every withheld one, with
`handlers.report_render`'s functions, so the page cannot say a figure another way. A chart comes
with its text alternative and the rows of its table view.
"""

from __future__ import annotations

from typing import Any

from bot.web.charts import enps_svg, heatmap_svg
from handlers.client_render import client_rows
from handlers.commitment_render import commitment_rows
from handlers.drivers import BANK
from handlers.figure_text import score_text
from handlers.followup_render import followups_items
from handlers.i18n import fmt_number, fmt_percent, t
from handlers.report_render import driver_label, enps_text, signed_text
from handlers.reports import TeamReport
from storage.models import IMPACT_EFFECTS


def _drivers(team: TeamReport) -> list[str]:
    """The drivers the window's rounds asked, in the bank's order (any other after, by name)."""
    asked = {p.driver for p in team.periods}
    return sorted(asked, key=lambda d: (BANK.index(d) if d in BANK else len(BANK), d))


def heatmap(team: TeamReport, locale: str) -> dict[str, Any] | None:
    """Driver × period: each round's own driver score; its table view has one row per round."""
    if not team.periods:
        return None
    title = t("dashboard.heatmap.title", locale)
    desc = t("dashboard.heatmap.alt", locale, team=team.team, k=team.min_group_size)
    drivers = [(d, driver_label(d, locale)) for d in _drivers(team)]
    return {
        "title": title, "alt": desc,
        "svg": heatmap_svg(team.periods, drivers, chart_id="heat", title=title, desc=desc,
                           value_label=t("dashboard.col.score", locale),
                           fmt=lambda v: fmt_number(v, locale, 1)),
        "columns": (t("dashboard.col.period", locale), t("dashboard.col.driver", locale),
                    t("dashboard.col.score", locale)),
        "rows": [(p.period, driver_label(p.driver, locale), score_text(p.driver_score, team, locale))
                 for p in team.periods],
    }


def enps(team: TeamReport, locale: str) -> dict[str, Any] | None:
    """eNPS of each round that asked it; a notice when none in the window did."""
    if not team.periods:
        return None
    title = t("dashboard.enps.title", locale)
    asked = [p for p in team.periods if p.enps is not None]
    if not asked:
        return {"title": title, "none": t("dashboard.enps.none", locale)}
    desc = t("dashboard.enps.alt", locale, team=team.team, k=team.min_group_size)
    return {
        "title": title, "alt": desc,
        "svg": enps_svg(team.periods, chart_id="enps", title=title, desc=desc,
                        fmt=lambda v: signed_text(v, locale, 0)),
        "columns": (t("dashboard.col.period", locale), t("reports.label.enps", locale)),
        "rows": [(p.period, enps_text(p.enps, team, locale)) for p in asked if p.enps is not None],
    }


def chairs(team: TeamReport, locale: str) -> dict[str, Any]:
    """The empty chair over the window: opened, the share with client impacts, the impact mix."""
    c = team.chairs
    items = [(t("dashboard.chairs.opened", locale), fmt_number(c.opened, locale))]
    if c.opened:
        items.append((t("dashboard.chairs.share", locale), fmt_percent(c.share_with_impact or 0.0, locale)))
        items.extend((t(f"chair.effect.{effect}", locale), fmt_number(getattr(c, effect), locale))
                     for effect in IMPACT_EFFECTS)
        # The report's "open unknowns": every "we don't know" is a question still to find out.
        items.append((t("dashboard.chairs.open_unknowns", locale), fmt_number(c.unknown, locale)))
    items.extend(followups_items(team, locale))  # open, overdue, resolved, median days to resolve
    return {"title": t("reports.label.empty_chair", locale), "items": items}


def deliveries(team: TeamReport, locale: str) -> dict[str, Any]:
    """Check-ins that were not delivered (or maybe were), per round, for whoever runs pulsebot."""
    rows = [(p.period, fmt_number(p.failed, locale), fmt_number(p.maybe_delivered, locale))
            for p in team.periods if p.failed or p.maybe_delivered]
    return {
        "title": t("dashboard.deliveries.title", locale),
        "none": None if rows else t("dashboard.deliveries.none", locale),
        "columns": (t("dashboard.col.period", locale), t("reports.label.failed", locale),
                    t("reports.label.maybe_delivered", locale)),
        "rows": rows,
    }


def client(team: TeamReport, locale: str) -> dict[str, Any] | None:
    """The client-connection view: per period, the client-connection score beside the chairs and follow-ups."""
    if not team.client:
        return None
    return {
        "title": t("dashboard.client.title", locale),
        "intro": t("dashboard.client.intro", locale, statement=t("driver.customer", locale), k=team.min_group_size),
        "columns": (t("dashboard.col.period", locale), t("dashboard.client.customer", locale),
                    t("dashboard.chairs.opened", locale), t("dashboard.chairs.share", locale),
                    t("dashboard.client.resolved", locale)),
        "rows": client_rows(team, locale),
    }


def commitments(team: TeamReport, locale: str) -> dict[str, Any] | None:
    """Leaders' commitments: per closed period, the focus and sentence (or none) beside the follow-up."""
    if not team.commitments:
        return None
    return {
        "title": t("dashboard.commitments.title", locale),
        "intro": t("dashboard.commitments.intro", locale, k=team.min_group_size),
        "columns": (t("dashboard.col.period", locale), t("dashboard.commitments.commitment", locale),
                    t("dashboard.commitments.followup", locale)),
        "rows": commitment_rows(team, locale),
    }
