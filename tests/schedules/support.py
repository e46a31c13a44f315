"""Helpers of the clock and outbox tests: a recording Messenger, the base config, a roster.

`Inbox` implements the `Messenger` port (like `FixedClock` implements `Clock`): it keeps what
each member received, keyed by delivery key, and can be told to fail the next sends the way a
platform does (transient with or without Retry-After, permanent, or "posted but the answer was
lost"). With `can_look=False` it is a platform that cannot list a chat, as Teams. The end-to-end lanes use the real Slack messenger against `tests/fakes/slack_api.py`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlmodel import select, update

from handlers.context import Context
from handlers.members import sync_roster
from handlers.messages import Message
from handlers.ports import Actor, Recipient, SendError, Sent
from schedules import jobs
from schedules.outbox import Sender
from storage.models import Delivery, Member
from tests.clock import FixedClock


@dataclass
class Received:
    """One message as it landed in a member's DM."""

    user_id: str
    key: str
    message: Message
    at: datetime


@dataclass
class Inbox:
    """A Messenger that delivers into memory; `fail(...)` queues failures for the next sends."""

    clock: FixedClock
    platform: str = "console"
    received: list[Received] = field(default_factory=list)
    failures: list[SendError | str] = field(default_factory=list)
    calls: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    can_look: bool = True

    def fail(self, *errors: SendError | str) -> None:
        """Queue failures; the string "lost" posts the message and then raises a transient error."""
        self.failures.extend(errors)

    def of(self, user_id: str) -> list[Received]:
        """What one member received, oldest first."""
        return [r for r in self.received if r.user_id == user_id]

    async def send_direct(self, *, to: Recipient, message: Message, delivery_key: str) -> Sent:
        self.calls["send_direct"] += 1
        if self.failures:
            failure = self.failures.pop(0)
            if failure == "lost":
                self.received.append(Received(to.user_id, delivery_key, message, self.clock.now()))
                raise SendError("timeout", transient=True)
            assert isinstance(failure, SendError)
            raise failure
        self.received.append(Received(to.user_id, delivery_key, message, self.clock.now()))
        return Sent(conversation=f"D-{to.user_id}", ref=f"{len(self.received)}")

    async def find_direct(self, *, to: Recipient, delivery_key: str) -> Sent | None:
        self.calls["find_direct"] += 1
        if not self.can_look:
            raise SendError("cannot_look", transient=False)
        for index, r in enumerate(self.received, start=1):
            if r.user_id == to.user_id and r.key == delivery_key:
                return Sent(conversation=f"D-{to.user_id}", ref=str(index))
        return None

    async def post(self, *, conversation: str, message: Message, thread_ref: str | None = None) -> Sent:
        self.calls["post"] += 1
        self.received.append(Received(conversation, "post", message, self.clock.now()))
        return Sent(conversation=conversation, ref=f"{len(self.received)}")

    async def update(self, *, conversation: str, ref: str, message: Message) -> None:
        self.calls["update"] += 1


MONDAY_0800_UTC = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # Monday of ISO week 2026-W48

BASE_CONFIG = {
    "pulse": {"min_group_size": 3, "default_locale": "es", "timezone": "Europe/Madrid", "leaders": ["boss"]},
    "teams": [
        {
            "name": "soporte",
            "timezone": "Europe/Madrid",
            "leaders": ["lead-soporte"],
            "checkin": {"cadence": "weekly", "weekday": "mon", "time": "10:00",
                        "window_hours": 72, "reminder_after_hours": 24},
        }
    ],
}


def inbox_on(ctx: Context, platform: str = "console") -> Inbox:
    """An Inbox on the context's (Fixed)Clock, registered as its messenger for `platform`."""
    assert isinstance(ctx.clock, FixedClock)
    inbox = Inbox(ctx.clock, platform=platform)
    ctx.messengers[platform] = inbox
    return inbox


async def add_members(ctx: Context, team: str, people: dict[str, str | None]) -> None:
    """Make `people` (user id → time zone) the team's roster."""
    actors = [Actor(platform="console", user_id=uid, name=uid, timezone=tz) for uid, tz in people.items()]
    await sync_roster(ctx, team_name=team, members=actors)


# -- an outbox to send: what the outbox tests start from ---------------------------------------

OPEN_AT = datetime(2026, 11, 23, 9, tzinfo=UTC)


async def opened(ctx: Context, people: Iterable[str] = ("ana", "eva", "luis")) -> None:
    """`people` (in Madrid) on the roster and the round opened at OPEN_AT: one pending row each."""
    await add_members(ctx, "soporte", dict.fromkeys(people, "Europe/Madrid"))
    assert isinstance(ctx.clock, FixedClock)
    ctx.clock.at = OPEN_AT
    await jobs.open_team_round(ctx, "soporte")


async def rows(ctx: Context) -> dict[str, Delivery]:
    """The deliveries by member user id."""
    async with ctx.store.session() as session:
        result = (await session.exec(select(Delivery, Member.user_id).join(Member))).all()
    return {uid: d for d, uid in result}


async def crashed_while_sending(ctx: Context, inbox: Inbox) -> None:
    """ana and eva's round, whose rows a process claimed before it died; only ana's message had
    left. Then the restart, a minute later."""
    await opened(ctx, ["ana", "eva"])
    await Sender(ctx).drain()
    async with ctx.store.session() as session:
        await session.exec(update(Delivery).values(status="sending", next_try_at=OPEN_AT + timedelta(minutes=5),
                                                   sent_at=None, message_ref=None))
        await session.commit()
    inbox.received = [r for r in inbox.received if r.user_id == "ana"]
    assert isinstance(ctx.clock, FixedClock)
    ctx.clock.move(minutes=1)


async def claimed_two_seconds_ago(ctx: Context) -> None:
    """Every row as another process (a `checkins send`) left it two seconds ago: claimed, in flight."""
    lease = Sender(ctx).lease
    async with ctx.store.session() as session:
        await session.exec(update(Delivery).values(status="sending", attempts=1,
                                                   next_try_at=OPEN_AT - timedelta(seconds=2) + lease))
        await session.commit()
