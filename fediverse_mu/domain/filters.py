"""Filters: a resident's rules for statuses they do not want to see
(https://docs.joinmastodon.org/api/guidelines/#filters). A filter has a title, the contexts it
applies to, an action (``warn``: shown behind a warning; ``hide``: left out), an optional
expiry, keywords and individual statuses. Matching is pure: a keyword matches the plain text
of a status (spoiler text and content) case-insensitively, and a ``whole_word`` keyword only
at word boundaries, as Mastodon's ``CustomFilterKeyword#to_regex`` does."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

MAX_TITLE = 256
MAX_KEYWORD = 512
MAX_KEYWORDS = 100  # per filter
MAX_FILTERS = 300  # per account
MAX_EXPIRES_IN = 10 * 365 * 24 * 3600  # seconds


class FilterContext(StrEnum):
    """Where a filter applies."""

    HOME = "home"  # the home timeline and lists
    NOTIFICATIONS = "notifications"
    PUBLIC = "public"  # public and hashtag timelines
    THREAD = "thread"  # a status's conversation
    ACCOUNT = "account"  # an account's statuses


class FilterAction(StrEnum):
    """What happens to a matching status."""

    WARN = "warn"
    HIDE = "hide"


@dataclass(frozen=True, slots=True)
class FilterKeyword:
    """A keyword or phrase of a filter."""

    id: int
    filter_id: int
    keyword: str
    whole_word: bool


@dataclass(frozen=True, slots=True)
class FilterStatus:
    """One status a filter matches (and boosts of it)."""

    id: int
    filter_id: int
    status_id: int


@dataclass(frozen=True, slots=True)
class Filter:
    """A filter with its keywords and statuses."""

    id: int
    account_id: int
    title: str
    context: tuple[FilterContext, ...]
    action: FilterAction
    expires_at: datetime | None
    keywords: tuple[FilterKeyword, ...] = ()
    statuses: tuple[FilterStatus, ...] = ()

    def active(self, now: datetime) -> bool:
        """False once the filter has expired."""
        return self.expires_at is None or self.expires_at > now


@dataclass(frozen=True, slots=True)
class FilterMatch:
    """A filter that matched a status: which keywords and which filtered status ids."""

    filter: Filter
    keyword_matches: tuple[str, ...] = ()
    status_matches: tuple[int, ...] = ()


def keyword_pattern(keyword: FilterKeyword) -> re.Pattern[str]:
    """The regular expression of a keyword: ``\\b`` is added on each side that starts or ends
    with a word character, so ``whole_word`` works for phrases like ``#tag`` or ``c++``."""
    escaped = re.escape(keyword.keyword)
    if keyword.whole_word:
        if re.match(r"\w", keyword.keyword):
            escaped = r"\b" + escaped
        if re.search(r"\w$", keyword.keyword):
            escaped += r"\b"
    return re.compile(escaped, re.IGNORECASE)


def match_status(filters: Iterable[Filter], text: str, status_ids: Sequence[int],
                 now: datetime) -> list[FilterMatch]:
    """The active filters matching a status whose plain text is ``text`` and whose ids (its
    own and, for a boost, the boosted status's) are ``status_ids``."""
    found: list[FilterMatch] = []
    for item in filters:
        if not item.active(now):
            continue
        keywords = tuple(k.keyword for k in item.keywords if keyword_pattern(k).search(text))
        statuses = tuple(s.status_id for s in item.statuses if s.status_id in status_ids)
        if keywords or statuses:
            found.append(FilterMatch(item, keywords, statuses))
    return found
