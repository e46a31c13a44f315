"""The Teams app package: manifest.json (v1.24), its two icons and a Spanish localization, zipped.

`pulsebot teams-package --out pulsebot-teams.zip` calls `write_package`; upload the zip in Teams
(Apps → Manage your apps → Upload an app) or in the Teams admin center.
"""

from __future__ import annotations

import io
import json
import logging
import re
import zipfile
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

from handlers.config import Settings
from handlers.errors import ConfigError

logger = logging.getLogger(__name__)

MANIFEST_VERSION = "1.24"
SCHEMA = f"https://developer.microsoft.com/json-schemas/teams/v{MANIFEST_VERSION}/MicrosoftTeams.schema.json"
LOCALIZATION_SCHEMA = (
    f"https://developer.microsoft.com/json-schemas/teams/v{MANIFEST_VERSION}/MicrosoftTeams.Localization.schema.json"
)
ACCENT = "#0F6E6E"
_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")

# Resource-specific consent: meetingStart/meetingEnd events in meeting chats and channel meetings.
# https://learn.microsoft.com/microsoftteams/platform/apps-in-teams-meetings/meeting-apps-apis
RSC_PERMISSIONS = ("OnlineMeeting.ReadBasic.Chat", "ChannelMeeting.ReadBasic.Group")

_COMMANDS = {
    "empty-chair": ("Put the client's question in front of the room: empty-chair [topic] | followups",
                    "Pon la pregunta del cliente delante de la sala: empty-chair [tema] | seguimientos"),
    "team-pulse": ("Your team's trend, privately: team-pulse [team] [weeks]",
                   "La tendencia de tu equipo, en privado: team-pulse [equipo] [semanas]"),
    "pulse": ("Your check-ins: pulse me | privacy | pause | resume | forget | lang es|en | help",
              "Tus check-ins: pulse me | privacy | pause | resume | forget | lang es|en | help"),
}
_LISTS = (("personal", ("empty-chair", "team-pulse", "pulse")),
          ("team", ("empty-chair", "team-pulse")),
          ("groupChat", ("empty-chair", "team-pulse")))

_NAME = ("pulsebot", "pulsebot: listen to your people, keep a chair for the client")
_DESCRIPTION = {
    "en": ("Weekly mood check-ins and an empty chair for the client in every meeting.",
           "pulsebot asks each member, once a week and at a civil hour, how work feels (1-5) and one "
           "rotating statement, and gives leaders only anonymous aggregates. In meetings, "
           "empty-chair asks the room how a decision affects your clients and keeps the answers."),
    "es": ("Check-ins semanales de ánimo y una silla vacía para el cliente en cada reunión.",
           "pulsebot pregunta a cada persona, una vez por semana y a una hora razonable, cómo se siente "
           "en el trabajo (1-5) y una afirmación que va rotando; quien lidera solo ve datos agregados y "
           "anónimos. En las reuniones, empty-chair pregunta a la sala cómo afecta una decisión a "
           "vuestros clientes y guarda las respuestas."),
}
_NAME_ES = "pulsebot: escucha a tu gente, guarda una silla al cliente"


def _app_version() -> str:
    try:
        return version("pulsebot")
    except PackageNotFoundError:
        return "0.1.0"


