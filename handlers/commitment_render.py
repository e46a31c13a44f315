"""Leaders' commitments in the report, in words and data: per closed period, the focus and the
sentence (or "no commitment") beside the next round's answer to "did things improve on <focus>?".

The follow-up figure comes guarded from `handlers.reports` and is worded by `score_text`, so a
withheld one reads the same here as anywhere else. The sentence is the leader's, shown as written.
"""

from __future__ import annotations

from typing import Any

from handlers.figure_text import score_text
from handlers.i18n import t
from handlers.report_model import CommitmentPeriod, Pending, Score, TeamReport


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def _followup_json(c: CommitmentPeriod) -> dict[str, Any] | None:
    s = c.followup
    if s is None:
        return None  # no commitment, or no next round yet
    if isinstance(s, Score):
        return {"period": c.followup_period, "suppressed": False, "mean": _r(s.mean), "respondents": s.respondents}
    if isinstance(s, Pending):
        return {"period": c.followup_period, "suppressed": True, "pending": True, "results_at": s.closes.isoformat()}
    return {"period": c.followup_period, "suppressed": True}


def commitments_json(r: TeamReport) -> list[dict[str, Any]]:
    """One entry per closed period: `status` set, skipped or none; focus, sentence and the follow-up."""
    return [{"period": c.period, "status": c.status, "focus": c.focus, "sentence": c.sentence,
             "followup": _followup_json(c)} for c in r.commitments]


def commitments_csv_rows(r: TeamReport) -> list[tuple[str, str, Any, bool]]:
    """(period, metric, value, suppressed) rows: the commitment, then its follow-up score."""
    rows: list[tuple[str, str, Any, bool]] = []
    for c in r.commitments:
        rows.append((c.period, "commitment_status", c.status, False))
        if c.status != "set":
            continue
        rows.append((c.period, "commitment_focus", c.focus, False))
        rows.append((c.period, "commitment_sentence", c.sentence, False))
        if c.followup is not None:
            shown = isinstance(c.followup, Score)
            rows.append((c.period, "commitment_followup_score",
                         _r(c.followup.mean) if shown else None, not shown))  # type: ignore[union-attr]
    return rows


def focus_label(name: str, locale: str) -> str:
    """A driver's short name; the key itself if the catalog lacks it."""
    text = t(f"driver.short.{name}", locale)
    return name if text.startswith("driver.short.") else text


def commitment_text(c: CommitmentPeriod, locale: str) -> str:
    """The commitment of a period in words, or why there is none."""
    if c.status != "set":
        return t(f"commitment.report.{c.status}", locale)
    return t("commitment.focus_line", locale, focus=focus_label(c.focus or "", locale), sentence=c.sentence or "")


def followup_text(c: CommitmentPeriod, r: TeamReport, locale: str) -> str:
    """The follow-up's answer in the next round, why it is not shown, or "—"."""
    if c.followup is None:
        return t("commitment.report.no_followup", locale) if c.status == "set" else "—"
    return t("commitment.report.followup", locale, period=c.followup_period or "",
             score=score_text(c.followup, r, locale))


def commitment_facts(r: TeamReport, locale: str) -> tuple[tuple[str, str], ...]:
    """(period, "commitment · follow-up") for each closed period."""
    return tuple((c.period, commitment_text(c, locale) if c.status != "set"
                  else f"{commitment_text(c, locale)} · {followup_text(c, r, locale)}") for c in r.commitments)


def commitment_rows(r: TeamReport, locale: str) -> list[tuple[str, str, str]]:
    """The dashboard's table: period, commitment, follow-up."""
    return [(c.period, commitment_text(c, locale), followup_text(c, r, locale)) for c in r.commitments]
