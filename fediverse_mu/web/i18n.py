"""Languages of the HTML pages: French first, English too. Templates write English message ids
as ``{{ _("…") }}``; the catalogues in ``locales/<lang>.json`` map them to each language, and
each feature may keep its own ``locales/<feature>.<lang>.json`` (merged in name order), so that
features do not all edit one file. The language comes from ``?lang=``, the ``lang`` cookie, the
logged-in resident's setting (``users.locale``, which ``web.session`` puts in the request under
:data:`USER_LOCALE_KEY` when it looks the login up), then ``Accept-Language``."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from pathlib import Path

from aiohttp import web

LANGUAGES = ("fr", "en")
DEFAULT_LANGUAGE = "fr"
USER_LOCALE_KEY = web.RequestKey("fmu_user_locale", str)  # set by web.session
_LOCALES = Path(__file__).parent / "locales"


@cache
def catalogue(lang: str) -> dict[str, str]:
    """The message catalogue of a language (a missing entry shows the English id)."""
    data: dict[str, str] = {}
    for path in catalogue_files(lang):
        with path.open(encoding="utf-8") as handle:
            data.update(json.load(handle))
    return data


def catalogue_files(lang: str) -> list[Path]:
    """The files whose entries make up a language's catalogue, the main one first."""
    main = _LOCALES / f"{lang}.json"
    return ([main] if main.exists() else []) + sorted(_LOCALES.glob(f"*.{lang}.json"))


def _from_accept_language(header: str) -> str | None:
    best: tuple[float, str] | None = None
    for part in header.split(","):
        piece = part.strip()
        if not piece:
            continue
        tag, _, params = piece.partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        lang = tag.strip().lower().split("-")[0]
        if lang in LANGUAGES and (best is None or quality > best[0]):
            best = (quality, lang)
    return None if best is None else best[1]


def negotiate(request: web.Request) -> str:
    """The page language for a request."""
    for candidate in (request.query.get("lang"), request.cookies.get("lang"),
                      request.get(USER_LOCALE_KEY)):
        if candidate in LANGUAGES:
            return candidate
    return _from_accept_language(request.headers.get("Accept-Language", "")) or DEFAULT_LANGUAGE


def translator(lang: str) -> Callable[[str], str]:
    """A ``_()`` function for templates."""
    messages = catalogue(lang)
    return lambda message: messages.get(message, message)
