"""Texts by id, in es and en: gettext catalogs (Babel), one `.po` per domain and language.

Catalogs live in `handlers/locales/<lang>/LC_MESSAGES/<domain>.po` (core, checkins, reports,
slack, teams, …); every domain of a language is merged, so `t("checkin.question", "es")` finds
an id wherever it is written. `make i18n` compiles the `.mo` files; a missing or stale `.mo` is
compiled in memory from its `.po`, so a fresh checkout never shows a bare id.
"""

from __future__ import annotations

import io
import logging
from datetime import date, datetime
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent
from babel.support import Translations

logger = logging.getLogger(__name__)

LOCALES_DIR = Path(__file__).parent / "locales"
SUPPORTED = ("en", "es")
FALLBACK = "en"


def normalize_locale(value: str | None) -> str | None:
    """Map a platform locale (`es-ES`, `es_MX`, `en-US`) to a supported language, else None."""
    if not value:
        return None
    lang = value.replace("_", "-").split("-")[0].lower()
    return lang if lang in SUPPORTED else None


def _load_domain(path: Path) -> Translations:
    mo = path.with_suffix(".mo")
    if mo.exists() and mo.stat().st_mtime >= path.stat().st_mtime:
        with mo.open("rb") as fh:
            return Translations(fh, domain=path.stem)
    with path.open("rb") as fh:
        catalog = read_po(fh)
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return Translations(buf, domain=path.stem)


@cache
def catalog(lang: str) -> Translations:
    """Every domain of one language, merged."""
    merged = Translations()
    for po in sorted((LOCALES_DIR / lang / "LC_MESSAGES").glob("*.po")):
        merged.merge(_load_domain(po))
    return merged


def t(msg_id: str, locale: str | None, /, **kwargs: Any) -> str:
    """The text of `msg_id` in `locale` (en when unknown), with `{name}` placeholders filled."""
    text = _text(msg_id, locale)
    return text.format(**kwargs) if kwargs else text


@lru_cache(maxsize=8192)
def _text(msg_id: str, locale: str | None) -> str:
    # Cached: a check-in card alone asks for some forty texts, at every tap (issue 14).
    lang = normalize_locale(locale) or FALLBACK
    text = catalog(lang).gettext(msg_id)
    if text == msg_id and lang != FALLBACK:
        text = catalog(FALLBACK).gettext(msg_id)
    if text == msg_id:
        logger.warning("missing text", extra={"msg_id": msg_id, "locale": lang})
    return text


def tn(msg_id: str, n: int, locale: str | None, /, **kwargs: Any) -> str:
    """A text with plural forms: the catalog entry has `msgid_plural` = `msg_id + ".plural"`."""
    lang = normalize_locale(locale) or FALLBACK
    text = catalog(lang).ngettext(msg_id, msg_id + ".plural", n)
    if text in (msg_id, msg_id + ".plural") and lang != FALLBACK:
        text = catalog(FALLBACK).ngettext(msg_id, msg_id + ".plural", n)
    return text.format(n=fmt_number(n, lang), **kwargs)


@lru_cache(maxsize=4096)
def fmt_number(value: float, locale: str | None, digits: int = 0) -> str:
    """A number as the language writes it (1,234.5 / 1.234,5).

    Cached: a report page writes the same counts and means many times, and Babel's formatting
    costs more than the rest of the page's rendering together.
    """
    fmt = "#,##0" + ("." + "0" * digits if digits else "")
    return format_decimal(value, format=fmt, locale=_babel_locale(locale))


@lru_cache(maxsize=4096)
def fmt_percent(value: float, locale: str | None) -> str:
    """A share (0.75) as a percentage (75 % in Spanish, 75% in English)."""
    return format_percent(value, locale=_babel_locale(locale))


def fmt_date(value: date | datetime, locale: str | None) -> str:
    """A date in the language's medium format."""
    return format_date(value, format="medium", locale=_babel_locale(locale))


@lru_cache(maxsize=64)
def _babel_locale(locale: str | None) -> Locale:
    try:
        return Locale.parse(normalize_locale(locale) or FALLBACK)
    except (UnknownLocaleError, ValueError):
        return Locale.parse(FALLBACK)
