"""The few reads streaming needs to route an event among the residents connected right now:
whose home feed and which list feeds hold a status, and who could have had a (now deleted)
status in theirs."""

from __future__ import annotations

from collections.abc import Sequence

from fediverse_mu.domain.statuses import Status, Visibility
from fediverse_mu.storage.db import Database

_CHUNK = 500


def _chunks(ids: Sequence[int]) -> list[tuple[list[int], str]]:
    unique = list(dict.fromkeys(ids))
    return [(unique[i:i + _CHUNK], ",".join("?" * len(unique[i:i + _CHUNK])))
            for i in range(0, len(unique), _CHUNK)]


def home_feed_members(db: Database, status_id: int, account_ids: Sequence[int]) -> set[int]:
    """Those of ``account_ids`` whose home feed holds the status."""
    found: set[int] = set()
    for chunk, marks in _chunks(account_ids):
        found.update(r[0] for r in db.execute(
            f"SELECT account_id FROM home_feed WHERE status_id = ? AND account_id IN ({marks})",
            [status_id, *chunk]))
    return found


def list_feed_members(db: Database, status_id: int, list_ids: Sequence[int]) -> set[int]:
    """Those of ``list_ids`` whose list feed holds the status."""
    found: set[int] = set()
    for chunk, marks in _chunks(list_ids):
        found.update(r[0] for r in db.execute(
            f"SELECT list_id FROM list_feed WHERE status_id = ? AND list_id IN ({marks})",
            [status_id, *chunk]))
    return found


def media_status_ids(db: Database, status_ids: Sequence[int]) -> set[int]:
    """Those of ``status_ids`` that carry media (deleted ones included)."""
    found: set[int] = set()
    for chunk, marks in _chunks(status_ids):
        found.update(r[0] for r in db.execute(
            f"SELECT id FROM statuses WHERE id IN ({marks}) AND has_media = 1", chunk))
    return found


def possible_home_readers(db: Database, status: Status, account_ids: Sequence[int]) -> set[int]:
    """Those of ``account_ids`` who may have had ``status`` in their home feed: its author,
    the accounts it mentions and, unless it is direct, the author's followers. (Used once the
    status is deleted, when its home-feed rows are already gone.)"""
    found = {status.account_id} & set(account_ids)
    for chunk, marks in _chunks(account_ids):
        found.update(r[0] for r in db.execute(
            f"SELECT account_id FROM mentions WHERE status_id = ? AND account_id IN ({marks})",
            [status.id, *chunk]))
        if status.visibility is not Visibility.DIRECT:
            found.update(r[0] for r in db.execute(
                "SELECT follower_id FROM follows WHERE followee_id = ? AND state = 'accepted'"
                f" AND follower_id IN ({marks})", [status.account_id, *chunk]))
    return found
