"""HTML that crosses the border: remote post content is sanitised with an allowlist (nh3, the
Python binding of Rust's ammonia) before it is stored, following the elements, attributes and
link schemes Mastodon keeps (app/lib/sanitize_config.rb); and HTML is turned back into plain
text for search and summaries."""

from __future__ import annotations

import html
import re

import nh3

_TAGS = {"p", "br", "span", "a", "del", "s", "pre", "blockquote", "code", "b", "strong", "u",
         "i", "em", "ul", "ol", "li"}
_ATTRIBUTES = {"a": {"href", "class", "translate"}, "span": {"class", "translate"},
               "ol": {"start", "reversed"}, "li": {"value"}}
_SCHEMES = {"http", "https", "dat", "dweb", "ipfs", "ipns", "ssb", "gopher", "xmpp", "magnet",
            "gemini"}
# Only microformats and Mastodon's own presentational classes survive (as on Mastodon).
_CLASS_OK = re.compile(r"^(?:h|p|u|dt|e)-[a-z0-9-]+$|^(?:mention|hashtag|ellipsis|invisible)$")
_MAX_CONTENT = 100_000  # characters of remote HTML kept; longer content is cut before parsing


def _filter_attribute(element: str, attribute: str, value: str) -> str | None:
    if attribute == "class":
        kept = [c for c in value.split() if _CLASS_OK.match(c)]
        return " ".join(kept) or None
    if attribute == "translate":
        return value if value == "no" else None
    return value


def sanitize(content: str) -> str:
    """Remote HTML reduced to the allowlist; links get ``rel="nofollow noopener noreferrer"``."""
    return nh3.clean(content[:_MAX_CONTENT], tags=_TAGS, attributes=_ATTRIBUTES,
                     url_schemes=_SCHEMES, link_rel="nofollow noopener noreferrer",
                     attribute_filter=_filter_attribute, strip_comments=True)


_LINE_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)
_PARAGRAPH_BREAK = re.compile(r"</p>\s*<p[^>]*>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]*>")


def to_plain_text(content: str) -> str:
    """The text of (sanitised) HTML: paragraphs and line breaks become newlines."""
    text = _LINE_BREAK.sub("\n", _PARAGRAPH_BREAK.sub("\n\n", content))
    return html.unescape(_TAG.sub("", text)).strip()
