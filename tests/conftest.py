"""Suite-wide: an offline guard (loopback only) and a store + context factory on real databases."""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from handlers.context import Context
from tests.context import build_ctx, sqlite_in

POSTGRES_URL = os.environ.get("PULSEBOT_TEST_POSTGRES_URL")

_real_connect = socket.socket.connect
_real_getaddrinfo = socket.getaddrinfo


def _loopback(host: Any) -> bool:
    if host in (None, "", "localhost"):
        return True
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False


def _guarded_connect(self: socket.socket, address: Any) -> Any:
    if self.family in (socket.AF_INET, socket.AF_INET6) and not _loopback(address[0]):
        raise OSError(f"test tried to reach {address[0]!r}: tests stay on loopback")
    return _real_connect(self, address)


def _guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    if not _loopback(host if not isinstance(host, bytes) else host.decode()):
        raise OSError(f"test tried to resolve {host!r}: tests stay on loopback")
    return _real_getaddrinfo(host, *args, **kwargs)


def pytest_configure(config: pytest.Config) -> None:
    socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
    socket.getaddrinfo = _guarded_getaddrinfo


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Any) -> str:
    """A fresh database: a SQLite file, and (in CI) the real PostgreSQL with an empty schema."""
    if request.param == "sqlite":
        return sqlite_in(tmp_path)
    if not POSTGRES_URL:
        pytest.skip("PULSEBOT_TEST_POSTGRES_URL is not set")
    return POSTGRES_URL


CtxFactory = Callable[..., Awaitable[Context]]


@pytest.fixture
async def make_ctx(db_url: str) -> AsyncIterator[CtxFactory]:
    """`build_ctx` on the suite's database: `make_ctx(config=None, *, now=..., secret=..., messengers=...)`.

    The first context of a test starts from an empty store; later ones share it (two processes).
    """
    made: list[Context] = []

    async def factory(config: dict[str, Any] | None = None, **options: Any) -> Context:
        ctx = await build_ctx(db_url, config, reset=not made, **options)
        made.append(ctx)
        return ctx

    yield factory
    for ctx in made:
        await ctx.store.dispose()


@pytest.fixture
async def ctx(make_ctx: CtxFactory) -> Context:
    """The default context: team "soporte" (es) with ana, bea, carlos, dani, eva; leader "lead"."""
    return await make_ctx()
