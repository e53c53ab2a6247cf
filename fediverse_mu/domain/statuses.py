"""Statuses (posts, replies, boosts), their visibility, edits, and what a reader sees of one:
the status with its author, mentions, tags and the reader's own interactions. Also the
time-ordered ids that Mastodon clients sort and paginate by."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from fediverse_mu.domain.accounts import Account
from fediverse_mu.domain.media import Media, RemoteMedia
from fediverse_mu.domain.places import Ressenti
from fediverse_mu.domain.polls import IncomingPoll, Poll


class Visibility(StrEnum):
    """Who may see a status (Mastodon's four levels)."""

    PUBLIC = "public"  # everyone, listed in public timelines
    UNLISTED = "unlisted"  # everyone, but not in public timelines
    PRIVATE = "private"  # followers (and mentioned accounts)
    DIRECT = "direct"  # mentioned accounts only


def status_id_for(moment: datetime, entropy: int) -> int:
    """A time-ordered id, like Mastodon's snowflakes: milliseconds since the epoch shifted left
    16 bits, plus 16 bits of entropy so ids minted in the same millisecond differ."""
    return (int(moment.timestamp() * 1000) << 16) | (entropy & 0xFFFF)


def min_id_for(moment: datetime) -> int:
    """The smallest id a status created at ``moment`` can have (for time-based paging)."""
    return status_id_for(moment, 0)


@dataclass(frozen=True, slots=True)
class Status:
    """One status as stored."""

    id: int
    uri: str
    url: str | None
    account_id: int
    local: bool
    content: str  # sanitised HTML
    source_text: str | None  # what a local author typed
    spoiler_text: str
    sensitive: bool
    visibility: Visibility
    language: str | None
    created_at: datetime
    in_reply_to_id: int | None = None
    in_reply_to_uri: str | None = None
    in_reply_to_account_id: int | None = None
    reblog_of_id: int | None = None
    conversation_uri: str | None = None
    edited_at: datetime | None = None
    deleted_at: datetime | None = None
    replies_count: int = 0
    reblogs_count: int = 0
    favourites_count: int = 0
    local_only: bool = False
    pinned: bool = False

    @property
    def is_reblog(self) -> bool:
        """True for a boost (its content is the boosted status)."""
        return self.reblog_of_id is not None


@dataclass(frozen=True, slots=True)
class StatusEdit:
    """A previous (or the current) version of an edited status."""

    status_id: int
    content: str
    spoiler_text: str
    sensitive: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class IncomingNote:
    """A remote Note, parsed and sanitised, ready to be stored."""

    uri: str
    url: str | None
    actor_uri: str
    content: str
    spoiler_text: str
    sensitive: bool
    visibility: Visibility
    language: str | None
    published: datetime
    updated: datetime | None
    in_reply_to_uri: str | None
    conversation_uri: str | None
    mention_uris: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    attachments: tuple[RemoteMedia, ...] = ()
    recipients: tuple[str, ...] = ()  # every to/cc IRI
    poll: IncomingPoll | None = None  # a Question's options and counts
    ressenti: Ressenti | None = None  # feeling and location (fediverse-mu extension)


@dataclass(frozen=True, slots=True)
class StatusView:
    """A status as one reader sees it: everything a client entity or a page needs."""

    status: Status
    account: Account
    mentions: tuple[Account, ...] = ()
    tags: tuple[str, ...] = ()
    media: tuple[Media, ...] = ()
    reblog: StatusView | None = None
    in_reply_to_account: Account | None = None
    favourited: bool = False
    reblogged: bool = False
    bookmarked: bool = False
    poll: Poll | None = None
    ressenti: Ressenti | None = None  # its feeling and coarse location, if it carries one
