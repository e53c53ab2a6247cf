"""The notification policy's tables (migrations/0018): what the policy needs to know about a
sender, writing a notification with its ``filtered`` flag, the notification requests
(``notification_requests``: one row per owner and sender; how many filtered mentions and
which last status are read from ``notifications`` through the same visibility clause as the
listings, so a deleted status or a blocked sender drops out by itself), accepting them
(unfiltering, and a ``notification_permissions`` row) and dismissing them (the filtered
notifications go too), and the policy's summary."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime

from fediverse_mu.domain.notification_requests import (
    MAX_MEANINGFUL_COUNT,
    THREAD_DEPTH,
    NotificationRequest,
    NotificationRequestView,
    PolicySummary,
    SenderFacts,
)
from fediverse_mu.domain.notifications import NotificationType
from fediverse_mu.domain.pagination import Page
from fediverse_mu.storage.accounts import get_accounts_by_ids
from fediverse_mu.storage.db import Database
from fediverse_mu.storage.notifications import _FROM, _SHOWN
from fediverse_mu.storage.pagination import newest_first, page_clause
from fediverse_mu.storage.statuses import load_views

_MENTION = NotificationType.MENTION.value
_STAFF = ("admin", "moderator")

# The sender as the recipient (first parameter) sees it; the second parameter is the sender.
_FACTS = (
    "SELECT a.created_at,"
    " (a.silenced_at IS NOT NULL OR a.domain IN (SELECT domain FROM domain_blocks"
    "  WHERE severity = 'silence')) AS limited,"
    " EXISTS (SELECT 1 FROM follows f WHERE f.follower_id = :me AND f.followee_id = a.id"
    "  AND f.state = 'accepted') AS followed,"
    " (SELECT coalesce(f.accepted_at, f.created_at) FROM follows f WHERE f.follower_id = a.id"
    "  AND f.followee_id = :me AND f.state = 'accepted') AS follower_since,"
    " EXISTS (SELECT 1 FROM notification_permissions p WHERE p.account_id = :me"
    "  AND p.from_account_id = a.id) AS permitted,"
    f" EXISTS (SELECT 1 FROM users u WHERE u.account_id = a.id AND a.domain IS NULL"
    f"  AND u.role IN ({', '.join(repr(r) for r in _STAFF)})) AS staff"
    " FROM accounts a WHERE a.id = :sender")

# Whether the direct status :status answers a direct status of the recipient (:me) that
# mentions the sender (:sender), up the thread (Mastodon's statuses_that_mention_sender).
_ANSWERS = (
    "WITH RECURSIVE up (id, depth) AS ("
    " SELECT in_reply_to_id, 0 FROM statuses WHERE id = :status AND in_reply_to_id IS NOT NULL"
    " UNION ALL SELECT s.in_reply_to_id, up.depth + 1 FROM up JOIN statuses s ON s.id = up.id"
    "  WHERE s.in_reply_to_id IS NOT NULL AND up.depth < :depth)"
    " SELECT 1 FROM up JOIN statuses s ON s.id = up.id WHERE s.account_id = :me"
    " AND s.visibility = 'direct' AND EXISTS (SELECT 1 FROM mentions m"
    "  WHERE m.status_id = s.id AND m.account_id = :sender) LIMIT 1")


def _dt(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def sender_facts(db: Database, account_id: int, from_account_id: int,
                 mention_status_id: int | None) -> SenderFacts | None:
    """What the policy of ``account_id`` looks at about ``from_account_id`` (None: no such
    account); ``mention_status_id``: the status of a mention, to judge a private one."""
    names = {"me": account_id, "sender": from_account_id}
    row = db.execute(_FACTS, names).fetchone()
    if row is None:
        return None
    unsolicited = False
    if mention_status_id is not None:
        status = db.execute("SELECT visibility FROM statuses WHERE id = ?",
                            [mention_status_id]).fetchone()
        unsolicited = status is not None and status["visibility"] == "direct" and \
            db.execute(_ANSWERS, {**names, "status": mention_status_id,
                                  "depth": THREAD_DEPTH}).fetchone() is None
    return SenderFacts(created_at=datetime.fromisoformat(row["created_at"]),
                       limited=bool(row["limited"]), followed=bool(row["followed"]),
                       follower_since=_dt(row["follower_since"]),
                       permitted=bool(row["permitted"]), staff=bool(row["staff"]),
                       unsolicited_private_mention=unsolicited)


def put_notification(db: Database, *, account_id: int, from_account_id: int, kind: str,
                     status_id: int | None, now: datetime, filtered: bool) -> int | None:
    """Notify a local account, filtered or not; None when the same notification exists."""
    row = db.execute(
        "INSERT OR IGNORE INTO notifications (account_id, from_account_id, type, status_id,"
        " created_at, filtered) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
        [account_id, from_account_id, kind, status_id, now.isoformat(), int(filtered)],
    ).fetchone()
    return None if row is None else int(row[0])


def note_request(db: Database, account_id: int, from_account_id: int, now: datetime) -> None:
    """A filtered mention from ``from_account_id``: open its request, or bring it up to date."""
    db.execute("INSERT INTO notification_requests (account_id, from_account_id, created_at,"
               " updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (account_id, from_account_id)"
               " DO UPDATE SET updated_at = excluded.updated_at",
               [account_id, from_account_id, now.isoformat(), now.isoformat()])


# The filtered mentions of a request's sender its owner may still see (one parameter: now).
_PENDING = (f"n.account_id = r.account_id AND n.from_account_id = r.from_account_id"
            f" AND n.filtered = 1 AND n.type = '{_MENTION}' AND {_SHOWN}")
_REQUEST = ("r.id, r.account_id, r.from_account_id, r.created_at, r.updated_at")


def _requests(db: Database, rows: Sequence[sqlite3.Row],
              now: datetime) -> list[NotificationRequest]:
    """Requests with their counts and last statuses (one query for the rows)."""
    if not rows:
        return []
    ids = [r["id"] for r in rows]
    stats = {r[0]: (int(r[1]), r[2]) for r in db.execute(
        f"SELECT r.id, count(*), max(n.status_id) FROM notification_requests r"
        f" JOIN notifications n ON n.account_id = r.account_id"
        f" AND n.from_account_id = r.from_account_id"
        f" LEFT JOIN statuses s ON s.id = n.status_id"
        f" WHERE r.id IN (SELECT value FROM json_each(?)) AND {_PENDING} GROUP BY r.id",
        [f"[{','.join(str(i) for i in ids)}]", now.isoformat()])}
    out = []
    for row in rows:
        found, last = stats.get(row["id"], (0, None))
        if not found:
            continue
        out.append(NotificationRequest(
            id=row["id"], account_id=row["account_id"], from_account_id=row["from_account_id"],
            created_at=datetime.fromisoformat(row["created_at"]),
            updated_at=datetime.fromisoformat(row["updated_at"]),
            notifications_count=min(found, MAX_MEANINGFUL_COUNT), last_status_id=last))
    return out


def _views(db: Database, requests: Sequence[NotificationRequest],
           viewer_id: int) -> list[NotificationRequestView]:
    accounts = get_accounts_by_ids(db, [r.from_account_id for r in requests])
    status_ids = [r.last_status_id for r in requests if r.last_status_id is not None]
    statuses = {v.status.id: v for v in load_views(db, status_ids, viewer_id)} \
        if status_ids else {}
    return [NotificationRequestView(
        request=r, account=accounts[r.from_account_id],
        last_status=None if r.last_status_id is None else statuses.get(r.last_status_id))
        for r in requests if r.from_account_id in accounts]


def list_requests(db: Database, account_id: int, page: Page,
                  now: datetime) -> list[NotificationRequestView]:
    """A page of ``account_id``'s pending requests (those with filtered mentions they may
    still see), newest first by id."""
    where, bounds, order = page_clause("r.id", page)
    rows = db.execute(
        f"SELECT {_REQUEST} FROM notification_requests r WHERE r.account_id = ? AND {where}"
        f" AND EXISTS (SELECT 1 {_FROM} WHERE {_PENDING}) ORDER BY r.id {order} LIMIT ?",
        [account_id, *bounds, now.isoformat(), page.limit]).fetchall()
    return _views(db, _requests(db, newest_first(rows, page), now), account_id)


def get_request(db: Database, account_id: int, request_id: int,
                now: datetime) -> NotificationRequestView | None:
    """One of ``account_id``'s pending requests, or None."""
    rows = db.execute(f"SELECT {_REQUEST} FROM notification_requests r"
                      f" WHERE r.id = ? AND r.account_id = ?",
                      [request_id, account_id]).fetchall()
    views = _views(db, _requests(db, rows, now), account_id)
    return views[0] if views else None


