"""manifest.yml declares what the face serves: three commands, its events, one URL, few scopes."""

from __future__ import annotations

import re
from pathlib import Path

MANIFEST = (Path(__file__).resolve().parents[2] / "manifest.yml").read_text(encoding="utf-8")


def test_manifest_declares_the_three_commands_with_usage_hints_on_one_url():
    for command in ("/empty-chair", "/team-pulse", "/pulse"):
        assert f"- command: {command}\n" in MANIFEST
    assert MANIFEST.count("usage_hint:") == 3
    urls = set(re.findall(r"url: (\S+)", MANIFEST))
    assert urls == {"https://pulsebot.example.com/slack/events"}


def test_manifest_subscribes_to_the_events_the_face_handles():
    events = MANIFEST.split("bot_events:")[1].split("interactivity:")[0]
    assert re.findall(r"- ([a-z_.]+)", events) == ["app_home_opened", "message.im", "member_joined_channel",
                                                          "app_uninstalled", "tokens_revoked"]
    assert "home_tab_enabled: true" in MANIFEST and "is_enabled: true" in MANIFEST


def test_every_scope_says_why_it_is_needed():
    scopes = MANIFEST.split("bot:\n")[1].split("settings:")[0]
    lines = [line for line in scopes.splitlines() if line.strip().startswith("- ")]
    assert {line.split()[1] for line in lines} == {
        "commands", "chat:write", "im:write", "im:history", "channels:read", "groups:read", "users:read",
        "files:write",
    }
    assert all("#" in line for line in lines)
