"""Reading and removing notifications (the ``notifications`` table; posting writes the
status-related ones with ``statuses.put_notification``), and writing follow and follow request
notifications. One query decides what a resident may still see: not dismissed, its status not
deleted and still visible to them, its follow still standing (a follow request only while it
waits), and nothing from an account they block, that blocks them, or whose notifications they
muted. Listings leave out what the resident's notification policy filtered
(``notifications.filtered``) unless asked (``include_filtered``, or one sender's)."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime

from fediverse_mu.domain.notifications import (
    Notification,
    NotificationFilter,
    NotificationType,
    NotificationView,
)
from fediverse_mu.domain.pagination import Page
from fediverse_mu.storage.accounts import get_accounts_by_ids
from fediverse_mu.storage.db import Database
from fediverse_mu.storage.moderation import get_warnings
from fediverse_mu.storage.pagination import newest_first, page_clause
from fediverse_mu.storage.statuses import load_views

_COLUMNS = ("n.id, n.account_id, n.from_account_id, n.type, n.status_id, n.created_at,"
            " n.account_warning_id, n.group_key, n.filtered")
MAX_PAGE = 80
_FOLLOW_TYPES = (NotificationType.FOLLOW.value, NotificationType.FOLLOW_REQUEST.value)

# What the owner (n.account_id) may still see; the one parameter is the current time (mutes).
_SHOWN = (
    "n.dismissed = 0"
    # A status notification: the status still exists and its owner may see it.
    " AND (n.status_id IS NULL OR (s.id IS NOT NULL AND s.deleted_at IS NULL AND ("
    "  s.visibility IN ('public', 'unlisted') OR s.account_id = n.account_id"
    "  OR EXISTS (SELECT 1 FROM mentions m WHERE m.status_id = s.id"
    "             AND m.account_id = n.account_id)"
    "  OR (s.visibility = 'private' AND EXISTS (SELECT 1 FROM follows sf"
    "      WHERE sf.follower_id = n.account_id AND sf.followee_id = s.account_id"
    "      AND sf.state = 'accepted')))))"
    # A follow notification lasts as long as the follow; a request while it is pending
    # (Mastodon destroys them with the follow or the request).
    " AND (n.type NOT IN ('follow', 'follow_request') OR EXISTS (SELECT 1 FROM follows f"
    "      WHERE f.follower_id = n.from_account_id AND f.followee_id = n.account_id"
    "      AND (n.type = 'follow' OR f.state = 'pending'))"
    # A request to join a group a moderator moderates (groups.notify_moderators).
    "      OR (n.type = 'follow_request' AND EXISTS (SELECT 1 FROM follows gf"
    "      JOIN group_moderators gm ON gm.group_id = gf.followee_id"
    "      WHERE gf.follower_id = n.from_account_id AND gm.account_id = n.account_id"
    "      AND gf.state = 'pending')))"
    " AND NOT EXISTS (SELECT 1 FROM blocks b WHERE (b.account_id = n.account_id"
    "      AND b.target_id = n.from_account_id) OR (b.account_id = n.from_account_id"
    "      AND b.target_id = n.account_id))"
    " AND NOT EXISTS (SELECT 1 FROM mutes u WHERE u.account_id = n.account_id"
    "      AND u.target_id = n.from_account_id AND u.notifications = 1"
    "      AND (u.expires_at IS NULL OR u.expires_at > ?))"
    # Moderation: nothing from a domain the owner hides; a suspended sender (itself or by
    # domain) reaches only its followers, and so does a silenced one, unless the owner's
    # policy accepts limited accounts or a request from it (a filtered notification of it
    # is already held back by the policy: it stays readable in its request).
    " AND NOT EXISTS (SELECT 1 FROM accounts da JOIN account_domain_blocks dd"
    "      ON dd.domain = da.domain WHERE da.id = n.from_account_id"
    "      AND dd.account_id = n.account_id)"
    " AND NOT EXISTS (SELECT 1 FROM accounts ma WHERE ma.id = n.from_account_id"
    "      AND ma.id != n.account_id"  # a moderation warning comes from its owner
    "      AND (ma.suspended_at IS NOT NULL OR ma.domain IN (SELECT domain FROM domain_blocks"
    "      WHERE severity = 'suspend') OR (n.filtered = 0 AND (ma.silenced_at IS NOT NULL"
    "      OR ma.domain IN (SELECT domain FROM domain_blocks WHERE severity = 'silence'))"
    # 'filter': NotificationPolicy's default for_limited_accounts.
    "      AND coalesce((SELECT np.for_limited_accounts FROM notification_policies np"
    "      WHERE np.account_id = n.account_id), 'filter') != 'accept'"
    "      AND NOT EXISTS (SELECT 1 FROM notification_permissions nq"
    "      WHERE nq.account_id = n.account_id AND nq.from_account_id = n.from_account_id)))"
    "      AND NOT EXISTS (SELECT 1 FROM follows mf WHERE mf.follower_id = n.account_id"
    "      AND mf.followee_id = n.from_account_id AND mf.state = 'accepted'))"
)
_FROM = "FROM notifications n LEFT JOIN statuses s ON s.id = n.status_id"


def _notification(row: sqlite3.Row) -> Notification:
    return Notification(id=row["id"], account_id=row["account_id"],
                        from_account_id=row["from_account_id"],
                        type=NotificationType(row["type"]), status_id=row["status_id"],
                        created_at=datetime.fromisoformat(row["created_at"]),
                        account_warning_id=row["account_warning_id"],
                        group_key=row["group_key"], filtered=bool(row["filtered"]))


def _filter(wanted: NotificationFilter) -> tuple[str, list[object]]:
    types = wanted.wanted()
    if not types:
        return "0", []
    sql = f" AND n.type IN ({','.join('?' * len(types))})"
    if not wanted.shows_filtered:
        sql += " AND n.filtered = 0"
    args: list[object] = [t.value for t in types]
    if wanted.from_account_id is not None:
        sql += " AND n.from_account_id = ?"
        args.append(wanted.from_account_id)
    return "1" + sql, args


def list_notifications(db: Database, account_id: int, page: Page, wanted: NotificationFilter,
                       now: datetime) -> list[Notification]:
    """A page of what ``account_id`` may see, newest first."""
    where, extra, order = page_clause("n.id", page)
    chosen, chosen_args = _filter(wanted)
    rows = db.execute(
        f"SELECT {_COLUMNS} {_FROM} WHERE n.account_id = ? AND {chosen} AND {_SHOWN}"
        f" AND {where} ORDER BY n.id {order} LIMIT ?",
        [account_id, *chosen_args, now.isoformat(), *extra, min(page.limit, MAX_PAGE)],
    ).fetchall()
    return newest_first([_notification(r) for r in rows], page)


def get_notification(db: Database, account_id: int, notification_id: int, now: datetime, *,
                     include_filtered: bool = False) -> Notification | None:
    """One of ``account_id``'s notifications, if they may still see it (one their policy
    filtered only with ``include_filtered``)."""
    unfiltered = "" if include_filtered else " AND n.filtered = 0"
    row = db.execute(f"SELECT {_COLUMNS} {_FROM} WHERE n.id = ? AND n.account_id = ? AND"
                     f" {_SHOWN}{unfiltered}",
                     [notification_id, account_id, now.isoformat()]).fetchone()
    return None if row is None else _notification(row)


def count_notifications(db: Database, account_id: int, wanted: NotificationFilter,
                        after_id: int | None, limit: int, now: datetime) -> int:
    """How many visible notifications are newer than ``after_id``, counting at most ``limit``."""
    chosen, chosen_args = _filter(wanted)
    row = db.execute(
        f"SELECT count(*) FROM (SELECT n.id {_FROM} WHERE n.account_id = ? AND {chosen}"
        f" AND n.id > ? AND {_SHOWN} LIMIT ?)",
        [account_id, *chosen_args, after_id or 0, now.isoformat(), limit]).fetchone()
    return int(row[0])


def load_notification_views(db: Database, notifications: Sequence[Notification],
                            viewer_id: int) -> list[NotificationView]:
    """Notifications with their accounts and statuses (in a handful of queries); those whose
    account or status cannot be loaded are left out."""
    accounts = get_accounts_by_ids(db, [n.from_account_id for n in notifications])
    status_ids = [n.status_id for n in notifications if n.status_id is not None]
    views = {v.status.id: v for v in load_views(db, status_ids, viewer_id)} \
        if status_ids else {}
    warnings = get_warnings(db, [n.account_warning_id for n in notifications
                                 if n.account_warning_id is not None])
    out = []
    for n in notifications:
        account = accounts.get(n.from_account_id)
        status = None if n.status_id is None else views.get(n.status_id)
        warning = None if n.account_warning_id is None else warnings.get(n.account_warning_id)
        if account is None or (n.status_id is not None and status is None) or \
                (n.account_warning_id is not None and warning is None):
            continue
        out.append(NotificationView(notification=n, account=account, status=status,
                                    warning=warning))
    return out


def delete_notification(db: Database, account_id: int, notification_id: int) -> bool:
    """Dismiss one notification (Mastodon destroys it); False when it is not theirs."""
    cursor = db.execute("DELETE FROM notifications WHERE id = ? AND account_id = ?",
                        [notification_id, account_id])
    return cursor.rowcount > 0


def clear_notifications(db: Database, account_id: int) -> int:
    """Dismiss every notification of an account; returns how many there were."""
    return db.execute("DELETE FROM notifications WHERE account_id = ?", [account_id]).rowcount


def put_warning_notification(db: Database, account_id: int, warning_id: int,
                             now: datetime) -> int:
    """Tell a local account of a moderation warning (Mastodon's ``moderation_warning``: its
    sender is the account itself, the warning says the rest)."""
    row = db.execute("INSERT INTO notifications (account_id, from_account_id, type,"
                     " account_warning_id, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id",
                     [account_id, account_id, NotificationType.MODERATION_WARNING.value,
                      warning_id, now.isoformat()]).fetchone()
    return int(row[0])


def put_follow_notification(db: Database, *, account_id: int, from_account_id: int,
                            kind: NotificationType, now: datetime) -> int:
    """Tell ``account_id`` of a new follow or follow request; it replaces the earlier follow
    notifications of the same pair (a follow after an unfollow is news again)."""
    db.execute("DELETE FROM notifications WHERE account_id = ? AND from_account_id = ? AND"
               " type IN (?, ?)", [account_id, from_account_id, *_FOLLOW_TYPES])
    row = db.execute("INSERT INTO notifications (account_id, from_account_id, type, status_id,"
                     " created_at) VALUES (?, ?, ?, NULL, ?) RETURNING id",
                     [account_id, from_account_id, kind.value, now.isoformat()]).fetchone()
    return int(row[0])