def _owned(db: Database, account_id: int, request_ids: Sequence[int]) -> list[tuple[int, int]]:
    """(request id, sender) of those of ``request_ids`` that are ``account_id``'s."""
    return [(r[0], r[1]) for r in db.execute(
        "SELECT id, from_account_id FROM notification_requests WHERE account_id = ?"
        " AND id IN (SELECT value FROM json_each(?))",
        [account_id, f"[{','.join(str(i) for i in request_ids)}]"])]


def filtered_direct_mentions(db: Database, account_id: int,
                             request_ids: Sequence[int]) -> list[int]:
    """The direct statuses, not deleted, whose mentions of ``account_id`` are filtered, from
    the senders of those of ``request_ids`` that are theirs; oldest first."""
    return [int(r[0]) for r in db.execute(
        f"SELECT DISTINCT n.status_id FROM notification_requests r"
        f" JOIN notifications n ON n.account_id = r.account_id"
        f" AND n.from_account_id = r.from_account_id"
        f" JOIN statuses s ON s.id = n.status_id"
        f" WHERE r.account_id = ? AND r.id IN (SELECT value FROM json_each(?))"
        f" AND n.filtered = 1 AND n.type = '{_MENTION}' AND s.visibility = 'direct'"
        f" AND s.deleted_at IS NULL ORDER BY n.status_id",
        [account_id, f"[{','.join(str(i) for i in request_ids)}]"])]


