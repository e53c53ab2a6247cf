"""Queueing outgoing activities: one delivery job per inbox, written in the caller's
transaction (a durable outbox). The federation layer's job handler signs and POSTs them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from fediverse_mu.storage import Database
from fediverse_mu.storage.jobs import put_job

DELIVER_JOB = "deliver"
MAX_DELIVERY_ATTEMPTS = 16  # with the worker's backoff: about two days


def queue_deliveries(db: Database, activity: dict[str, Any], inboxes: Iterable[str], *,
                     signer_id: int, now: float) -> int:
    """Queue one signed POST of ``activity`` per distinct inbox; returns how many."""
    count = 0
    for inbox in dict.fromkeys(inboxes):  # de-duplicated, order kept
        put_job(db, DELIVER_JOB, {"inbox": inbox, "activity": activity, "signer": signer_id},
                now=now, max_attempts=MAX_DELIVERY_ATTEMPTS, host=urlsplit(inbox).netloc)
        count += 1
    return count
