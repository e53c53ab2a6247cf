"""Durable background jobs: their state and the two ways a job handler can fail."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class JobState(StrEnum):
    """A job is pending until it is done or dead (gave up); a lease marks it as running."""

    PENDING = "pending"
    DONE = "done"
    DEAD = "dead"


@dataclass(frozen=True, slots=True)
class Job:
    """One unit of background work, as claimed by a worker."""

    id: int
    kind: str
    payload: dict[str, Any]
    state: JobState
    attempts: int
    max_attempts: int
    next_attempt_at: float
    locked_until: float | None
    host: str | None = None
    last_status: int | None = None
    last_error: str | None = None


class RetryLater(Exception):
    """A transient failure: try again with backoff (or after ``retry_after`` seconds)."""

    def __init__(self, reason: str, *, status: int | None = None,
                 retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status
        self.retry_after = retry_after


class GiveUp(Exception):
    """A final failure: the job is marked dead and never retried."""

    def __init__(self, reason: str, *, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status


class Postpone(RetryLater):
    """Not now, and not a failure: run again in ``delay`` seconds without counting an attempt
    (e.g. a delivery held back by its host's circuit breaker, which never touched the host)."""

    def __init__(self, reason: str, *, delay: float) -> None:
        super().__init__(reason, retry_after=delay)
        self.delay = delay
