"""Per-host delivery state (a row of the ``peers`` table) and the pure policy that reads it:
which HTTP signature scheme a host accepts, and the circuit breaker (a cool-down after
consecutive failures, "unavailable" after a week of failures, deliveries given up after a
month of unavailability). Times are UNIX seconds from the services' clock. No I/O here."""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Literal

SignatureScheme = Literal["cavage", "rfc9421"]
SIGNATURE_SCHEMES: tuple[SignatureScheme, ...] = ("cavage", "rfc9421")

BREAKER_THRESHOLD = 5  # consecutive failures that open the circuit
COOLDOWN_BASE = 300.0  # first cool-down; doubles with each further failure…
COOLDOWN_CAP = 6 * 3600.0  # … up to this
UNAVAILABLE_AFTER = 7 * 86400.0  # failing for longer than this: the host is unavailable
UNAVAILABLE_PROBE_INTERVAL = 86400.0  # an unavailable host is tried once a day
GIVE_UP_AFTER = 30 * 86400.0  # unavailable for longer than this: deliveries are given up


class Admission(StrEnum):
    """What to do with a delivery to a host right now."""

    GO = "go"  # circuit closed: send
    PROBE = "probe"  # cool-down over: one request may test the host, the others wait for it
    WAIT = "wait"  # circuit open: postpone without any network call
    DROP = "drop"  # unavailable for too long: give the delivery up


@dataclass(frozen=True, slots=True)
class Peer:
    """What we know about one remote host (``host[:port]``, as ``host_of`` normalises it)."""

    host: str
    signature_scheme: SignatureScheme | None = None  # None: not learnt yet (cavage first)
    consecutive_failures: int = 0
    first_failure_at: float | None = None  # start of the current run of failures
    last_failure_at: float | None = None
    unavailable_since: float | None = None
    last_success_at: float | None = None  # it last answered us, or wrote to us

    @property
    def is_healthy(self) -> bool:
        """No failure since the last success."""
        return self.consecutive_failures == 0 and self.unavailable_since is None

    def cooldown(self) -> float:
        """How long the open circuit stays shut after the last failure."""
        if self.unavailable_since is not None:
            return UNAVAILABLE_PROBE_INTERVAL
        extra = max(self.consecutive_failures - BREAKER_THRESHOLD, 0)
        return min(COOLDOWN_BASE * 2.0 ** min(extra, 32), COOLDOWN_CAP)

    def admission(self, now: float) -> tuple[Admission, float]:
        """The breaker's decision at ``now``, with the time it holds until (WAIT) or ``now``."""
        if self.unavailable_since is not None and now - self.unavailable_since > GIVE_UP_AFTER:
            return Admission.DROP, now
        if self.consecutive_failures < BREAKER_THRESHOLD or self.last_failure_at is None:
            return Admission.GO, now
        until = self.last_failure_at + self.cooldown()
        if now < until:
            return Admission.WAIT, until
        return Admission.PROBE, now

    def failed(self, now: float) -> Peer:
        """The state after one more failed request (network error, timeout, 5xx)."""
        first = self.first_failure_at if self.first_failure_at is not None else now
        unavailable = self.unavailable_since
        if unavailable is None and now - first > UNAVAILABLE_AFTER:
            unavailable = now
        return replace(self, consecutive_failures=self.consecutive_failures + 1,
                       first_failure_at=first, last_failure_at=now,
                       unavailable_since=unavailable)

    def succeeded(self, now: float) -> Peer:
        """The state after the host answered (any HTTP response but 5xx/408/429) or wrote."""
        return replace(self, consecutive_failures=0, first_failure_at=None,
                       last_failure_at=None, unavailable_since=None, last_success_at=now)
