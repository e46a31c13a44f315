"""The dashboard's HTML: Jinja2 templates (package data) filled from the shared report and its neutral message.

The team page renders the very `Message` that `/team-pulse` sends (`report_message`), so every
figure, and every "hidden: fewer than N answered", is worded as in chat; the chart and its table
view read the same `TeamReport`. Autoescape is on: comments and team names are text, never markup.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from jinja2 import Environment, PackageLoader, select_autoescape

from bot.web import sections
from bot.web.charts import distribution_svg, sparkline_svg, trend_svg
from handlers.dashboard import PERIOD_CHOICES, Reader
from handlers.i18n import SUPPORTED, fmt_number, t
from handlers.messages import Actions, Chart, Facts, Message, Notice, Text
from handlers.report_render import alert_text, mood_text, participation_text, report_message
from handlers.reports import CompanyReport, Mood, TeamReport

_ENV = Environment(
    loader=PackageLoader("bot.web", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def team_path(name: str) -> str:
    """The team page's path (the name quoted: team names may hold spaces or accents)."""
    return "/dashboard/team/" + quote(name, safe="")


def reply_path(comment_id: str) -> str:
    """Where the dashboard's reply form beside a comment posts (the comment's random id only)."""
    return "/dashboard/reply/" + quote(comment_id, safe="")


def _query(**params: Any) -> str:
    return "?" + urlencode({k: v for k, v in params.items() if v is not None})


def render(template: str, locale: str, **values: Any) -> str:
    """One page in `locale`; `_` in templates is `t` in that language."""
    return _ENV.get_template(template).render(
        lang=locale, _=lambda msg_id, **kw: t(msg_id, locale, **kw), **values,
    )


def _chrome(locale: str, path: str, weeks: int | None) -> dict[str, Any]:
    """What every signed-in page has: the language switch (keeping the page) and sign-out."""
    return {
        "signed_in": True,
        "languages": [(lang, path + _query(weeks=weeks, lang=lang)) for lang in SUPPORTED],
        "overview_url": "/dashboard/" + _query(weeks=weeks, lang=locale),
    }


def _trend_words(team: TeamReport, locale: str) -> str:
    """The trend chart's text alternative in words, a period at a time (chat's ▆· glyphs are for
    chat: a screen reader reads them as nothing, and a browser without the font draws boxes)."""
    moods = "; ".join(f"{p.period}: {mood_text(p, team, locale)}" for p in team.periods)
    return t("dashboard.trend.alt", locale, team=team.team, moods=moods or t("reports.no_rounds", locale))


def _blocks(message: Message, team: TeamReport, locale: str) -> list[dict[str, Any]]:
    """The chat message's blocks as template items; the chart becomes SVG plus a table view."""
    out: list[dict[str, Any]] = []
    for block in message.blocks:
        match block:
            case Text(text=text, emphasis=emphasis):
                out.append({"kind": emphasis, "text": text})
            case Notice(text=text, level=level):
                out.append({"kind": "notice", "level": level, "text": text})
            case Facts(items=items):
                out.append({"kind": "facts", "items": items})
            case Actions(buttons=buttons):
                # The chat report's "Reply" beside a comment: here a small form posted to pulsebot.
                out.extend({"kind": "reply", "label": b.label, "url": reply_path(b.value)}
                           for b in buttons if b.action == "reply.start")
            case Chart(title=title):
                alt = _trend_words(team, locale)
                out.append({"kind": "chart", "title": title, "alt": alt, "svg": trend_svg(
                    team.periods, chart_id="trend", title=title, desc=alt,
                    participation_label=t("reports.label.participation", locale),
                    mood_label=t("reports.label.mood", locale),
                ), "rows": [(p.period, participation_text(p, locale), mood_text(p, team, locale))
                            for p in team.periods]})
    return out


def _distribution(team: TeamReport, locale: str) -> dict[str, Any] | None:
    """Mood distribution per closed round (as `pulsebot report --format json` has it), with its table."""
    if not team.periods:
        return None
    title = t("dashboard.distribution.title", locale)
    return {
        "title": title,
        "alt": t("dashboard.distribution.alt", locale, team=team.team, k=team.min_group_size),
        "svg": distribution_svg(team.periods, chart_id="dist", title=title,
                                desc=t("dashboard.distribution.alt", locale, team=team.team, k=team.min_group_size),
                                value_label=t("reports.label.mood", locale)),
        "rows": [(p.period, " · ".join(f"{v}: {fmt_number(c, locale)}" for v, c in enumerate(p.mood.distribution, 1))
                  if isinstance(p.mood, Mood) else mood_text(p, team, locale)) for p in team.periods],
    }


def team_page(report: CompanyReport, reader: Reader, locale: str, weeks: int, *, relay_minutes: int = 15) -> str:
    """The team page: the chat report's blocks (a reply form beside each comment), the chart with its
    table, downloads, period choice."""
    (team,) = report.teams
    path = team_path(team.team)
    return render(
        "team.html", locale, title=t("reports.title", locale, team=team.team, n=weeks),
        blocks=_blocks(report_message(report, locale, replies=True), team, locale), relay_minutes=relay_minutes,
        distribution=_distribution(team, locale),
        heatmap=sections.heatmap(team, locale), enps=sections.enps(team, locale),
        chairs=sections.chairs(team, locale), client=sections.client(team, locale),
        commitments=sections.commitments(team, locale),
        deliveries=sections.deliveries(team, locale),
        weeks=weeks, periods=[(n, path + _query(weeks=n, lang=locale), n == weeks) for n in PERIOD_CHOICES],
        csv_url=path + "/report.csv" + _query(weeks=weeks), json_url=path + "/report.json" + _query(weeks=weeks),
        **_chrome(locale, path, weeks),
    )


def _overview_row(r: TeamReport, locale: str, weeks: int) -> dict[str, Any]:
    closed = [p for p in r.periods if not p.open]
    latest = r.latest
    return {
        "team": r.team,
        "url": team_path(r.team) + _query(weeks=weeks, lang=locale),
        "period": latest.period if latest else "",
        "participation": participation_text(latest, locale) if latest else t("reports.no_rounds", locale),
        "mood": mood_text(closed[-1], r, locale) if closed else "",
        "mood_period": closed[-1].period if closed else "",
        "sparkline": sparkline_svg(r.trend, label=_trend_words(r, locale)),
        "alerts": [alert_text(a, locale) for a in r.alerts],
    }


def overview_page(report: CompanyReport, reader: Reader, locale: str, weeks: int) -> str:
    """One row per team the reader may read."""
    return render(
        "overview.html", locale, title=t("dashboard.overview.heading", locale),
        rows=[_overview_row(r, locale, weeks) for r in report.teams],
        k=report.min_group_size, weeks=weeks,
        periods=[(n, "/dashboard/" + _query(weeks=n, lang=locale), n == weeks) for n in PERIOD_CHOICES],
        **_chrome(locale, "/dashboard/", weeks),
    )


def login_page(token: str, locale: str) -> str:
    """The page a link opens: one button; only pressing it (a POST) spends the link."""
    return render("login.html", locale, title=t("dashboard.login.heading", locale), token=token)


def message_page(locale: str, *, heading_id: str, message_id: str, back_url: str | None = None, **args: Any) -> str:
    """A refusal or a notice (expired link, signed out, not your team), in words; `back_url` adds a way back."""
    return render("message.html", locale, title=t(heading_id, locale), text=t(message_id, locale, **args),
                  back_url=back_url)
