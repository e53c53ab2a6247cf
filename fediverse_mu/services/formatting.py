"""What a resident types becomes HTML the way Mastodon renders it: paragraphs and line breaks,
links, ``@user`` / ``@user@domain`` mentions (domains may carry a port, as in dev setups) and
``#hashtags`` (letters with accents included). Pure functions: the caller resolves mentions."""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass

# A mention starts after a non-word character; the domain part may carry a port.
MENTION_RE = re.compile(
    r"(?<![\w/@.])@([A-Za-z0-9_]+(?:[.-][A-Za-z0-9_]+)*)"
    r"(?:@([A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::\d{1,5})?))?")
HASHTAG_RE = re.compile(r"(?<![\w/#&])#(\w*[^\W\d_]\w*)")
URL_RE = re.compile(r"\bhttps?://[^\s<>\"]+[^\s<>\".,;:!?)\]'»]", re.IGNORECASE)
_TOKEN = re.compile(f"{URL_RE.pattern}|{MENTION_RE.pattern}|{HASHTAG_RE.pattern}",
                    re.IGNORECASE)
MAX_TAG_LENGTH = 100


@dataclass(frozen=True, slots=True)
class MentionTarget:
    """A resolved mention: how to link it."""

    acct: str  # username, or username@domain for remote accounts
    url: str  # the account's profile page


def normalize_tag(name: str) -> str:
    """The key a hashtag is stored and matched by: NFC, case-folded."""
    return unicodedata.normalize("NFC", name).casefold()


def extract_mentions(text: str) -> list[str]:
    """Handles mentioned in ``text``: ``user`` or ``user@domain``, in order, without repeats."""
    found: dict[str, None] = {}
    for match in _TOKEN.finditer(text):
        username, domain = match.group(1), match.group(2)
        if username is not None:
            found[f"{username}@{domain}" if domain else username] = None
    return list(found)


def extract_tags(text: str) -> list[str]:
    """Hashtags in ``text``, normalised, in order, without repeats."""
    found: dict[str, None] = {}
    for match in _TOKEN.finditer(text):
        tag = match.group(3)
        if tag is not None and len(tag) <= MAX_TAG_LENGTH:
            found[normalize_tag(tag)] = None
    return list(found)


def _link(url: str) -> str:
    shown = html.escape(url)
    return (f'<a href="{html.escape(url, quote=True)}" target="_blank" '
            f'rel="nofollow noopener noreferrer" translate="no">{shown}</a>')


def _inline(text: str, mentions: Mapping[str, MentionTarget],
            tag_url: Callable[[str], str]) -> str:
    out: list[str] = []
    position = 0
    for match in _TOKEN.finditer(text):
        out.append(html.escape(text[position:match.start()]))
        position = match.end()
        raw = match.group(0)
        username, domain, tag = match.group(1), match.group(2), match.group(3)
        if username is not None:
            handle = f"{username}@{domain}" if domain else username
            target = mentions.get(handle.lower())
            if target is None:
                out.append(html.escape(raw))
            else:
                out.append(f'<span class="h-card" translate="no"><a href="'
                           f'{html.escape(target.url, quote=True)}" class="u-url mention">'
                           f'@<span>{html.escape(username)}</span></a></span>')
        elif tag is not None:
            out.append(f'<a href="{html.escape(tag_url(normalize_tag(tag)), quote=True)}" '
                       f'class="mention hashtag" rel="tag">#<span>{html.escape(tag)}</span></a>')
        else:
            out.append(_link(raw))
    out.append(html.escape(text[position:]))
    return "".join(out)


def render_text(text: str, mentions: Mapping[str, MentionTarget],
                tag_url: Callable[[str], str]) -> str:
    """Plain text → HTML: ``<p>`` per blank-line-separated paragraph, ``<br />`` per newline.
    ``mentions`` maps lower-cased handles to their targets; unknown handles stay text."""
    paragraphs = [p for p in re.split(r"\n\s*\n", text.replace("\r\n", "\n").strip()) if p]
    return "".join(
        "<p>" + "<br />".join(_inline(line, mentions, tag_url) for line in p.split("\n"))
        + "</p>" for p in paragraphs)
