"""The "Open dashboard" link on `/team-pulse`: offered to leaders when the dashboard is served, drawn by every face."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from bot.console.render import render as console_render
from bot.slack.blocks import render_blocks
from bot.teams.cards import render_message
from handlers.dashboard import check_link
from handlers.errors import NotAllowed
from handlers.messages import Link, Message, Text, plain_text
from handlers.ports import Actor, Where
from handlers.team_pulse import team_pulse
from tests.teams.conftest import assert_valid_card

LEAD = Actor(platform="console", user_id="lead")


async def test_team_pulse_carries_a_one_time_link_when_the_dashboard_is_served(ctx):
    ctx.public_url = "https://pulse.example.com"
    reply = (await team_pulse(ctx, LEAD, Where(), "")).reply
    link = reply.blocks[-1]
    assert isinstance(link, Link) and link.label.startswith("Open the dashboard")
    url = urlsplit(link.url)
    assert (url.scheme, url.netloc, url.path) == ("https", "pulse.example.com", "/dashboard/login")
    (token,) = parse_qs(url.query)["token"]
    assert (await check_link(ctx, token)).actor.key == "console:lead"
    second = (await team_pulse(ctx, LEAD, Where(), "")).reply.blocks[-1]
    assert isinstance(second, Link) and second.url != link.url  # a new link every time


async def test_no_link_without_a_served_dashboard_and_none_for_a_refusal(ctx):
    reply = (await team_pulse(ctx, LEAD, Where(), "")).reply
    assert not any(isinstance(b, Link) for b in reply.blocks)
    ctx.public_url = "https://pulse.example.com"
    with pytest.raises(NotAllowed):
        await team_pulse(ctx, Actor(platform="console", user_id="ana"), Where(), "")


MESSAGE = Message((Text("Report"), Link("Open <the> dashboard", "https://pulse.example.com/dashboard/login?token=a.b")),
                  fallback="Report")


def test_every_face_draws_the_link():
    assert plain_text(MESSAGE).endswith("Open <the> dashboard: https://pulse.example.com/dashboard/login?token=a.b")
    assert "https://pulse.example.com/dashboard/login?token=a.b" in console_render(MESSAGE).text
    slack = render_blocks(MESSAGE)[-1]
    assert slack["text"]["text"] == "<https://pulse.example.com/dashboard/login?token=a.b|Open &lt;the&gt; dashboard>"
    card = render_message(MESSAGE)
    assert_valid_card(card)
    assert {"type": "Action.OpenUrl", "title": "Open <the> dashboard",
            "url": "https://pulse.example.com/dashboard/login?token=a.b"} in [
        a for item in card["body"] if item.get("type") == "ActionSet" for a in item["actions"]]


class Inbox:
    """A console messenger that keeps what it sends."""

    platform = "console"
    can_look = False

    def __init__(self) -> None:
        self.sent: list[Message] = []

    async def send_direct(self, *, to, message, delivery_key):
        from handlers.ports import Sent

        self.sent.append(message)
        return Sent(to.user_id, delivery_key)


async def test_the_monday_digest_carries_a_link_for_the_week(ctx):
    from datetime import UTC, datetime

    from handlers.members import upsert_member
    from schedules.digest import send_digests

    await upsert_member(ctx, Actor(platform="console", user_id="lead", timezone="Europe/Madrid"))
    inbox = Inbox()
    ctx.messengers["console"] = inbox
    ctx.public_url = "https://pulse.example.com"
    ctx.clock.at = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # Monday 09:00 in Madrid
    assert await send_digests(ctx) == 1
    (digest,) = inbox.sent
    link = digest.blocks[-1]
    assert isinstance(link, Link) and "7" in link.label
    (token,) = parse_qs(urlsplit(link.url).query)["token"]
    ctx.clock.move(days=6, hours=23)
    assert (await check_link(ctx, token)).actor.key == "console:lead"
