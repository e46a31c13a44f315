"""The check-in message a member receives, and its state after they answer (neutral blocks)."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from handlers.i18n import fmt_date, t
from handlers.messages import Actions, Button, Message, Notice, Question, Text
from handlers.periods import as_utc
from storage.models import Response, Round

MOOD_EMOJI = ("😞", "🙁", "😐", "🙂", "😄")


def mood_label(score: int, locale: str) -> str:
    """"🙂 Good" for 4: the emoji and the word of the mood scale."""
    return f"{MOOD_EMOJI[score - 1]} {t(f'mood.{score}', locale)}"


def _closes(rnd: Round, locale: str, tz: str) -> str:
    return _local_date(rnd.closes_at, locale, tz)


@lru_cache(maxsize=256)
def _local_date(at: datetime, locale: str, tz: str) -> str:
    # Every tap on a card says when its round closes, twice; a round has one closing time.
    return fmt_date(as_utc(at).astimezone(ZoneInfo(tz)), locale)


@lru_cache(maxsize=1024)
def _question(kind: str, rid: int | None, locale: str, selected: int | None, topic: str = "") -> Question:
    """One scale of the card, as the member sees it with `selected` chosen. Cached: every tap redraws
    the card, and a round's scales differ only by language and the choice (blocks are immutable)."""
    if kind == "mood":
        return Question(
            prompt=t("checkin.question", locale),
            buttons=tuple(Button(mood_label(n, locale), "checkin.mood", f"{rid}:{n}", selected=selected == n)
                          for n in range(1, 6)),
            low_label=t("mood.1", locale),
            high_label=t("mood.5", locale),
        )
    if kind == "driver":
        return Question(
            prompt=t(f"driver.{topic}", locale),
            buttons=tuple(Button(t(f"agree.{n}", locale), "checkin.driver", f"{rid}:{n}", selected=selected == n)
                          for n in range(1, 6)),
            low_label=t("agree.1", locale),
            high_label=t("agree.5", locale),
        )
    if kind == "enps":
        return Question(
            prompt=t("checkin.enps", locale),
            buttons=tuple(Button(str(n), "checkin.enps", f"{rid}:{n}", selected=selected == n) for n in range(0, 11)),
            low_label=t("enps.low", locale),
            high_label=t("enps.high", locale),
        )
    assert kind == "focus", kind
    return Question(
        prompt=t("commitment.followup", locale, focus=t(f"driver.short.{topic}", locale)),
        buttons=tuple(Button(t(f"commitment.improved.{n}", locale), "checkin.focus", f"{rid}:{n}",
                             selected=selected == n)
                      for n in range(1, 6)),
        low_label=t("commitment.improved.1", locale),
        high_label=t("commitment.improved.5", locale),
    )


def checkin_message(
    rnd: Round,
    *,
    locale: str,
    tz: str,
    name: str = "",
    response: Response | None = None,
    notice: Notice | None = None,
    reminder: bool = False,
    min_group_size: int = 5,
    focus: str | None = None,
) -> Message:
    """Mood as five buttons worst first, the round's driver statement, eNPS when due, the follow-up of
    the leaders' last commitment (`focus`, a driver) when there is one, a comment."""
    rid = rnd.id
    mood = response.mood if response else None
    score = response.driver_score if response else None
    enps = response.enps if response else None
    blocks: list = []
    if reminder:
        greeting = t("checkin.reminder", locale)
    elif name:
        greeting = t("checkin.greeting_named", locale, name=name)
    else:
        greeting = t("checkin.greeting", locale)
    blocks.append(Text(greeting, "heading"))
    blocks.append(_question("mood", rid, locale, mood))
    blocks.append(_question("driver", rid, locale, score, rnd.driver))
    if rnd.enps:
        blocks.append(_question("enps", rid, locale, enps))
    if focus is not None:
        blocks.append(_question("focus", rid, locale, response.focus_score if response else None, focus))
    if response is not None and response.comment:
        blocks.append(Text(response.comment, "quote"))
    label = "checkin.comment_edit" if response is not None and response.comment else "checkin.comment_add"
    blocks.append(Actions((Button(t(label, locale), "checkin.comment", str(rid)),)))
    if notice is not None:
        blocks.append(notice)
    blocks.append(
        Text(
            t("checkin.privacy", locale, n=min_group_size, date=_closes(rnd, locale, tz)),
            "muted",
        )
    )
    return Message(tuple(blocks), fallback=t("checkin.fallback", locale), locale=locale)


def recorded_notice(response: Response, locale: str, closes: str) -> Notice:
    """What the bot recorded, said back to the member, and until when they may change it."""
    parts = []
    if response.mood is not None:
        parts.append(t("recorded.mood", locale, label=mood_label(response.mood, locale)))
    if response.driver_score is not None:
        parts.append(t("recorded.driver", locale, label=t(f"agree.{response.driver_score}", locale)))
    if response.enps is not None:
        parts.append(t("recorded.enps", locale, n=response.enps))
    if response.focus_score is not None:
        parts.append(t("commitment.recorded", locale, label=t(f"commitment.improved.{response.focus_score}", locale)))
    if response.comment:
        parts.append(t("recorded.comment", locale))
    return Notice(t("recorded.summary", locale, what="; ".join(parts), date=closes), "success")


def closes_text(rnd: Round, locale: str, tz: str) -> str:
    """When the round closes, as a local date."""
    return _closes(rnd, locale, tz)

