"""Reading Teams activities: who acted, where, in which language and time zone, which command."""

from __future__ import annotations

from typing import Any

from microsoft_agents.activity import Activity, ChannelAccount

from bot.teams.messenger import PLATFORM, base_conversation
from handlers.inputs import Command
from handlers.ports import Actor, Where

_KINDS = {"personal": "dm", "channel": "channel", "groupChat": "group"}


def channel_data(activity: Activity) -> dict[str, Any]:
    """The activity's channelData as a dict (Teams puts tenant, team, channel, meeting there)."""
    data = activity.channel_data
    if hasattr(data, "model_dump"):
        data = data.model_dump(by_alias=True, exclude_none=True)
    return data if isinstance(data, dict) else {}


def tenant_of(activity: Activity) -> str:
    """The Entra tenant of the conversation ("" when Teams did not say)."""
    if activity.conversation and activity.conversation.tenant_id:
        return activity.conversation.tenant_id
    return str(channel_data(activity).get("tenant", {}).get("id") or "")


def timezone_of(activity: Activity) -> str | None:
    """The sender's IANA time zone: `localTimezone`, else the `clientInfo` entity's."""
    if activity.local_timezone:
        return activity.local_timezone
    for entity in activity.entities or []:
        data = entity.model_dump(by_alias=True) if hasattr(entity, "model_dump") else dict(entity)
        if data.get("type") == "clientInfo" and data.get("timezone"):
            return str(data["timezone"])
    return None


def actor_of(activity: Activity) -> Actor:
    """Who sent the activity, as the core knows people."""
    # Some events (a meeting's start) may come without a sender: the bot stands in for them.
    sender = activity.from_property or activity.recipient or ChannelAccount(id="unknown")
    return Actor(
        platform=PLATFORM,
        user_id=sender.id,
        workspace=tenant_of(activity),
        name=sender.name or "",
        locale=activity.locale,
        timezone=timezone_of(activity),
        aad_id=sender.aad_object_id,
    )


def where_of(activity: Activity) -> Where:
    """The conversation, without a channel thread suffix; meeting chats are "meeting"."""
    conversation = activity.conversation
    kind = _KINDS.get(conversation.conversation_type or "", "group")
    data = channel_data(activity)
    if kind != "dm" and (data.get("meeting") or conversation.id.startswith("19:meeting_")):
        kind = "meeting"
    return Where(conversation=base_conversation(conversation.id), kind=kind, name=conversation.name or "")


def split_command(text: str) -> Command | None:
    """The command in "empty-chair Q3 pricing" or "/empty-chair …"; None when the first word is none."""
    word, _, rest = text.strip().partition(" ")
    command = Command.parse(word, rest)
    return command if command.verb is not None else None
