"""Pure timing rules: period keys, openings, each member's local due instant, DST, weekends."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from handlers.config import CheckinConfig
from schedules import timing

MADRID, MEXICO, NEW_YORK = "Europe/Madrid", "America/Mexico_City", "America/New_York"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def local(instant: datetime, tz: str) -> tuple[str, str]:
    here = instant.astimezone(ZoneInfo(tz))
    return here.strftime("%a"), here.strftime("%H:%M")


def test_weekly_round_is_keyed_by_iso_week():
    opening = timing.opening_for(CheckinConfig(), MADRID, date(2026, 11, 25))
    assert opening.period == "2026-W48"
    assert opening.day == date(2026, 11, 23)


def test_biweekly_round_uses_the_first_week_of_its_pair_for_both_weeks():
    cfg = CheckinConfig(cadence="biweekly", weekday="wed")
    first = timing.opening_for(cfg, MADRID, date(2026, 11, 23))
    second = timing.opening_for(cfg, MADRID, date(2026, 11, 30))
    assert first.period == second.period
    assert first.day == second.day
    following = timing.next_opening(cfg, MADRID, first.opens_at)
    assert (following.day - first.day).days == 14


def test_monthly_round_opens_on_the_first_chosen_weekday_of_the_month():
    cfg = CheckinConfig(cadence="monthly", weekday="tue", time="09:30")
    opening = timing.next_opening(cfg, MADRID, utc(2026, 11, 20, 12))
    assert opening.period == "2026-12"
    assert opening.day == date(2026, 12, 1)
    assert local(opening.nominal_at, MADRID) == ("Tue", "09:30")


def test_member_in_mexico_is_due_at_ten_of_their_own_day():
    cfg = CheckinConfig(time="10:00")
    madrid = timing.member_due_at(cfg, date(2026, 11, 23), MADRID)
    mexico = timing.member_due_at(cfg, date(2026, 11, 23), MEXICO)
    assert local(madrid, MADRID) == ("Mon", "10:00")
    assert local(mexico, MEXICO) == ("Mon", "10:00")
    assert (mexico - madrid).total_seconds() == 7 * 3600


def test_round_opens_early_enough_for_a_member_east_of_the_team():
    opening = timing.opening_for(CheckinConfig(), MADRID, date(2026, 11, 23), zones={"Pacific/Auckland", MEXICO})
    assert local(opening.opens_at, "Pacific/Auckland") == ("Mon", "10:00")
    assert opening.opens_at < opening.nominal_at
    assert local(opening.nominal_at, MADRID) == ("Mon", "10:00")
    assert opening.closes_at == utc(2026, 11, 26, 9)  # 72 h after Madrid's 10:00


def test_dst_change_keeps_ten_local_in_both_zones():
    cfg = CheckinConfig(time="10:00")
    # Europe moves its clocks on 2026-03-29, the United States on 2026-03-08.
    for day in (date(2026, 3, 2), date(2026, 3, 9), date(2026, 3, 23), date(2026, 3, 30)):
        assert local(timing.member_due_at(cfg, day, MADRID), MADRID) == ("Mon", "10:00")
        assert local(timing.member_due_at(cfg, day, NEW_YORK), NEW_YORK) == ("Mon", "10:00")
    assert timing.member_due_at(cfg, date(2026, 3, 23), MADRID) == utc(2026, 3, 23, 9)
    assert timing.member_due_at(cfg, date(2026, 3, 30), MADRID) == utc(2026, 3, 30, 8)


def test_late_due_instant_on_a_weekend_moves_to_monday_at_the_local_time():
    cfg = CheckinConfig(weekday="fri", time="10:00")
    saturday = utc(2026, 11, 28, 11)
    due = timing.member_due_at(cfg, date(2026, 11, 27), MEXICO, not_before=saturday)
    assert local(due, MEXICO) == ("Mon", "10:00")
    assert due.astimezone(ZoneInfo(MEXICO)).date() == date(2026, 11, 30)


def test_late_due_instant_on_a_weekday_is_now():
    cfg = CheckinConfig(time="10:00")
    now = utc(2026, 11, 23, 13)
    assert timing.member_due_at(cfg, date(2026, 11, 23), MADRID, not_before=now) == now


def test_current_opening_only_inside_the_window():
    cfg = CheckinConfig(window_hours=72)
    assert timing.current_opening(cfg, MADRID, utc(2026, 11, 23, 8, 59)) is None
    assert timing.current_opening(cfg, MADRID, utc(2026, 11, 23, 9)).period == "2026-W48"
    assert timing.current_opening(cfg, MADRID, utc(2026, 11, 26, 8, 59)).period == "2026-W48"
    assert timing.current_opening(cfg, MADRID, utc(2026, 11, 26, 9)) is None


def test_next_opening_is_strictly_after():
    cfg = CheckinConfig()
    first = timing.next_opening(cfg, MADRID, utc(2026, 11, 23, 8))
    assert first.opens_at == utc(2026, 11, 23, 9)
    assert timing.next_opening(cfg, MADRID, first.opens_at).opens_at == utc(2026, 11, 30, 9)


def test_reminder_instant_and_reminders_off():
    assert timing.reminder_at(CheckinConfig(reminder_after_hours=24), utc(2026, 11, 23, 9)) == utc(2026, 11, 24, 9)
    assert timing.reminder_at(CheckinConfig(reminder_after_hours=0), utc(2026, 11, 23, 9)) is None
