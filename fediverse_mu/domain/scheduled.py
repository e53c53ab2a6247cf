"""Scheduled statuses: what a resident asked to post later (the parameters as typed, checked
when scheduled and again when published) and when."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from fediverse_mu.domain.polls import NewPoll

MIN_AHEAD: Final = timedelta(minutes=5)  # as Mastodon: sooner is refused
MAX_SCHEDULED: Final = 300  # pending per account
MAX_PER_DAY: Final = 25  # pending per account and day


@dataclass(frozen=True, slots=True)
class ScheduledParams:
    """The parameters of the status to publish."""

    text: str
    visibility: str
    spoiler_text: str = ""
    sensitive: bool = False
    in_reply_to_id: int | None = None
    language: str | None = None
    media_ids: tuple[int, ...] = ()
    local_only: bool = False
    poll: NewPoll | None = None
    idempotency: str | None = None


@dataclass(frozen=True, slots=True)
class ScheduledStatus:
    """A status waiting for its time."""

    id: int
    account_id: int
    scheduled_at: datetime
    params: ScheduledParams
    created_at: datetime
