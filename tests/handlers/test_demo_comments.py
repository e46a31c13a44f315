"""The demo's comments read like a team's: varied, never the same sentence twice in a round, and in
the team's language."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

from sqlmodel import col, select

from handlers.demo import COMMENTS, DEMO_CONFIG, seed
from storage.models import Response, Round, RoundComment, Team


async def test_seeded_comments_never_repeat_within_a_round_and_follow_the_team_language(make_ctx):
    ctx = await make_ctx(DEMO_CONFIG)
    await seed(ctx, members=40, weeks=12)
    by_round: dict[int, list[str]] = defaultdict(list)
    async with ctx.store.session() as session:
        for round_id, comment in (await session.exec(select(RoundComment.round_id, RoundComment.comment))).all():
            by_round[round_id].append(comment)
        # A closed round's comments are its RoundComment copies; an open round's are on its answers.
        for round_id, comment in (await session.exec(
                select(Response.round_id, Response.comment).join(Round, col(Round.id) == Response.round_id)
                .where(col(Response.comment).is_not(None), col(Round.closed_at).is_(None)))).all():
            by_round[round_id].append(comment)
        team_of = dict((await session.exec(
            select(Round.id, Team.name).join(Team, col(Team.id) == Round.team_id))).all())
    locale_of = {team["name"]: team["locale"] for team in DEMO_CONFIG["teams"]}
    sentences = {locale: {s for tone in tones.values() for s in tone} for locale, tones in COMMENTS.items()}

    assert sum(len(c) for c in by_round.values()) >= 20  # enough comments for the check to mean something
    assert any(len(c) >= 2 for c in by_round.values())
    for round_id, comments in by_round.items():
        assert len(comments) == len(set(comments)), (round_id, comments)
        assert set(comments) <= sentences[locale_of[team_of[round_id]]], (team_of[round_id], comments)
    for locale in ("es", "en"):
        used = {c for rid, cs in by_round.items() for c in cs if locale_of[team_of[rid]] == locale}
        assert len(used) >= 8, (locale, used)  # varied across the weeks, not five stock lines


async def test_demo_seeds_one_round_a_week_across_a_change_of_summer_time(make_ctx):
    # Sunday 22:28 UTC, six weeks after Europe left summer time: 23:28 in Madrid, but seven weeks
    # back, in summer time, it was already Monday there. Counting weeks back in UTC gave two rounds
    # the same ISO week and `make demo` failed on the unique (team, period).
    ctx = await make_ctx(DEMO_CONFIG, now=datetime(2026, 12, 6, 22, 28, tzinfo=UTC))
    await seed(ctx, members=8, weeks=12)
    async with ctx.store.session() as session:
        rows = (await session.exec(select(Team.name, Round.period).join(Team, col(Team.id) == Round.team_id))).all()
    periods: dict[str, list[str]] = defaultdict(list)
    for team, period in rows:
        periods[team].append(period)
    expected = [f"2026-W{week}" for week in range(37, 50)]  # W49 (30 Nov - 6 Dec) is this week's, open
    assert {team: sorted(p) for team, p in periods.items()} == {team["name"]: expected for team in DEMO_CONFIG["teams"]}