def accept_requests(db: Database, account_id: int, request_ids: Sequence[int],
                    now: datetime) -> int:
    """Accept those of ``request_ids`` that are ``account_id``'s: every filtered notification
    of their senders joins the list, later ones are never filtered, the requests are gone.
    Returns how many were accepted."""
    owned = _owned(db, account_id, request_ids)
    for request_id, sender in owned:
        db.execute("UPDATE notifications SET filtered = 0 WHERE account_id = ?"
                   " AND from_account_id = ? AND filtered = 1", [account_id, sender])
        db.execute("INSERT OR IGNORE INTO notification_permissions (account_id,"
                   " from_account_id, created_at) VALUES (?, ?, ?)",
                   [account_id, sender, now.isoformat()])
        db.execute("DELETE FROM notification_requests WHERE id = ?", [request_id])
    return len(owned)


def dismiss_requests(db: Database, account_id: int, request_ids: Sequence[int]) -> int:
    """Dismiss those of ``request_ids`` that are ``account_id``'s: the requests and their
    senders' filtered notifications are removed (a later filtered mention opens a new one).
    Returns how many were dismissed."""
    owned = _owned(db, account_id, request_ids)
    for request_id, sender in owned:
        db.execute("DELETE FROM notifications WHERE account_id = ? AND from_account_id = ?"
                   " AND filtered = 1", [account_id, sender])
        db.execute("DELETE FROM notification_requests WHERE id = ?", [request_id])
    return len(owned)


def summarize(db: Database, account_id: int, now: datetime) -> PolicySummary:
    """How many requests are pending (up to 100) and how many filtered mentions they hold."""
    rows = db.execute(
        f"SELECT {_REQUEST} FROM notification_requests r WHERE r.account_id = ?"
        f" AND EXISTS (SELECT 1 {_FROM} WHERE {_PENDING}) ORDER BY r.id DESC LIMIT ?",
        [account_id, now.isoformat(), MAX_MEANINGFUL_COUNT]).fetchall()
    found = _requests(db, rows, now)
    return PolicySummary(pending_requests_count=len(found),
                         pending_notifications_count=sum(r.notifications_count for r in found))
