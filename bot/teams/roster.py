"""Team rosters from Teams: the members of a configured team or chat, read from the Bot Connector.

Called when the app is installed in a team or group chat and whenever members come or go; the
whole roster is read again (paged), so a missed event is repaired by the next one.
"""

from __future__ import annotations

import logging

from microsoft_agents.activity import ChannelAccount, ConversationAccount
from microsoft_agents.hosting.core import ConnectorClientBase, TurnContext

from bot.teams.activities import channel_data, tenant_of
from bot.teams.messenger import PLATFORM, base_conversation, dump_reference
from handlers.context import Context
from handlers.members import sync_roster, upsert_member
from handlers.ports import Actor

logger = logging.getLogger(__name__)

PAGE_SIZE = 500  # the connector's maximum page


async def _members(context: TurnContext) -> list[ChannelAccount]:
    # The Bot Connector's `GET /v3/conversations/{id}/pagedmembers`, through the connector client
    # the adapter put on this turn; for a team the conversation is the team's id. One page per
    # call: follow the continuation token until there is none.
    # https://learn.microsoft.com/azure/bot-service/rest-api/bot-framework-rest-connector-api-reference#get-conversation-paged-members
    connector = context.services.get(ConnectorClientBase)  # type: ignore[type-abstract]  # keyed by the base class
    if connector is None:
        raise RuntimeError("no connector client on this turn")
    activity = context.activity
    conversation = channel_data(activity).get("team", {}).get("id") or activity.conversation.id
    members: list[ChannelAccount] = []
    token: str | None = None
    while True:
        page = await connector.conversations.get_conversation_paged_members(conversation, PAGE_SIZE, token)
        members.extend(page.members or [])
        token = page.continuation_token
        if not token:
            return members


async def sync_conversation(ctx: Context, context: TurnContext) -> int:
    """Make the roster of every `[[teams]]` entry that points here match Teams; returns members seen."""
    activity = context.activity
    data = channel_data(activity)
    here = {base_conversation(activity.conversation.id)}
    if team_id := data.get("team", {}).get("id"):
        here.add(base_conversation(team_id))
    teams = [
        tc.name for tc in ctx.config.teams
        if tc.teams_conversation and base_conversation(tc.teams_conversation) in here
    ]
    if not teams:
        logger.info("installed in a conversation that is no configured team", extra={"conversation": activity.conversation.id})
        return 0
    bot_id = activity.recipient.id if activity.recipient else None
    tenant = tenant_of(activity)
    accounts = [m for m in await _members(context) if m.id and m.id != bot_id]
    actors = [
        Actor(platform=PLATFORM, user_id=m.id, workspace=tenant, name=m.name or "", aad_id=m.aad_object_id)
        for m in accounts
    ]
    for name in teams:
        await sync_roster(ctx, team_name=name, members=actors)
    # Each member keeps how to reach them: the service URL, tenant and bot of this conversation.
    base = activity.get_conversation_reference()
    for account, actor in zip(accounts, actors, strict=True):
        reference = base.model_copy(
            update={
                "user": ChannelAccount(id=account.id, name=account.name, aad_object_id=account.aad_object_id),
                "conversation": ConversationAccount(id=base_conversation(activity.conversation.id), tenant_id=tenant or None),
            }
        )
        await upsert_member(ctx, actor, conversation_ref=dump_reference(reference))
    logger.info("teams roster read", extra={"teams": teams, "members": len(actors)})
    return len(actors)
