"""Attachments of posts in ActivityPub: rendering ours as Mastodon does (a ``Document`` with
``mediaType``, ``url``, ``name`` as alt text, ``blurhash``, ``focalPoint``, ``width`` and
``height``; https://docs.joinmastodon.org/spec/activitypub/#as), and parsing remote ones
leniently but safely: anything unusable is skipped (None), never trusted, never fatal to the
post that carries it."""

from __future__ import annotations

import math
import re
from typing import Any, Final
from urllib.parse import urlsplit

from fediverse_mu.domain.media import DESCRIPTION_LIMIT, Media, MediaType, RemoteMedia

__all__ = ["CONTEXT_TERMS", "MIME_TYPES", "RemoteMedia", "parse_attachment",
           "render_attachment"]

RawObject = dict[str, Any]

# JSON-LD terms our attachments use beyond ActivityStreams (Mastodon's own definitions); a
# document embedding attachments adds them to its @context.
CONTEXT_TERMS: Final = {
    "toot": "http://joinmastodon.org/ns#",
    "blurhash": "toot:blurhash",
    "focalPoint": {"@container": "@list", "@id": "toot:focalPoint"},
}

ATTACHMENT_TYPES: Final = frozenset({"Document", "Image", "Video", "Audio"})
MIME_TYPES: Final = {
    "image/jpeg": MediaType.IMAGE, "image/png": MediaType.IMAGE, "image/gif": MediaType.IMAGE,
    "image/webp": MediaType.IMAGE, "image/avif": MediaType.IMAGE,
    "video/mp4": MediaType.VIDEO, "video/webm": MediaType.VIDEO,
    "video/quicktime": MediaType.VIDEO, "video/ogg": MediaType.VIDEO,
    "audio/mpeg": MediaType.AUDIO, "audio/ogg": MediaType.AUDIO, "audio/wav": MediaType.AUDIO,
    "audio/flac": MediaType.AUDIO, "audio/mp4": MediaType.AUDIO, "audio/aac": MediaType.AUDIO,
    "audio/webm": MediaType.AUDIO,
}
# Some servers leave out mediaType: the URL's extension is the only other hint.
_EXTENSIONS: Final = {
    "jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png", "gif": "image/gif",
    "webp": "image/webp", "avif": "image/avif", "mp4": "video/mp4", "webm": "video/webm",
    "mov": "video/quicktime", "mp3": "audio/mpeg", "ogg": "audio/ogg", "oga": "audio/ogg",
    "wav": "audio/wav", "flac": "audio/flac", "m4a": "audio/mp4",
}
MAX_URL_CHARS: Final = 2048
MAX_DIMENSION: Final = 100_000
_BLURHASH_CHARS: Final = re.compile(r"^[0-9A-Za-z#$%*+,\-.:;=?@\[\]^_{|}~]{6,}$")
_BASE83: Final = ("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                  "#$%*+,-.:;=?@[]^_{|}~")
_CONTROL: Final = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def render_attachment(media: Media, base_url: str) -> RawObject:
    """The AS2 attachment of one of a post's media, as Mastodon renders it."""
    doc: RawObject = {
        "type": "Document",
        "mediaType": media.mime_type,
        "url": media.url(base_url),
        "name": media.description or None,
        "blurhash": media.blurhash,
    }
    if media.type in (MediaType.IMAGE, MediaType.GIFV, MediaType.VIDEO):
        doc["focalPoint"] = [media.focus_x, media.focus_y]
    if media.width and media.height:
        doc["width"] = media.width
        doc["height"] = media.height
    return doc


def _http_url(value: Any) -> str | None:
    if not isinstance(value, str) or not 0 < len(value) <= MAX_URL_CHARS:
        return None
    if any(c.isspace() for c in value) or _CONTROL.search(value):
        return None
    try:
        parts = urlsplit(value)
        hostname = parts.hostname
    except ValueError:
        return None
    if parts.scheme.lower() not in ("https", "http") or not hostname:
        return None
    return value


def _mime(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    main = value.split(";", 1)[0].strip().lower()
    return main if main in MIME_TYPES else None


def _links(value: Any) -> list[tuple[str, str | None]]:
    """``url`` as (href, mediaType) pairs: an IRI, a Link object, or a list of them."""
    items = value if isinstance(value, list) else [value]
    found = []
    for item in items[:10]:
        if isinstance(item, str):
            href, mime = _http_url(item), None
        elif isinstance(item, dict) and item.get("type", "Link") == "Link":
            href, mime = _http_url(item.get("href")), _mime(item.get("mediaType"))
            if mime is None and item.get("mediaType") is not None:
                continue  # e.g. PeerTube's text/html link beside the video files
        else:
            continue
        if href is not None:
            found.append((href, mime))
    return found


def _guess_mime(url: str) -> str | None:
    path = urlsplit(url).path
    _, dot, extension = path.rpartition(".")
    return _EXTENSIONS.get(extension.lower()) if dot else None


def _text(raw: RawObject) -> str:
    for key in ("summary", "name"):  # Mastodon prefers summary, then name
        value = raw.get(key)
        if isinstance(value, str) and value.strip():
            return _CONTROL.sub("", value.strip())[:DESCRIPTION_LIMIT]
    return ""


def _blurhash(value: Any) -> str | None:
    if not isinstance(value, str) or len(value) > 100 or not _BLURHASH_CHARS.match(value):
        return None
    size = _BASE83.index(value[0])
    x_components, y_components = size % 9 + 1, size // 9 + 1
    # Mastodon keeps at most 5×5 components (client decoders slow down beyond).
    if x_components > 5 or y_components > 5 or \
            len(value) != 4 + 2 * x_components * y_components:
        return None
    return value


def _dimension(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if 0 < value <= MAX_DIMENSION else None


def _focus(value: Any) -> tuple[float, float]:
    if not isinstance(value, list) or len(value) != 2:
        return 0.0, 0.0
    x, y = value
    if not all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
               and -1.0 <= v <= 1.0 for v in (x, y)):
        return 0.0, 0.0
    return float(x), float(y)


def parse_attachment(raw: Any) -> RemoteMedia | None:
    """A remote attachment, or None when it is not a usable medium (an unknown type, no
    http(s) URL, a media type we do not show, or junk)."""
    if not isinstance(raw, dict):
        return None
    kind = raw.get("type")
    if not isinstance(kind, str) or kind not in ATTACHMENT_TYPES:
        return None
    declared = _mime(raw.get("mediaType"))
    if declared is None and raw.get("mediaType") is not None:
        return None  # a type we do not show (a PDF, a page…) whatever the URL looks like
    for url, link_mime in _links(raw.get("url")):
        mime_type = declared or link_mime or _guess_mime(url)
        if mime_type is None:
            continue
        x, y = _focus(raw.get("focalPoint"))
        return RemoteMedia(url=url, mime_type=mime_type, type=MIME_TYPES[mime_type],
                           description=_text(raw), blurhash=_blurhash(raw.get("blurhash")),
                           width=_dimension(raw.get("width")),
                           height=_dimension(raw.get("height")), focus_x=x, focus_y=y)
    return None
