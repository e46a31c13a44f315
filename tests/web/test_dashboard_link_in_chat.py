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
from tests.teams.test_cards import assert_valid

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
    assert_valid(card)
    assert {"type": "Action.OpenUrl", "title": "Open <the> dashboard",
            "url": "https://pulse.example.com/dashboard/login?token=a.b"} in [
        a for item in card["body"] if item.get("type") == "ActionSet" for a in item["actions"]]
