"""Time-ordered 64-bit ids, Mastodon style: milliseconds since the epoch shifted left by 16
bits plus a sequence, so that sorting by id sorts by time and ids are safe in JSON as strings."""

from __future__ import annotations

import itertools
import secrets
import threading
import time

_counter = itertools.count(secrets.randbelow(1 << 16))
_lock = threading.Lock()


def new_id(at: float | None = None) -> int:
    """A new id for something created at ``at`` (seconds since the epoch; now by default)."""
    millis = int((time.time() if at is None else at) * 1000)
    with _lock:
        seq = next(_counter) & 0xFFFF
    return (millis << 16) | seq
