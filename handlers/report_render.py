"""The leader report rendered: JSON (`suppressed: true`, no number), CSV, plain text and a neutral Message.

Renderers only read `handlers.reports` dataclasses; a withheld figure is a `Suppressed`, which has
no number to print, so no format can leak one. Comments stay plain text: faces escape them; the
CSV and text written here are made inert here (`handlers.safe_text`).
"""

from __future__ import annotations

import csv
import io
import logging
from typing import Any

from handlers.client_render import client_csv_rows, client_facts, client_json
from handlers.commitment_render import commitment_facts, commitments_csv_rows, commitments_json
from handlers.figure_text import score_text, withheld_text
from handlers.followup_render import followups_csv_rows, followups_fact, followups_json
from handlers.i18n import fmt_date, fmt_number, fmt_percent, t, tn
from handlers.messages import (
    Actions,
    Block,
    Button,
    Chart,
    Facts,
    Message,
    Notice,
    Text,
    plain_text,
    sparkline,
)
from handlers.reports import Alert, CompanyReport, Enps, Mood, Pending, Period, Score, Suppressed, TeamReport
from handlers.safe_text import clean_text, csv_cell

logger = logging.getLogger(__name__)

TEXT_COMMENTS = 10  # comments shown in text and chat; JSON and CSV carry the whole sample
MESSAGE_TEAMS_DETAIL = 1  # above this, a chat reply is a one-line-per-team summary


