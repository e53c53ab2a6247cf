"""An in-memory sliding-window limiter for failed logins: at most ``limit`` failures per
``window`` seconds for each key (the client's IP address, the login name). An attempt is
counted *before* the password is checked and forgiven if it succeeds, so concurrent guesses
cannot slip past the limit while the (slow) Argon2 check runs. Per process, forgotten on
restart: it slows guessing down, it is not an audit log."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

LOGIN_LIMIT = 10
LOGIN_WINDOW = 300.0
MAX_KEYS = 50_000


class Throttle:
    """Failure counts per key over a sliding window; time is passed in (the services' clock)."""

    def __init__(self, *, limit: int = LOGIN_LIMIT, window: float = LOGIN_WINDOW,
                 max_keys: int = MAX_KEYS) -> None:
        self.limit = limit
        self.window = window
        self.max_keys = max_keys
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, key: str, now: float) -> deque[float] | None:
        stamps = self._failures.get(key)
        if stamps is None:
            return None
        while stamps and stamps[0] <= now - self.window:
            stamps.popleft()
        if not stamps:
            del self._failures[key]
            return None
        return stamps

    def retry_after(self, keys: Iterable[str], now: float) -> float | None:
        """Seconds until every key may try again, or None when none is blocked."""
        wait = 0.0
        for key in keys:
            stamps = self._recent(key, now)
            if stamps is not None and len(stamps) >= self.limit:
                wait = max(wait, stamps[-self.limit] + self.window - now)
        return wait or None

    def acquire(self, keys: Iterable[str], now: float) -> float | None:
        """Count one attempt against every key, unless one is blocked: then count nothing and
        return the seconds to wait."""
        keys = tuple(keys)
        wait = self.retry_after(keys, now)
        if wait is not None:
            return wait
        if len(self._failures) >= self.max_keys:
            self._sweep(now)
        for key in keys:
            self._failures.setdefault(key, deque()).append(now)
        return None

    def forgive(self, keys: Iterable[str], stamp: float) -> None:
        """Take back the attempt counted at ``stamp`` (it succeeded)."""
        for key in keys:
            stamps = self._failures.get(key)
            if stamps is not None and stamp in stamps:
                stamps.remove(stamp)
                if not stamps:
                    del self._failures[key]

    def _sweep(self, now: float) -> None:
        for key in list(self._failures):
            self._recent(key, now)
        # Still full (a flood of addresses): drop the oldest keys, down to 90% so that the
        # next sweep is far away.
        excess = len(self._failures) - self.max_keys * 9 // 10
        for key in list(self._failures)[:max(excess, 0)]:
            del self._failures[key]
