"""A fake Microsoft identity platform, reached at the real addresses through a local HTTPS proxy.

The Agents SDK fetches the keys that sign Teams' tokens from fixed addresses it does not let us
configure (`login.botframework.com/v1/.well-known/keys` for Bot Framework tokens,
`login.microsoftonline.com/<tenant>/discovery/v2.0/keys` for Entra ones), and MSAL asks
`login.microsoftonline.com` for the bot's own outbound token. A `pulsebot serve` started with
`fake.env()` reaches this fake instead: `HTTPS_PROXY` points at a CONNECT proxy on 127.0.0.1 that
knows only those two hosts (anything else is refused and recorded), and `SSL_CERT_FILE` /
`REQUESTS_CA_BUNDLE` trust a throwaway CA that signed the fake's certificate. Nothing leaves loopback::

    async with FakeIdentity(tmp_path, tenant=TENANT) as idp:
        env.update(idp.env())
        token = idp.channel_token(app_id=APP_ID, service_url=connector.url)   # what Teams sends
        idp.channel_token(..., key=idp.stranger)   # signed by a key nobody publishes
        idp.requests                               # [(host, method, path), ...]
        idp.refused                                # CONNECT targets that were not ours

Tokens are minted with PyJWT and `cryptography` (the SDK's own dependencies), as RS256 with a `kid`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import ssl
import time
from pathlib import Path
from typing import Any

import jwt
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from jwt.algorithms import RSAAlgorithm

BOT_FRAMEWORK_HOST = "login.botframework.com"
ENTRA_HOST = "login.microsoftonline.com"
BOT_FRAMEWORK_ISSUER = "https://api.botframework.com"
OUTBOUND_TOKEN = "fake-msal-token-for-the-bot"


class SigningKey:
    """An RSA key with its key id, as a JWKS publishes it."""

    def __init__(self, kid: str) -> None:
        self.kid = kid
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def jwk(self) -> dict[str, Any]:
        """The public half as a JWK (what the key endpoints list)."""
        out = RSAAlgorithm.to_jwk(self.private.public_key(), as_dict=True)
        out.update(kid=self.kid, use="sig", alg="RS256")
        return out

    def sign(self, claims: dict[str, Any], *, kid: str | None = None) -> str:
        """A JWT with these claims; `kid` may lie about which key signed it."""
        return jwt.encode(claims, self.private, algorithm="RS256", headers={"kid": kid or self.kid})


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _certificates(folder: Path) -> tuple[Path, Path, Path]:
    """A CA (ca.pem) and a server certificate for both hosts it signed (server.pem, server-key.pem)."""
    now = dt.datetime.now(dt.UTC)
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(_name("pulsebot test CA"))
        .issuer_name(_name("pulsebot test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                     crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(ENTRA_HOST))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(ENTRA_HOST), x509.DNSName(BOT_FRAMEWORK_HOST)]),
                       critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    ca_path, cert_path, key_path = folder / "ca.pem", folder / "server.pem", folder / "server-key.pem"
    ca_path.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return ca_path, cert_path, key_path


class FakeIdentity:
    """The fake identity platform (HTTPS on 127.0.0.1) and the CONNECT proxy in front of it."""

    def __init__(self, folder: Path, *, tenant: str) -> None:
        self.folder = folder
        self.tenant = tenant
        # The Bot Connector's key (Bot Framework tokens) and the tenant's Entra key.
        self.bot_framework = SigningKey("bf-key-1")
        self.entra = SigningKey("entra-key-1")
        self.stranger = SigningKey("stranger-key")  # published nowhere
        self.requests: list[tuple[str, str, str]] = []
        self.refused: list[str] = []
        self.token_requests: list[dict[str, str]] = []
        self.ca_path: Path | None = None
        self._runner: web.AppRunner | None = None
        self._proxy: asyncio.Server | None = None
        self._tls_port = 0
        self.proxy_url = ""

    # -- tokens ------------------------------------------------------------------------------
    def channel_token(self, *, app_id: str, service_url: str | None, key: SigningKey | None = None,
                      kid: str | None = None, **claims: Any) -> str:
        """A Bot Framework channel token as the Bot Connector sends it with an activity."""
        now = int(time.time())
        body: dict[str, Any] = {"iss": BOT_FRAMEWORK_ISSUER, "aud": app_id, "nbf": now - 60,
                                "iat": now - 60, "exp": now + 3600}
        if service_url is not None:
            body["serviceurl"] = service_url
        body.update(claims)
        signer = key or self.bot_framework
        return signer.sign(body, kid=kid)

    def entra_token(self, *, app_id: str, tenant: str, service_url: str | None = None, **claims: Any) -> str:
        """An Entra v2 token for `app_id` issued by `tenant`, signed with the Entra key."""
        now = int(time.time())
        body: dict[str, Any] = {"iss": f"https://{ENTRA_HOST}/{tenant}/v2.0", "tid": tenant, "aud": app_id,
                                "ver": "2.0", "azp": app_id, "nbf": now - 60, "iat": now - 60, "exp": now + 3600}
        if service_url is not None:
            body["serviceurl"] = service_url
        body.update(claims)
        return self.entra.sign(body)

    # -- what a process needs to use it --------------------------------------------------------
    def env(self) -> dict[str, str]:
        """Environment for a process that should reach this fake at the real addresses."""
        assert self.ca_path is not None, "start() first"
        return {
            "HTTPS_PROXY": self.proxy_url, "https_proxy": self.proxy_url,
            "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost",
            "SSL_CERT_FILE": str(self.ca_path), "REQUESTS_CA_BUNDLE": str(self.ca_path),
        }

    # -- servers -----------------------------------------------------------------------------
    async def start(self) -> FakeIdentity:
        """Start the HTTPS fake and the proxy, each on a free port of 127.0.0.1."""
        self.ca_path, cert, key = _certificates(self.folder)
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(cert, key)
        app = web.Application()
        app.router.add_route("*", "/{path:.*}", self._serve)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=tls)
        await site.start()
        self._tls_port = self._runner.addresses[0][1]
        self._proxy = await asyncio.start_server(self._tunnel, "127.0.0.1", 0)
        port = self._proxy.sockets[0].getsockname()[1]
        self.proxy_url = f"http://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        """Stop both servers."""
        if self._proxy is not None:
            self._proxy.close()
            self._proxy = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeIdentity:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _tunnel(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """`CONNECT host:443`: to the fake for our two hosts; anything else is refused."""
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            writer.close()
            return
        method, target, *_ = head.split(b"\r\n", 1)[0].decode("latin-1").split()
        host = target.rsplit(":", 1)[0].lower()
        if method != "CONNECT" or host not in (BOT_FRAMEWORK_HOST, ENTRA_HOST):
            self.refused.append(target)
            writer.write(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
            await writer.drain()
            writer.close()
            return
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self._tls_port)
        writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        await writer.drain()

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (ConnectionError, asyncio.CancelledError):
                pass
            finally:
                dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    async def _serve(self, request: web.Request) -> web.Response:
        host = (request.headers.get("Host") or "").split(":")[0].lower()
        path = request.path
        self.requests.append((host, request.method, path))
        if host == BOT_FRAMEWORK_HOST and path == "/v1/.well-known/keys":
            return web.json_response({"keys": [self.bot_framework.jwk()]})
        if host == ENTRA_HOST:
            tenant, _, rest = path.lstrip("/").partition("/")
            if rest == "discovery/v2.0/keys":
                return web.json_response({"keys": [self.entra.jwk()]})
            base = f"https://{ENTRA_HOST}/{tenant}"
            if rest == "v2.0/.well-known/openid-configuration":
                return web.json_response({
                    "issuer": f"{base}/v2.0", "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                    "token_endpoint": f"{base}/oauth2/v2.0/token", "jwks_uri": f"{base}/discovery/v2.0/keys",
                    "response_types_supported": ["code", "token"], "subject_types_supported": ["pairwise"],
                    "id_token_signing_alg_values_supported": ["RS256"],
                })
            if rest == "oauth2/v2.0/token" and request.method == "POST":
                form = dict(await request.post())
                self.token_requests.append({k: str(v) for k, v in form.items()})
                return web.json_response({"token_type": "Bearer", "expires_in": 3600, "ext_expires_in": 3600,
                                          "access_token": OUTBOUND_TOKEN})
        return web.json_response({"error": "not_found"}, status=404)
