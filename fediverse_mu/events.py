"""A small in-process event bus at the bottom of the house: services announce what happened
(a job was queued, a status was created…) and faces such as the worker or streaming subscribe.
Services never import a face; they only publish here.

Payloads are small JSON-serialisable dicts of ids: with ``serve --workers N`` events cross
processes (``eventrelay.py``), and each process reloads what it needs from the database."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

Listener = Callable[[str, Any], None]

JOB_QUEUED = "job.queued"
# Payload: a ``StatusEvent``-like dict: status_id, account_id, home (local account ids whose
# home feed got it), public, local, local_only, tags.
STATUS_CREATED = "status.created"
STATUS_UPDATED = "status.updated"  # same payload
# A post reached more home feeds after its STATUS_CREATED (services/fanout.py): payload
# status_id, account_id, home; for the ``user`` and ``list`` streams only.
HOME_FANOUT = "status.fanout"
STATUS_DELETED = "status.deleted"  # payload: {"status_ids": [...], "account_id": ...}
NOTIFICATION = "notification"  # payload: {"notification_id": ..., "account_id": ...}
CONVERSATION = "conversation"  # payload: {"conversation_id": ..., "account_id": ...}
TOKEN_REVOKED = "token.revoked"  # noqa: S105 (a topic) payload: {"token_ids": [...]}
FILTERS_CHANGED = "filters.changed"  # payload: {"account_id": ...} (a resident's filters)


class EventBus:
    """Synchronous publish/subscribe; listeners must be quick and never raise."""

    def __init__(self) -> None:
        self._listeners: dict[str, list[Listener]] = defaultdict(list)
        self._every: list[Listener] = []  # listeners of every topic (the process relay)

    def subscribe(self, topic: str, listener: Listener) -> Callable[[], None]:
        """Call ``listener(topic, payload)`` on each event; returns an unsubscribe function."""
        self._listeners[topic].append(listener)
        return lambda: self._listeners[topic].remove(listener)

    def subscribe_all(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener(topic, payload)`` on every event of every topic."""
        self._every.append(listener)
        return lambda: self._every.remove(listener)

    def publish(self, topic: str, payload: Any = None) -> None:
        """Tell every listener of ``topic``; a failing listener is logged, not propagated."""
        for listener in [*self._listeners.get(topic, ()), *self._every]:
            try:
                listener(topic, payload)
            except Exception:
                log.exception("event listener failed for %s", topic)
