"""Attachments in ActivityPub: ours rendered as Mastodon renders them, remote ones parsed
leniently (Mastodon's, Pleroma's, PeerTube's shapes) and junk skipped, never trusted."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from fediverse_mu.activitypub.media import CONTEXT_TERMS, parse_attachment, render_attachment
from fediverse_mu.domain import Media, MediaType, RemoteMedia

BASE = "https://lieu.example"
BLURHASH = "UFBWY:8_0Jxv4mx]t8t64.%M-:IUWGWAt6M}"  # Mastodon's documentation example


def _local(**changes: Any) -> Media:
    values: dict[str, Any] = dict(
        id=1, account_id=1, status_id=5, type=MediaType.IMAGE, mime_type="image/jpeg",
        description="Un atelier", focus_x=-0.5, focus_y=0.25, created_at=datetime.now(UTC),
        file_name="A" * 32 + ".jpg", thumbnail_name="B" * 32 + ".jpg",
        thumbnail_mime_type="image/jpeg", width=1200, height=800, thumbnail_width=640,
        thumbnail_height=427, size=12345, blurhash=BLURHASH)
    values.update(changes)
    return Media(**values)


def test_render_like_mastodon() -> None:
    doc = render_attachment(_local(), BASE)
    assert doc == {
        "type": "Document", "mediaType": "image/jpeg",
        "url": f"{BASE}/media/{'A' * 32}.jpg", "name": "Un atelier", "blurhash": BLURHASH,
        "focalPoint": [-0.5, 0.25], "width": 1200, "height": 800,
    }
    bare = render_attachment(_local(description="", width=None, height=None, blurhash=None),
                             BASE)
    assert bare["name"] is None and "width" not in bare and bare["blurhash"] is None
    assert CONTEXT_TERMS["focalPoint"] == {"@container": "@list", "@id": "toot:focalPoint"}


def test_render_then_parse_round_trips() -> None:
    parsed = parse_attachment(render_attachment(_local(), BASE))
    assert parsed == RemoteMedia(url=f"{BASE}/media/{'A' * 32}.jpg", mime_type="image/jpeg",
                                 type=MediaType.IMAGE, description="Un atelier",
                                 blurhash=BLURHASH, width=1200, height=800, focus_x=-0.5,
                                 focus_y=0.25)


@pytest.mark.parametrize(("raw", "expected"), [
    # Pleroma/Akkoma: an Image with a Link url inside, mediaType on the Link only.
    ({"type": "Image", "url": [{"type": "Link", "href": "https://p.example/m/1.png",
                                "mediaType": "image/png"}], "name": "chat"},
     RemoteMedia(url="https://p.example/m/1.png", mime_type="image/png",
                 type=MediaType.IMAGE, description="chat")),
    # PeerTube-like: an HTML link first, then the video file.
    ({"type": "Video", "mediaType": None, "url": [
        {"type": "Link", "mediaType": "text/html", "href": "https://t.example/w/1.mp4"},
        {"type": "Link", "mediaType": "video/mp4", "href": "https://t.example/v/1.mp4"}]},
     RemoteMedia(url="https://t.example/v/1.mp4", mime_type="video/mp4",
                 type=MediaType.VIDEO)),
    # No mediaType at all: the extension decides; summary is preferred over name (Mastodon).
    ({"type": "Document", "url": "http://x.example/a/b.WEBP?x=1", "summary": "  résumé ",
      "name": "nom"},
     RemoteMedia(url="http://x.example/a/b.WEBP?x=1", mime_type="image/webp",
                 type=MediaType.IMAGE, description="résumé")),
    ({"type": "Document", "mediaType": "audio/ogg; codecs=opus",
      "url": "https://x.example/s.ogg"},
     RemoteMedia(url="https://x.example/s.ogg", mime_type="audio/ogg", type=MediaType.AUDIO)),
])
def test_parse_known_shapes(raw: dict[str, Any], expected: RemoteMedia) -> None:
    assert parse_attachment(raw) == expected


@pytest.mark.parametrize("raw", [
    None, "https://x.example/a.png", [], 42,
    {"type": "PropertyValue", "name": "site", "value": "https://x.example"},
    {"type": "Document", "mediaType": "image/png"},  # no url
    {"type": "Document", "mediaType": "image/png", "url": "javascript:alert(1)"},
    {"type": "Document", "mediaType": "image/png", "url": "data:image/png;base64,AAAA"},
    {"type": "Document", "mediaType": "image/png", "url": "file:///etc/passwd"},
    {"type": "Document", "mediaType": "image/png", "url": "https://"},
    {"type": "Document", "mediaType": "image/png", "url": "https://x.example/a b.png"},
    {"type": "Document", "mediaType": "image/png", "url": "https://x.example/\x00.png"},
    {"type": "Document", "mediaType": "image/png", "url": "https://[::1/a.png"},
    {"type": "Document", "mediaType": "image/png", "url": "https://x.example/" + "a" * 3000},
    {"type": "Document", "mediaType": "text/html", "url": "https://x.example/a.png"},
    {"type": "Document", "mediaType": "image/svg+xml", "url": "https://x.example/a.svg"},
    {"type": "Document", "mediaType": 7, "url": "https://x.example/a.png"},
    {"type": "Document", "url": "https://x.example/page"},  # no type, no hint
    {"type": "Document", "mediaType": "image/png",
     "url": {"type": "Note", "href": "https://x.example/a.png"}},
    {"type": "Document", "url": [{"type": ["Link"], "href": "https://x.example/a.png"}]},
    {"type": ["Document"], "mediaType": "image/png", "url": "https://x.example/a.png"},
])
def test_parse_skips_junk(raw: Any) -> None:
    assert parse_attachment(raw) is None


def test_parse_bounds_and_drops_bad_extras() -> None:
    raw = {"type": "Document", "mediaType": "image/jpeg", "url": "https://x.example/a.jpg",
           "name": "x\x07" + "é" * 5000, "blurhash": "not a blurhash!", "width": True,
           "height": -4, "focalPoint": [2, 0]}
    parsed = parse_attachment(raw)
    assert parsed is not None
    assert len(parsed.description) == 1500 and "\x07" not in parsed.description
    assert parsed.blurhash is None and parsed.width is None and parsed.height is None
    assert (parsed.focus_x, parsed.focus_y) == (0.0, 0.0)
    for bad in ("LEHV6n", BLURHASH + "00", "~" + BLURHASH[1:], "0" * 101):
        parsed = parse_attachment({**raw, "blurhash": bad})
        assert parsed is not None and parsed.blurhash is None
    for bad_focus in ([0.5], ["0.5", "0.5"], [float("nan"), 0], [True, 0], "0.5,0.5"):
        parsed = parse_attachment({**raw, "focalPoint": bad_focus})
        assert parsed is not None and (parsed.focus_x, parsed.focus_y) == (0.0, 0.0)
    parsed = parse_attachment({**raw, "width": 10**9, "height": 600, "focalPoint": [1, -1]})
    assert parsed is not None and parsed.width is None and parsed.height == 600
    assert (parsed.focus_x, parsed.focus_y) == (1.0, -1.0)