def _r(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


# ---------------------------------------------------------------- JSON


def _mood_json(p: Period) -> dict[str, Any]:
    if isinstance(p.mood, Pending):
        # Phased release: no figure until the round closes, whatever its size.
        return {"suppressed": True, "pending": True, "results_at": p.mood.closes.isoformat()}
    if not isinstance(p.mood, Mood):
        return {"suppressed": True}
    return {
        "suppressed": False,
        "mean": _r(p.mood.mean),
        "respondents": p.mood.respondents,
        "distribution": {str(v): c for v, c in enumerate(p.mood.distribution, start=1)},
        "delta": _r(p.mood_delta),
    }


def _period_json(p: Period) -> dict[str, Any]:
    return {
        "period": p.period,
        "start": p.start.date().isoformat(),
        "open": p.open,
        "driver": p.driver,
        "delivered": p.delivered,
        "answered": p.answered,
        "participation": _r(p.participation, 3),
        "participation_delta": _r(p.participation_delta, 3),
        "respondents": p.respondents,
        "failed_deliveries": p.failed,
        "maybe_delivered": p.maybe_delivered,
        "mood": _mood_json(p),
        # The round's own driver score (its `driver`) and eNPS (None: not asked), guarded like the mood.
        "driver_score": _withheld_json(p.driver_score) or _score_json(p.driver, p.driver_score),
        "enps": _withheld_json(p.enps) or _enps_json(p.enps),
    }


def _withheld_json(figure: object) -> dict[str, Any] | None:
    """A period's figure still pending (open round) says so; anything else is rendered by its kind."""
    if isinstance(figure, Pending):
        return {"suppressed": True, "pending": True, "results_at": figure.closes.isoformat()}
    return None


def _score_json(name: str, s: Score | Suppressed) -> dict[str, Any]:
    if isinstance(s, Score):
        return {"driver": name, "suppressed": False, "mean": _r(s.mean), "respondents": s.respondents}
    return {"driver": name, "suppressed": True}


def _enps_json(e: Enps | Suppressed | None) -> dict[str, Any] | None:
    if e is None:
        return None
    if not isinstance(e, Enps):
        return {"suppressed": True}
    return {"suppressed": False, "score": _r(e.score, 1), "promoters": _r(e.promoters, 3),
            "passives": _r(e.passives, 3), "detractors": _r(e.detractors, 3), "respondents": e.respondents}


def _alert_json(a: Alert) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": a.kind, "period": a.period, "value": _r(a.value, 3)}
    if a.baseline is not None:
        out["baseline"] = _r(a.baseline)
    return out


def team_json(r: TeamReport) -> dict[str, Any]:
    """One team's report as JSON-ready data."""
    c = r.chairs
    return {
        "team": r.team,
        "periods": [_period_json(p) for p in r.periods],
        "trend": [
            {"period": p.period, "mood": _r(p.mood.mean)} if isinstance(p.mood, Mood)
            else {"period": p.period, "suppressed": True}
            for p in r.periods
        ],
        "drivers": [_score_json(name, s) for name, s in r.drivers],
        "enps": _enps_json(r.enps),
        "comments": list(r.comments),
        "empty_chair": {
            "opened": c.opened, "with_impact": c.with_impact, "share_with_impact": _r(c.share_with_impact, 3),
            "impacts": {"better": c.better, "worse": c.worse, "no_change": c.no_change, "unknown": c.unknown},
            "open_unknowns": c.unknown,
        },
        "client_connection": client_json(r),
        "alerts": [_alert_json(a) for a in r.alerts],
        "failed_deliveries": r.failed_deliveries,
        "maybe_delivered": r.maybe_delivered,
        "followups": followups_json(r),
        "commitments": commitments_json(r),  # last: readers of the keys above see what they saw before
    }


def report_json(report: CompanyReport) -> dict[str, Any]:
    """The whole report as JSON-ready data; `suppressed: true` and no number where a figure is withheld."""
    return {
        "generated_at": report.generated_at.isoformat(),
        "weeks": report.weeks,
        "min_group_size": report.min_group_size,
        "teams": [team_json(r) for r in report.teams],
    }


# ---------------------------------------------------------------- CSV

CSV_COLUMNS = ("team", "period", "metric", "value", "suppressed")


def _csv_rows(r: TeamReport) -> list[tuple[str, str, str, Any, str]]:
    rows: list[tuple[str, str, str, Any, str]] = []

    def add(period: str, metric: str, value: Any, suppressed: bool = False) -> None:
        rows.append((r.team, period, metric, "" if suppressed or value is None else value,
                     "true" if suppressed else "false"))

    for p in r.periods:
        add(p.period, "delivered", p.delivered)
        add(p.period, "answered", p.answered)
        add(p.period, "participation", _r(p.participation, 3))
        add(p.period, "participation_delta", _r(p.participation_delta, 3))
        add(p.period, "respondents", p.respondents)
        add(p.period, "failed_deliveries", p.failed)
        add(p.period, "maybe_delivered", p.maybe_delivered)
        if isinstance(p.mood, Mood):
            add(p.period, "mood_mean", _r(p.mood.mean))
            add(p.period, "mood_delta", _r(p.mood_delta))
            for v, c in enumerate(p.mood.distribution, start=1):
                add(p.period, f"mood_{v}", c)
        else:
            add(p.period, "mood_mean", None, suppressed=True)
    for name, s in r.drivers:
        add("", f"driver_{name}", _r(s.mean) if isinstance(s, Score) else None, not isinstance(s, Score))
    if r.enps is not None:
        add("", "enps", _r(r.enps.score, 1) if isinstance(r.enps, Enps) else None, not isinstance(r.enps, Enps))
    ch = r.chairs
    for metric, value in (("chairs_opened", ch.opened), ("chairs_with_impact", ch.with_impact),
                          ("impacts_better", ch.better), ("impacts_worse", ch.worse),
                          ("impacts_no_change", ch.no_change), ("impacts_unknown", ch.unknown)):
        add("", metric, value)
    for a in r.alerts:
        add(a.period, f"alert_{a.kind}", _r(a.value, 3))
    for comment in r.comments:
        add("", "comment", comment)
    # Each period's own driver score and eNPS, last and under metric names of their own, so readers
    # of the window's `driver_<name>` and `enps` rows see what they saw before.
    for p in r.periods:
        s = p.driver_score
        add(p.period, f"period_driver_{p.driver}", _r(s.mean) if isinstance(s, Score) else None,
            not isinstance(s, Score))
        if p.enps is not None:
            e = p.enps
            add(p.period, "period_enps", _r(e.score, 1) if isinstance(e, Enps) else None, not isinstance(e, Enps))
    # The client-connection view, per period, after everything readers already parse.
    for period, metric, value, withheld in client_csv_rows(r):
        add(period, metric, value, withheld)
    rows.extend((r.team, "", metric, "" if value is None else value, "false") for metric, value in followups_csv_rows(r))
    for period, metric, value, withheld in commitments_csv_rows(r):
        add(period, metric, value, withheld)
    return rows


def _inert(cell: Any) -> Any:
    # Text cells (comments, team names) cannot become formulas: a leading `'` when they start like
    # one (OWASP "CSV Injection"). Numbers stay numbers, negative ones included (a mood delta of
    # -0.5): csv writes a Python int or float as digits, a sign, a point or an exponent, which a
    # spreadsheet parses as a number, never as a formula, and a `'` would turn it into text that
    # no sum or chart reads.
    return csv_cell(cell) if isinstance(cell, str) else cell


def report_csv(report: CompanyReport) -> str:
    """The report as CSV, one figure per row (team, period, metric, value, suppressed)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for r in report.teams:
        writer.writerows(tuple(_inert(cell) for cell in row) for row in _csv_rows(r))
    return buf.getvalue()


# ---------------------------------------------------------------- text and Message


def _num(value: float, locale: str, digits: int = 1) -> str:
    return fmt_number(value, locale, digits)


def signed_text(value: float, locale: str, digits: int = 1) -> str:
    """A change with its sign (+, −, ±), in the locale's number format."""
    sign = "+" if value > 0 else ("−" if value < 0 else "±")
    return sign + _num(abs(value), locale, digits)


def driver_label(name: str, locale: str) -> str:
    """A driver's short name ("Clarity", "Claridad"); the key itself if the catalog lacks it."""
    msg_id = f"driver.short.{name}"
    text = t(msg_id, locale)
    return name if text == msg_id else text


def mood_text(p: Period, r: TeamReport, locale: str) -> str:
    """A period's mood as chat says it: the mean and its change, pending, or hidden below the threshold."""
    if isinstance(p.mood, Pending):
        return t("reports.pending", locale, date=fmt_date(p.mood.closes, locale))
    if not isinstance(p.mood, Mood):
        return t("reports.suppressed", locale, k=r.min_group_size)
    text = _num(p.mood.mean, locale)
    if p.mood_delta is not None:
        text = t("reports.with_delta", locale, value=text, delta=signed_text(p.mood_delta, locale))
    return text


def enps_text(e: Enps | Suppressed, r: TeamReport, locale: str) -> str:
    """An eNPS (of the window or of one period) with its shares, or why it is not shown."""
    if isinstance(e, Enps):
        return t("reports.enps_value", locale, score=signed_text(e.score, locale, 0),
                 promoters=fmt_percent(e.promoters, locale), detractors=fmt_percent(e.detractors, locale))
    return withheld_text(e, r, locale) or ""


def participation_text(p: Period, locale: str) -> str:
    """A period's participation as chat says it."""
    if p.participation is None:
        return t("reports.none_delivered", locale)
    text = t("reports.participation_value", locale, share=fmt_percent(p.participation, locale),
             answered=fmt_number(p.answered, locale), delivered=fmt_number(p.delivered, locale))
    if p.open:
        text = t("reports.still_open", locale, value=text)
    return text


def alert_text(a: Alert, locale: str) -> str:
    """An alert in words."""
    if a.kind == "mood_drop":
        return t("reports.alert.mood_drop", locale, period=a.period, mood=_num(a.value, locale),
                 baseline=_num(a.baseline or 0.0, locale))
    return t("reports.alert.low_participation", locale, period=a.period, share=fmt_percent(a.value, locale))


def _facts(r: TeamReport, locale: str) -> list[tuple[str, str]]:
    items: list[tuple[str, str]] = []
    p = r.latest
    if p is not None:
        items.append((t("reports.label.period", locale), p.period))
        items.append((t("reports.label.participation", locale), participation_text(p, locale)))
        items.append((t("reports.label.mood", locale), mood_text(p, r, locale)))
        if isinstance(p.mood, Mood):
            dist = " · ".join(f"{v}: {fmt_number(c, locale)}" for v, c in enumerate(p.mood.distribution, 1))
            items.append((t("reports.label.distribution", locale), dist))
    for name, s in r.drivers:
        items.append((t("reports.label.driver", locale, driver=driver_label(name, locale)), score_text(s, r, locale)))
    if r.enps is not None:
        items.append((t("reports.label.enps", locale), enps_text(r.enps, r, locale)))
    c = r.chairs
    chair = tn("reports.chairs_opened", c.opened, locale)
    if c.opened:
        chair = t("reports.chairs_detail", locale, opened=chair,
                  share=fmt_percent(c.share_with_impact or 0.0, locale),
                  better=fmt_number(c.better, locale), worse=fmt_number(c.worse, locale),
                  no_change=fmt_number(c.no_change, locale), unknown=fmt_number(c.unknown, locale))
    items.append((t("reports.label.empty_chair", locale), chair))
    items.append(followups_fact(r, locale))
    if r.failed_deliveries:
        items.append((t("reports.label.failed", locale), fmt_number(r.failed_deliveries, locale)))
    if r.maybe_delivered:
        items.append((t("reports.label.maybe_delivered", locale), fmt_number(r.maybe_delivered, locale)))
    return items


def _team_blocks(r: TeamReport, locale: str, png: bytes | None = None, *, replies: bool = False,
                 client: bool = False) -> list[Block]:
    blocks: list[Block] = [
        Text(t("reports.title", locale, team=r.team, n=fmt_number(r.weeks, locale)), "heading"),
    ]
    if not r.periods:
        blocks.append(Notice(t("reports.no_rounds", locale)))
    blocks.append(Facts(tuple(_facts(r, locale))))
    if r.periods:
        blocks.append(Chart(
            title=t("reports.chart.title", locale), labels=tuple(p.period for p in r.periods),
            points=r.trend, png=png, alt_text=t("reports.chart.alt", locale, team=r.team,
                                                trend=sparkline(r.trend)),
        ))
    blocks.extend(Notice(alert_text(a, locale), "warning") for a in r.alerts)
    if client and r.client:  # text only: chat stays short, the dashboard has it as a table
        blocks.append(Text(t("reports.client.title", locale), "strong"))
        blocks.append(Facts(client_facts(r, locale)))
    if client and r.commitments:
        blocks.append(Text(t("commitment.report.title", locale), "strong"))
        blocks.append(Facts(commitment_facts(r, locale)))
    if r.comments:
        blocks.append(Text(t("reports.comments", locale), "strong"))
        for i, c in enumerate(r.comments[:TEXT_COMMENTS]):
            blocks.append(Text(c, "quote"))
            if replies and i < len(r.comment_ids):  # a leader may answer its author (`handlers.replies`)
                blocks.append(Actions((Button(t("replies.reply", locale), "reply.start", r.comment_ids[i]),)))
    blocks.append(Text(t("reports.anonymity_note", locale, k=r.min_group_size), "muted"))
    return blocks


def _summary_line(r: TeamReport, locale: str) -> str:
    p = r.latest
    if p is None:
        return t("reports.no_rounds", locale)
    parts = [mood_text(p, r, locale), participation_text(p, locale), sparkline(r.trend)]
    if r.alerts:
        parts.append("⚠ " + tn("reports.alerts_count", len(r.alerts), locale))
    return " · ".join(parts)


def report_message(report: CompanyReport, locale: str, *, png: bytes | None = None, replies: bool = False) -> Message:
    """A neutral Message for faces: one team in detail, several as one summary line each.

    With `replies`, a "Reply" button follows each comment (a leader's report in chat).
    """
    blocks: list[Block]
    if not report.teams:
        blocks = [Notice(t("reports.no_teams", locale))]
    elif len(report.teams) <= MESSAGE_TEAMS_DETAIL:
        blocks = _team_blocks(report.teams[0], locale, png, replies=replies)
    else:
        blocks = [
            Text(t("reports.summary_title", locale, n=fmt_number(report.weeks, locale)), "heading"),
            Facts(tuple((r.team, _summary_line(r, locale)) for r in report.teams)),
        ]
        blocks.extend(Notice(f"{r.team}: {alert_text(a, locale)}", "warning")
                      for r in report.teams for a in r.alerts)
        blocks.append(Text(t("reports.summary_hint", locale), "muted"))
    fallback = t("reports.fallback", locale, teams=", ".join(r.team for r in report.teams[:5]))
    return Message(blocks=tuple(blocks), fallback=fallback, locale=locale)


def report_text(report: CompanyReport, locale: str) -> str:
    """The report as plain text (the CLI's and the console's), every team in detail, with sparklines."""
    if not report.teams:
        return t("reports.no_teams", locale)
    parts = []
    for r in report.teams:
        parts.append(plain_text(Message(blocks=tuple(_team_blocks(r, locale, client=True)), fallback="", locale=locale)))
    # A terminal obeys escape sequences: comments stored before input was cleaned are cleaned here.
    return clean_text(("\n\n" + "─" * 40 + "\n\n").join(parts) + "\n")

