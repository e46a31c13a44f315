"""The Slack surface's view of a request: which card `carry_out` may treat as the tapped one."""

from __future__ import annotations

from bot.slack.surface import SlackSurface
from bot.slack.translate import Tapped
from handlers.ports import Actor, Where

ANA = Actor(platform="slack", user_id="U1", workspace="T1")


def surface(where: Where, card: Tapped | None) -> SlackSurface:
    # Only the request's own fields are read here: no runtime or Web API client is needed.
    return SlackSurface(rt=None, client=None, actor=ANA, where=where, card=card)  # type: ignore[arg-type]


def test_a_card_in_a_channel_is_the_tapped_card_and_not_personal():
    s = surface(Where("C1", "channel"), Tapped(channel="C1", ts="171.1"))
    assert s.tapped == ("C1", "171.1") and not s.personal


def test_a_card_in_the_dm_is_personal():
    assert surface(Where("D1", "dm"), Tapped(channel="D1", ts="171.2")).personal


def test_an_ephemeral_card_is_never_matched_by_an_edit():
    # chat.update cannot reach an ephemeral message: it is redrawn through its response_url instead.
    ephemeral = Tapped(channel="C1", ts="171.3", ephemeral=True, response_url="https://hooks.example/r")
    assert surface(Where("C1", "channel"), ephemeral).tapped is None
    assert surface(Where("C1", "channel"), None).tapped is None
