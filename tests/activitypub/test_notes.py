"""Parsing remote posts: what is kept, what is sanitised, and what is refused."""

from __future__ import annotations

from typing import Any

import pytest

from fediverse_mu.activitypub.html import sanitize
from fediverse_mu.activitypub.notes import parse_note, visibility_of
from fediverse_mu.activitypub.validate import PUBLIC, InvalidActivity
from fediverse_mu.domain.statuses import Visibility

ACTOR = "https://b.example/users/bob"


def _note(**changes: Any) -> dict[str, Any]:
    note: dict[str, Any] = {
        "id": "https://b.example/users/bob/statuses/1", "type": "Note", "attributedTo": ACTOR,
        "content": "<p>Salut <script>alert(1)</script><a href=\"javascript:x\">lien</a></p>",
        "published": "2026-11-21T10:00:00Z", "to": [PUBLIC], "cc": [f"{ACTOR}/followers"],
        "tag": [{"type": "Mention", "href": "https://a.example/users/alice"},
                {"type": "Hashtag", "name": "#Fierté"}, {"type": "Hashtag", "name": "#a b"}],
    }
    note.update(changes)
    return note


def test_a_note_is_parsed_and_sanitised() -> None:
    parsed = parse_note(_note(summary="<b>cw</b>"))
    assert "<script>" not in parsed.content and "javascript:" not in parsed.content
    assert parsed.spoiler_text == "cw" and parsed.sensitive
    assert parsed.mention_uris == ("https://a.example/users/alice",)
    assert parsed.tags == ("Fierté",)  # the malformed tag is ignored
    assert parsed.visibility is Visibility.PUBLIC


@pytest.mark.parametrize("changes", [
    {"id": "ftp://b.example/1"},
    {"type": "Person"},
    {"attributedTo": None},
    {"attributedTo": "https://evil.example/users/mallory"},  # author on another host
    {"published": "yesterday"},
])
def test_bad_notes_are_refused(changes: dict[str, Any]) -> None:
    with pytest.raises(InvalidActivity):
        parse_note(_note(**changes))


def test_visibility_follows_the_addressing() -> None:
    followers = f"{ACTOR}/followers"
    mention = "https://a.example/users/alice"
    assert visibility_of([PUBLIC], [], followers, []) is Visibility.PUBLIC
    assert visibility_of([followers], [PUBLIC], followers, []) is Visibility.UNLISTED
    assert visibility_of([followers], [], followers, []) is Visibility.PRIVATE
    assert visibility_of([mention], [], followers, [mention]) is Visibility.DIRECT


def test_sanitize_keeps_only_the_allowlist() -> None:
    cleaned = sanitize('<p onclick="x"><span class="h-card evil">a</span><img src=x><br>b</p>')
    assert cleaned == '<p><span class="h-card">a</span><br>b</p>'
