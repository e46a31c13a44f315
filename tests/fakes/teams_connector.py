"""A fake Bot Connector service: a real aiohttp server on 127.0.0.1 speaking the v3 REST API.

Point an activity's ``serviceUrl`` at ``fake.url`` and every call the bot makes through the
Agents SDK's connector client lands here and is recorded::

    async with FakeConnector() as fake:
        fake.add_member("19:team@thread.tacv2", member("29:ana", "Ana", aad="aad-ana"))
        ...
        fake.calls("send")      # [Call(kind="send", conversation="a:dm-29:ana", body={...})]
        fake.activities("a:dm-29:ana")  # what the bot posted there, oldest first (updates applied)

Routes (https://learn.microsoft.com/azure/bot-service/rest-api/bot-framework-rest-connector-api-reference):
``POST /v3/conversations`` (create; the same one-to-one conversation for the same user, as Teams
does), ``POST /v3/conversations/{id}/activities`` (send), ``POST …/activities/{activityId}``
(reply), ``PUT …/activities/{activityId}`` (update), ``GET /v3/conversations/{id}/members``,
``GET …/members/{userId}``, ``GET …/pagedmembers`` (``pageSize``, ``continuationToken``).
``fake.fail_next(kind, status=429, retry_after=2)`` answers the next call of that kind with an
error (nothing recorded); ``fake.require_token = "…"`` checks ``Authorization: Bearer``.
``fake.lose_answer("send")`` stores the next activity and then loses its answer, as a timeout or
a dropped connection does: the connection is closed before a status line is written, or, with
``hold=True``, the answer waits until ``fake.release()`` (a test kills the bot meanwhile).
"""

from __future__ import annotations

import asyncio
import itertools
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


def member(user_id: str, name: str, *, aad: str | None = None, email: str = "") -> dict[str, Any]:
    """A Teams channel account as the connector returns it in member lists."""
    out: dict[str, Any] = {"id": user_id, "name": name, "givenName": name, "userRole": "user"}
    if aad:
        out["aadObjectId"] = aad
    if email:
        out["email"] = email
        out["userPrincipalName"] = email
    return out


@dataclass
class Call:
    """One request the bot made."""

    kind: str  # create | send | reply | update | members | member | pagedmembers
    conversation: str = ""
    activity_id: str = ""
    body: Any = None
    query: dict[str, str] = field(default_factory=dict)
    authorization: str | None = None


