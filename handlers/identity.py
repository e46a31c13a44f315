"""Who is who across platforms: a person is a platform and an id together, written "platform:id".

`pulsebot.toml` may name a person `slack:U…`, `teams:29:…`, `teams:<Entra object id>` or
`console:name`; a bare id is read by its shape. Leaders are stored and matched in this form only,
so a Teams sender whose id happens to equal a Slack leader's id is not that leader
(DESIGN.md, "Reliability": people are matched by platform and id together).
"""

from __future__ import annotations

import re

PLATFORMS = ("slack", "teams", "console")

_SLACK_USER = re.compile(r"^[UW][A-Z0-9]+$")  # Slack user ids: U… (W… on Enterprise Grid)
_GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)
_TEAMS_USER = "29:"  # Teams user ids in activities

HOW_TO_WRITE = "write slack:U…, teams:29:… or console:name, or a bare id (U…/W… Slack; 29:… or an Entra GUID Teams)"


def person_ref(platform: str, user_id: str) -> str:
    """"platform:id". An Entra object id is lower-cased: Teams and a config file may differ in case."""
    if platform == "teams" and _GUID.match(user_id):
        user_id = user_id.lower()
    return f"{platform}:{user_id}"


def qualify(ref: str) -> str:
    """The "platform:id" form of an id written in `pulsebot.toml`.

    Raises ValueError (with how to write it) for an empty id or a prefix that names no platform.
    """
    ref = ref.strip()
    if not ref:
        raise ValueError(f"an empty id: {HOW_TO_WRITE}")
    platform, sep, rest = ref.partition(":")
    if sep and platform in PLATFORMS:
        if not rest.strip():
            raise ValueError(f"{ref!r} has no id after {platform}:")
        return person_ref(platform, rest.strip())
    if ref.startswith(_TEAMS_USER) or _GUID.match(ref):
        return person_ref("teams", ref)
    if sep:
        raise ValueError(f"{ref!r}: {platform!r} is not a platform; {HOW_TO_WRITE}")
    if _SLACK_USER.match(ref):
        return person_ref("slack", ref)
    return person_ref("console", ref)


def split_ref(ref: str) -> tuple[str, str]:
    """(platform, user id) of an id written in `pulsebot.toml` (read as `qualify` reads it)."""
    platform, _, user_id = qualify(ref).partition(":")
    return platform, user_id