def manifest(bot_id: str, *, website: str, privacy: str, terms: str) -> dict[str, Any]:
    """The manifest as a dict (tests validate it against the official schema)."""
    return {
        "$schema": SCHEMA,
        "manifestVersion": MANIFEST_VERSION,
        "version": _app_version(),
        "id": bot_id,
        "localizationInfo": {
            "defaultLanguageTag": "en-us",
            "additionalLanguages": [{"languageTag": "es", "file": "es.json"}],
        },
        "developer": {"name": "pulsebot", "websiteUrl": website, "privacyUrl": privacy, "termsOfUseUrl": terms},
        "name": {"short": _NAME[0], "full": _NAME[1]},
        "description": {"short": _DESCRIPTION["en"][0], "full": _DESCRIPTION["en"][1]},
        "icons": {"color": "color.png", "outline": "outline.png"},
        "accentColor": ACCENT,
        "bots": [
            {
                "botId": bot_id,
                "scopes": ["personal", "team", "groupChat"],
                "supportsFiles": False,
                "isNotificationOnly": False,
                "commandLists": [
                    {
                        "scopes": [scope],
                        "commands": [{"title": c, "description": _COMMANDS[c][0]} for c in commands],
                    }
                    for scope, commands in _LISTS
                ],
            }
        ],
        "permissions": ["identity", "messageTeamMembers"],
        "validDomains": [],
        "webApplicationInfo": {"id": bot_id, "resource": "https://RscBasedStoreApp"},
        "authorization": {
            "permissions": {
                "resourceSpecific": [{"name": name, "type": "Application"} for name in RSC_PERMISSIONS]
            }
        },
    }


def localization_es() -> dict[str, Any]:
    """The Spanish strings of the manifest (command titles stay as typed; their help is translated)."""
    out: dict[str, Any] = {
        "$schema": LOCALIZATION_SCHEMA,
        "name.short": _NAME[0],
        "name.full": _NAME_ES,
        "description.short": _DESCRIPTION["es"][0],
        "description.full": _DESCRIPTION["es"][1],
    }
    for i, (_scope, commands) in enumerate(_LISTS):
        for j, command in enumerate(commands):
            out[f"bots[0].commandLists[{i}].commands[{j}].title"] = command
            out[f"bots[0].commandLists[{i}].commands[{j}].description"] = _COMMANDS[command][1]
    return out


def _png(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def _draw_mark(draw: ImageDraw.ImageDraw, size: int, color: str | tuple[int, ...], width: int) -> None:
    """A pulse line over a chair seat: the product's two habits in one mark."""
    s = size / 32
    pulse = [(4, 14), (10, 14), (13, 7), (17, 21), (20, 14), (28, 14)]
    draw.line([(x * s, y * s) for x, y in pulse], fill=color, width=width, joint="curve")
    draw.line([(9 * s, 25 * s), (23 * s, 25 * s)], fill=color, width=width)
    draw.line([(11 * s, 25 * s), (11 * s, 29 * s)], fill=color, width=width)
    draw.line([(21 * s, 25 * s), (21 * s, 29 * s)], fill=color, width=width)


def color_icon() -> bytes:
    """192×192, full colour."""
    image = Image.new("RGBA", (192, 192), ACCENT)
    _draw_mark(ImageDraw.Draw(image), 192, "white", 12)
    return _png(image)


def outline_icon() -> bytes:
    """32×32, white on transparent, as Teams requires for the outline icon."""
    image = Image.new("RGBA", (32, 32), (0, 0, 0, 0))
    _draw_mark(ImageDraw.Draw(image), 32, (255, 255, 255, 255), 2)
    return _png(image)


def write_package(
    out: Path,
    settings: Settings,
    *,
    website: str = "https://github.com/pulsebot/pulsebot",
    privacy: str = "https://github.com/pulsebot/pulsebot/blob/main/PRIVACY.md",
    terms: str = "https://github.com/pulsebot/pulsebot/blob/main/LICENSE",
) -> Path:
    """Write the app package zip to `out` and return its path; needs MICROSOFT_APP_ID (a GUID)."""
    bot_id = (settings.microsoft_app_id or "").strip()
    if not _GUID.match(bot_id):
        raise ConfigError(
            "MICROSOFT_APP_ID must be the bot's Microsoft app id (a GUID like "
            "00000000-0000-0000-0000-000000000000) to build the Teams app package"
        )
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("manifest.json", json.dumps(manifest(bot_id, website=website, privacy=privacy, terms=terms),
                                                indent=2, ensure_ascii=False))
        zf.writestr("es.json", json.dumps(localization_es(), indent=2, ensure_ascii=False))
        zf.writestr("color.png", color_icon())
        zf.writestr("outline.png", outline_icon())
    logger.info("teams package written", extra={"path": str(out), "bot_id": bot_id})
    return out