class FakeConnector:
    """The fake service; use as an async context manager or call start()/stop()."""

    def __init__(self, *, page_size_limit: int = 2) -> None:
        self.url = ""
        self.require_token: str | None = None
        self.page_size_limit = page_size_limit  # small pages so paging is exercised
        self._calls: list[Call] = []
        self._members: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self._activities: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
        self._dm_by_user: dict[str, str] = {}
        self._failures: dict[str, list[tuple[int, float | None]]] = defaultdict(list)
        self._lost: dict[str, list[bool]] = defaultdict(list)  # per kind: hold (True) or drop
        self._released = asyncio.Event()
        self.held = 0  # answers being held right now
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None

    # -- setup -----------------------------------------------------------------------------
    def add_member(self, conversation: str, account: dict[str, Any]) -> None:
        """Put a member in a conversation's (or team's) roster."""
        self._members[conversation].append(account)

    def fail_next(self, kind: str, *, status: int = 500, retry_after: float | None = None) -> None:
        """Answer the next call of `kind` with `status` (and Retry-After), without recording it."""
        self._failures[kind].append((status, retry_after))

    def lose_answer(self, kind: str = "send", *, count: int = 1, hold: bool = False) -> None:
        """Store the next `count` activities of `kind`, then lose each one's answer.

        By default the connection is closed with nothing written back (the client sees a dropped
        connection); with `hold`, the answer waits until `release()`, like a slow connector.
        """
        self._lost[kind].extend([hold] * count)

    def release(self) -> None:
        """Let held answers go (to whoever is still listening)."""
        self._released.set()

    # -- reading what happened ---------------------------------------------------------------
    def calls(self, kind: str | None = None) -> list[Call]:
        """Recorded calls, oldest first, of one kind or all."""
        return [c for c in self._calls if kind is None or c.kind == kind]

    def activities(self, conversation: str) -> list[dict[str, Any]]:
        """Activities the bot posted in a conversation, oldest first, as last updated."""
        return list(self._activities[conversation].values())

    def dm_conversation(self, user_id: str) -> str | None:
        """The one-to-one conversation created for a user, if any."""
        return self._dm_by_user.get(user_id)

    def cards(self, conversation: str) -> list[dict[str, Any]]:
        """The Adaptive Cards posted in a conversation (content of each card attachment)."""
        out = []
        for activity in self.activities(conversation):
            for att in activity.get("attachments") or []:
                if att.get("contentType") == "application/vnd.microsoft.card.adaptive":
                    out.append(att["content"])
        return out

    # -- server ----------------------------------------------------------------------------
    async def start(self) -> FakeConnector:
        """Listen on a free port of 127.0.0.1."""
        app = web.Application()
        app.router.add_post("/v3/conversations", self._create)
        app.router.add_post("/v3/conversations/{cid}/activities", self._send)
        app.router.add_post("/v3/conversations/{cid}/activities/{aid}", self._reply)
        app.router.add_put("/v3/conversations/{cid}/activities/{aid}", self._update)
        app.router.add_get("/v3/conversations/{cid}/members", self._list_members)
        app.router.add_get("/v3/conversations/{cid}/members/{uid}", self._get_member)
        app.router.add_get("/v3/conversations/{cid}/pagedmembers", self._paged_members)
        app.router.add_get("/v3/conversations/{cid}/pagedMembers", self._paged_members)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}/"
        return self

    async def stop(self) -> None:
        """Stop listening."""
        self.release()  # a held answer would otherwise keep the server's shutdown waiting
        if self._runner:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeConnector:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # -- handlers --------------------------------------------------------------------------
    async def _guard(self, request: web.Request, kind: str) -> web.Response | None:
        if self.require_token is not None:
            if request.headers.get("Authorization") != f"Bearer {self.require_token}":
                return web.json_response({"error": {"code": "Unauthorized"}}, status=401)
        if self._failures[kind]:
            status, retry_after = self._failures[kind].pop(0)
            headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
            return web.json_response({"error": {"code": "Failure", "message": "injected"}},
                                     status=status, headers=headers)
        return None

    def _record(self, request: web.Request, kind: str, body: Any = None) -> Call:
        call = Call(
            kind=kind,
            conversation=request.match_info.get("cid", ""),
            activity_id=request.match_info.get("aid", ""),
            body=body,
            query=dict(request.query),
            authorization=request.headers.get("Authorization"),
        )
        self._calls.append(call)
        return call

    async def _create(self, request: web.Request) -> web.Response:
        if (fail := await self._guard(request, "create")) is not None:
            return fail
        body = await request.json()
        members = body.get("members") or []
        if not members or not members[0].get("id"):
            return web.json_response({"error": {"code": "BadArgument", "message": "members"}}, status=400)
        self._record(request, "create", body)
        user = members[0]["id"]
        conversation = self._dm_by_user.setdefault(user, f"a:dm-{user}")
        out: dict[str, Any] = {"id": conversation}
        if body.get("activity"):
            activity_id = self._store(conversation, body["activity"])
            out["activityId"] = activity_id
        return web.json_response(out, status=201)

    def _store(self, conversation: str, activity: dict[str, Any], activity_id: str | None = None) -> str:
        activity_id = activity_id or f"1{next(self._ids):06d}"
        self._activities[conversation][activity_id] = {**activity, "id": activity_id}
        return activity_id

    async def _answer(self, request: web.Request, kind: str, response: web.Response) -> web.Response:
        """The answer to a call whose effect is already stored, unless the test asked to lose it."""
        if not self._lost[kind]:
            return response
        if self._lost[kind].pop(0):
            self.held += 1
            try:
                await self._released.wait()
            finally:
                self.held -= 1
            return response
        assert request.transport is not None
        request.transport.close()  # stored, and no status line: a dropped connection
        return response

    async def _send(self, request: web.Request) -> web.Response:
        if (fail := await self._guard(request, "send")) is not None:
            return fail
        body = await request.json()
        call = self._record(request, "send", body)
        activity_id = self._store(call.conversation, body)
        return await self._answer(request, "send", web.json_response({"id": activity_id}, status=201))

    async def _reply(self, request: web.Request) -> web.Response:
        if (fail := await self._guard(request, "reply")) is not None:
            return fail
        body = await request.json()
        call = self._record(request, "reply", body)
        activity_id = self._store(call.conversation, body)
        return web.json_response({"id": activity_id}, status=201)

    async def _update(self, request: web.Request) -> web.Response:
        if (fail := await self._guard(request, "update")) is not None:
            return fail
        body = await request.json()
        call = self._record(request, "update", body)
        if call.activity_id not in self._activities[call.conversation]:
            return web.json_response({"error": {"code": "NotFound", "message": "activity"}}, status=404)
        self._store(call.conversation, body, call.activity_id)
        return web.json_response({"id": call.activity_id}, status=200)

    async def _list_members(self, request: web.Request) -> web.Response:
        if (fail := await self._guard(request, "members")) is not None:
            return fail
        call = self._record(request, "members")
        return web.json_response(self._members.get(call.conversation, []))

    async def _get_member(self, request: web.Request) -> web.Response:
        if (fail := await self._guard(request, "member")) is not None:
            return fail
        call = self._record(request, "member")
        uid = request.match_info["uid"]
        for account in self._members.get(call.conversation, []):
            if uid in (account.get("id"), account.get("aadObjectId")):
                return web.json_response(account)
        return web.json_response({"error": {"code": "MemberNotFoundInConversation"}}, status=404)

    async def _paged_members(self, request: web.Request) -> web.Response:
        if (fail := await self._guard(request, "pagedmembers")) is not None:
            return fail
        call = self._record(request, "pagedmembers")
        everyone = self._members.get(call.conversation, [])
        size = min(int(request.query.get("pageSize") or self.page_size_limit), self.page_size_limit)
        start = int(request.query.get("continuationToken") or 0)
        page = everyone[start:start + size]
        out: dict[str, Any] = {"members": page}
        if start + size < len(everyone):
            out["continuationToken"] = str(start + size)
        return web.json_response(out)
