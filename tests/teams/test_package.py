"""The Teams app package: a manifest valid against the official v1.24 schema, and its icons."""

import io
import json
import zipfile
from pathlib import Path

import pytest
from jsonschema import Draft4Validator
from PIL import Image

from bot.teams.package import write_package
from handlers.config import Settings
from handlers.errors import ConfigError

SCHEMA = json.loads((Path(__file__).parents[1] / "data" / "teams-manifest-v1.24.schema.json").read_text())
APP_ID = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"


def test_package_manifest_validates_and_names_its_icons(tmp_path):
    path = write_package(tmp_path / "pulsebot-teams.zip", Settings(microsoft_app_id=APP_ID))
    with zipfile.ZipFile(path) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        # Python's re lacks \p{L}: validate without check_schema, as the schema's README says.
        errors = [f"{list(e.path)}: {e.message}" for e in Draft4Validator(SCHEMA).iter_errors(manifest)]
        assert errors == []
        assert manifest["manifestVersion"] == "1.24"
        assert manifest["bots"][0]["botId"] == APP_ID
        scopes = {tuple(cl["scopes"]): [c["title"] for c in cl["commands"]]
                  for cl in manifest["bots"][0]["commandLists"]}
        assert scopes[("personal",)] == ["empty-chair", "team-pulse", "pulse"]
        assert "empty-chair" in scopes[("team",)] and "empty-chair" in scopes[("groupChat",)]
        rsc = {p["name"] for p in manifest["authorization"]["permissions"]["resourceSpecific"]}
        assert {"OnlineMeeting.ReadBasic.Chat", "ChannelMeeting.ReadBasic.Group"} <= rsc
        color = Image.open(io.BytesIO(zf.read(manifest["icons"]["color"])))
        outline = Image.open(io.BytesIO(zf.read(manifest["icons"]["outline"])))
        assert color.size == (192, 192) and outline.size == (32, 32)
        assert outline.mode == "RGBA" and outline.getpixel((0, 0))[3] == 0  # transparent background
        spanish = json.loads(zf.read(manifest["localizationInfo"]["additionalLanguages"][0]["file"]))
        assert "reunión" in spanish["description.short"]


@pytest.mark.parametrize("app_id", [None, "", "not-a-guid"])
def test_package_without_a_bot_id_is_refused_and_writes_nothing(tmp_path, app_id):
    with pytest.raises(ConfigError, match="MICROSOFT_APP_ID"):
        write_package(tmp_path / "x.zip", Settings(microsoft_app_id=app_id))
    assert not (tmp_path / "x.zip").exists()
