"""Config errors name file, key and allowed values; every text exists in es and en."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from handlers.config import Settings, load_config
from handlers.errors import ConfigError
from handlers.i18n import LOCALES_DIR, fmt_percent, t

ROOT = Path(__file__).resolve().parents[2]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "pulse.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ("[pulse]\nmin_group_size = 2\n", "pulse.min_group_size = 2: must be at least 3"),
        ('[[teams]]\nname = "a"\ncheckin = { weekday = "sun" }\n',
         "teams[0].checkin.weekday = 'sun': allowed values are 'mon', 'tue', 'wed', 'thu' or 'fri'"),
        ('[pulse]\ndefault_locale = "fr"\n', "pulse.default_locale = 'fr': allowed values are 'es' or 'en'"),
        ('[pulse]\ncolour = "red"\n', "unknown key 'pulse.colour'"),
        ('[pulse]\ntimezone = "Mars/Olympus"\n', "pulse.timezone = 'Mars/Olympus'"),
        ('[[teams]]\nname = "a"\ncheckin = { time = "25:00" }\n', "teams[0].checkin.time = '25:00'"),
        ('[[meetings]]\nschedule = "tue 09:30"\n', "needs slack_channel or teams_conversation"),
        ("[pulse\n", "not valid TOML"),
    ],
)
def test_config_error_names_file_key_and_allowed_values(tmp_path, toml, expected):
    path = write(tmp_path, toml)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(path) in str(err.value) and expected in str(err.value)


def test_example_config_in_repository_is_valid():
    config = load_config(ROOT / "pulsebot.toml", must_exist=True)
    assert {t.name for t in config.teams} == {"soporte", "producto"}
    assert config.pulse.min_group_size >= 3


def test_missing_explicit_config_file_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="no such config file"):
        load_config(tmp_path / "nope.toml", must_exist=True)


@pytest.mark.parametrize("secret", [None, "", "changethis", "short", "a" * 16, "a" * 64, "ab" * 32,
                                    "pulsebot-demo-secret-not-for-production", "0123456789abcdef0123456789abcde"])
def test_placeholder_or_missing_secret_is_refused(secret):
    settings = Settings(pulsebot_secret=secret)
    with pytest.raises(ConfigError, match="PULSEBOT_SECRET") as refused:
        settings.secret()
    assert "secrets.token_hex(32)" in str(refused.value)  # and says how to make a good one


def test_a_random_secret_of_32_characters_is_accepted():
    assert Settings(pulsebot_secret="k3J9x_qPz7Lw2Vb8Nc4Rt6Ym1Ha5Ds0F").secret() == b"k3J9x_qPz7Lw2Vb8Nc4Rt6Ym1Ha5Ds0F"


def test_demo_may_run_without_a_secret_but_never_with_a_placeholder():
    assert Settings(pulsebot_secret=None).secret(allow_demo=True)
    with pytest.raises(ConfigError):
        Settings(pulsebot_secret="changethis").secret(allow_demo=True)


def _catalog(lang: str, domain: str) -> dict[str, str]:
    with (LOCALES_DIR / lang / "LC_MESSAGES" / f"{domain}.po").open("rb") as fh:
        return {m.id if isinstance(m.id, str) else m.id[0]: m.string for m in read_po(fh) if m.id}


DOMAINS = sorted(p.stem for p in (LOCALES_DIR / "en" / "LC_MESSAGES").glob("*.po"))


@pytest.mark.parametrize("domain", DOMAINS)
def test_every_text_exists_in_spanish_and_english_with_the_same_placeholders(domain):
    en, es = _catalog("en", domain), _catalog("es", domain)
    assert en.keys() == es.keys()
    for msg_id in en:
        def holes(s):
            text = s if isinstance(s, str) else " ".join(s)
            return set(re.findall(r"\{(\w+)\}", text))

        assert en[msg_id] and es[msg_id], msg_id
        assert holes(en[msg_id]) == holes(es[msg_id]), msg_id


def test_texts_render_in_the_asked_language_and_fall_back_to_english():
    assert t("checkin.question", "es-ES") == "¿Cómo te sientes en el trabajo esta semana?"
    assert t("checkin.question", "fr") == "How do you feel about work this week?"
    assert fmt_percent(0.5, "es") == "50\u00a0%" and fmt_percent(0.5, "en") == "50%"
