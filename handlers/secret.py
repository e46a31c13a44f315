"""The secret behind the respondent keys: its fingerprint in the store, and re-keying to a new one.

A store whose answers were keyed with one secret and a process holding another would quietly
split every member in two (old answers unreachable by `/pulse me` and `forget`); so the store
keeps an HMAC of a fixed label under the secret and a process with a different one refuses to start.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select, update

from handlers.errors import ConfigError
from handlers.members import respondent_key
from storage.db import Store
from storage.models import Member, Response, StoreMeta

logger = logging.getLogger(__name__)

FINGERPRINT_KEY = "secret_fingerprint"
_LABEL = b"pulsebot secret fingerprint v1"


def fingerprint(secret: bytes) -> str:
    """HMAC-SHA256(secret, fixed label): says whether two secrets are the same, reveals neither."""
    return hmac.new(secret, _LABEL, hashlib.sha256).hexdigest()


async def stored_fingerprint(store: Store) -> str | None:
    """The fingerprint the store was keyed with, if any answer or process has set one."""
    async with store.session() as session:
        row = await session.get(StoreMeta, FINGERPRINT_KEY)
        return row.value if row is not None else None


async def check_secret(store: Store, secret: bytes) -> None:
    """Adopt the secret on a new store; refuse one that differs from the store's."""
    mine = fingerprint(secret)
    theirs = await stored_fingerprint(store)
    if theirs is None:
        try:
            async with store.session() as session:
                session.add(StoreMeta(key=FINGERPRINT_KEY, value=mine))
                await session.commit()
            logger.info("store keyed with this PULSEBOT_SECRET")
            return
        except IntegrityError:  # another replica adopted one a moment ago: compare with it
            theirs = await stored_fingerprint(store)
    if theirs != mine:
        raise ConfigError(
            "PULSEBOT_SECRET is not the secret this store's answers are keyed with; with it nobody could "
            "find their own answers. Start with the old secret, or re-key the store: "
            "PULSEBOT_SECRET_OLD=<old> PULSEBOT_SECRET=<new> pulsebot secret rotate"
        )


@dataclass(frozen=True)
class Rotation:
    """What `secret rotate` did: answers re-keyed, and answers left under the old key (nobody's now)."""

    rekeyed: int
    unmatched: int
    already: bool = False


async def rotate_secret(store: Store, *, old: bytes, new: bytes) -> Rotation:
    """Re-key every answer of every known member from `old` to `new`, in one transaction.

    Answers whose key matches no member (a member gone without `forget`) cannot be re-keyed, since
    nothing names them; they stay in the figures and belong to nobody. Run twice, it does nothing.
    """
    theirs = await stored_fingerprint(store)
    if theirs == fingerprint(new):
        return Rotation(0, 0, already=True)
    if theirs is not None and theirs != fingerprint(old):
        raise ConfigError("PULSEBOT_SECRET_OLD is not the secret this store is keyed with; nothing was changed")
    rekeyed = 0
    async with store.session() as session:
        members = (await session.exec(select(Member.platform, Member.user_id))).all()
        for platform, user_id in members:
            identity = f"{platform}:{user_id}"
            result = await session.exec(
                update(Response)
                .where(col(Response.respondent_key) == respondent_key(old, identity))
                .values(respondent_key=respondent_key(new, identity))
            )
            rekeyed += result.rowcount  # type: ignore[attr-defined]
        meta = await session.get(StoreMeta, FINGERPRINT_KEY)
        if meta is None:
            session.add(StoreMeta(key=FINGERPRINT_KEY, value=fingerprint(new)))
        else:
            meta.value = fingerprint(new)
        total = len((await session.exec(select(Response.id))).all())
        await session.commit()
    logger.info("secret rotated", extra={"rekeyed": rekeyed, "unmatched": total - rekeyed})
    return Rotation(rekeyed, total - rekeyed)
