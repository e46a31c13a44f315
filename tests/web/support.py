"""What the dashboard's tests share (HTTP-level and browser): a leader, two teams, and a team with two
closed rounds, one of them suppressed."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import select

from handlers.context import Context
from handlers.ports import Actor
from storage.models import Delivery, Member, Response, Round, Team
from tests.context import DEFAULT_CONFIG, START

LEAD = Actor(platform="console", user_id="lead")
TWO_TEAMS = {
    **DEFAULT_CONFIG,
    "teams": [*DEFAULT_CONFIG["teams"], {"name": "ventas", "leaders": ["vlead"], "members": ["fe", "gil", "hugo"]}],
}
SUPPRESSED_COMMENT = "only two of us answered this week"


async def seed_rounds(ctx: Context) -> None:
    """soporte: W46 closed with 4 answers (mood 4.0), W47 closed with 2 answers (1 and 2: suppressed, k=3)."""
    async with ctx.store.session() as s:
        team = (await s.exec(select(Team).where(Team.name == "soporte"))).one()
        members = (await s.exec(select(Member).where(Member.platform == "console"))).all()
        members = [m for m in members if m.user_id in ("ana", "bea", "carlos", "dani", "eva")]
        for period, weeks_back, moods, comments in (
            ("2026-W46", 2, [4, 4, 5, 3], ["the new rota helps"]),
            ("2026-W47", 1, [1, 2], [SUPPRESSED_COMMENT]),
        ):
            start = START - timedelta(weeks=weeks_back, hours=9)
            rnd = Round(team_id=team.id, period=period, period_start=start, opened_at=start + timedelta(hours=9),
                        closes_at=start + timedelta(hours=81), driver="clarity")
            s.add(rnd)
            await s.flush()
            for m in members:
                s.add(Delivery(round_id=rnd.id, member_id=m.id, due_at=rnd.opened_at, status="sent"))
            for i, mood in enumerate(moods):
                s.add(Response(round_id=rnd.id, respondent_key=f"{period}-{i}", mood=mood, driver="clarity",
                               driver_score=mood, comment=comments[i] if i < len(comments) else None))
        await s.commit()

