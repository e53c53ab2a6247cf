"""Polls: a status's question with two to four options (local), or a remote ``Question``'s
options and counts; its limits (Mastodon's, announced in the Instance entity) and what one
reader sees of it (their own choices)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

MAX_OPTIONS: Final = 4
MAX_OPTION_CHARS: Final = 50
MIN_EXPIRATION: Final = 300  # seconds
MAX_EXPIRATION: Final = 2_629_746  # a month
MAX_REMOTE_OPTIONS: Final = 20  # options read from a remote Question; more is refused
MAX_REMOTE_OPTION_CHARS: Final = 200


@dataclass(frozen=True, slots=True)
class NewPoll:
    """A poll typed by a resident, checked."""

    options: tuple[str, ...]
    expires_in: int  # seconds
    multiple: bool = False
    hide_totals: bool = False


@dataclass(frozen=True, slots=True)
class IncomingPoll:
    """The poll of a remote ``Question``, parsed and checked."""

    options: tuple[str, ...]
    votes: tuple[int, ...]
    multiple: bool
    expires_at: datetime | None
    voters_count: int | None
    closed: bool


@dataclass(frozen=True, slots=True)
class Poll:
    """A status's poll as one reader sees it (``voted`` None: an anonymous reader)."""

    status_id: int
    options: tuple[str, ...]
    votes: tuple[int, ...]
    multiple: bool
    hide_totals: bool
    expires_at: datetime | None
    voters_count: int | None
    closed: bool
    voted: bool | None = None
    own_votes: tuple[int, ...] = ()

    @property
    def votes_count(self) -> int:
        """Votes over all options (a voter of a multiple-choice poll counts once each)."""
        return sum(self.votes)

    def expired(self, now: datetime) -> bool:
        """True once the poll has ended (its end passed, or its origin closed it)."""
        return self.closed or (self.expires_at is not None and self.expires_at <= now)
