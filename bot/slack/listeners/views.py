"""Modal submits (view_submission): the form's action and value come back from private_metadata.

The submit is handled before the ack (bolt answers when the listener returns: the app runs with
`process_before_response`), so a closed modal means a stored comment or impact (DESIGN.md,
Reliability), and a refusal (a comment too long, a closed round) is shown inside the modal
instead of being lost when it closes; stores are fast enough for Slack's 3 s, and nothing before
the ack waits on the Web API. Redrawing the card comes after.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.blocks import FORM_CALLBACK, form_fields, form_metadata
from bot.slack.runtime import SlackRuntime
from bot.slack.surface import SlackSurface
from bot.slack.translate import MalformedPayload, from_origin, user_of
from handlers.inputs import Tap
from handlers.messages import Notice, Outcome, plain_text
from handlers.surface import carry_out

logger = logging.getLogger(__name__)


def _refusal(outcome: Outcome) -> str | None:
    """The text of an error notice when the outcome is only a refusal (nothing was stored)."""
    reply = outcome.reply
    if reply is None or outcome.update or outcome.edits or outcome.posts or outcome.form:
        return None
    if any(isinstance(b, Notice) and b.level == "error" for b in reply.blocks):
        return plain_text(reply)
    return None


def register(app: AsyncApp, rt: SlackRuntime) -> None:
    """Attach the modal submit listener."""

    async def on_submit(ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient) -> None:
        try:
            user_id, team_id, _ = user_of(body)
            meta = form_metadata(view)
            fields = form_fields(view)
        except (MalformedPayload, ValueError) as exc:
            logger.warning("malformed view submission", extra={"error": str(exc)})
            await ack()
            return
        where, tapped = from_origin(meta)
        # Before the ack; users.info may hold it only briefly (`known_actor`), and the tap that
        # opened the modal has usually cached the profile already.
        actor, profiled = await rt.known_actor(client, user_id, team_id)
        outcome = await rt.handle(actor, where, Tap.parse(meta["a"], meta["v"], fields))
        if outcome is None:
            await ack()
            return
        refusal = _refusal(outcome)
        if refusal is not None and fields:
            # Show the refusal on the form's first field; the member can fix it and submit again.
            await ack(response_action="errors", errors={next(iter(fields)): refusal[:150]})
            return
        await ack()

        async def show() -> None:
            await carry_out(rt.ctx, outcome, SlackSurface(rt, client, actor, where, card=tapped))
            if not profiled:
                await rt.refresh_profile(client, actor)

        rt.later(show)

    app.view(FORM_CALLBACK)(on_submit)
