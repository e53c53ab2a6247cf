"""Grouped notifications over the ``notifications`` table (its ``group_key`` column is set by
a trigger, migrations/0015): a page of groups walked the way Mastodon's
``Notification.paginate_groups`` does (newest first, the first notification met of each group
stands for it and pages the listing), what each group counts and shows, one group by key, its
accounts, dismissing it, the unread groups, and the notification policies. What a resident may
see is decided by the same clause as the ungrouped listing (``storage.notifications``)."""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Sequence
from datetime import datetime

from fediverse_mu.domain import Account
from fediverse_mu.domain.notification_groups import (
    POLICY_FIELDS,
    SAMPLE_ACCOUNTS,
    NotificationGroup,
    NotificationGroupView,
    NotificationPolicy,
    PageRange,
    PolicyValue,
    ungrouped_id,
    ungrouped_key,
)
from fediverse_mu.domain.notifications import (
    Notification,
    NotificationFilter,
    NotificationType,
)
from fediverse_mu.domain.pagination import Page
from fediverse_mu.storage.accounts import get_accounts_by_ids
from fediverse_mu.storage.db import Database
from fediverse_mu.storage.moderation import get_warnings
from fediverse_mu.storage.notifications import _COLUMNS, _FROM, _SHOWN, _filter, _notification
from fediverse_mu.storage.pagination import page_clause
from fediverse_mu.storage.statuses import load_views

_FIRST_BATCH = 40
_MAX_BATCH = 1000


def _key(row: sqlite3.Row, grouped: Collection[NotificationType]) -> str:
    key: str | None = row["group_key"]
    if key is None or NotificationType(row["type"]) not in grouped:
        return ungrouped_key(row["id"])
    return key


def walk_heads(db: Database, account_id: int, page: Page, limit: int,
               wanted: NotificationFilter, grouped: Collection[NotificationType],
               now: datetime) -> list[tuple[str, Notification]]:
    """The first notification met of each of at most ``limit`` groups, walking in the page's
    direction (oldest first after ``min_id``), returned newest first with their keys. Rows are
    read in growing batches until enough groups are found or the notifications run out."""
    where, bounds, order = page_clause("n.id", page)
    chosen, chosen_args = _filter(wanted)
    heads: dict[str, Notification] = {}
    after: int | None = None
    batch = min(max(_FIRST_BATCH, limit * 2), _MAX_BATCH)
    while len(heads) < limit:
        step = "" if after is None else (" AND n.id < ?" if order == "DESC" else " AND n.id > ?")
        rows = db.execute(
            f"SELECT {_COLUMNS} {_FROM} WHERE n.account_id = ? AND {chosen}"
            f" AND {_SHOWN} AND {where}{step} ORDER BY n.id {order} LIMIT ?",
            [account_id, *chosen_args, now.isoformat(), *bounds,
             *([] if after is None else [after]), batch]).fetchall()
        for row in rows:
            heads.setdefault(_key(row, grouped), _notification(row))
            if len(heads) >= limit:
                break
        if len(rows) < batch:
            break
        after = rows[-1]["id"]
        batch = min(batch * 2, _MAX_BATCH)
    found = list(heads.items())
    return list(reversed(found)) if order == "ASC" else found


def _describe(db: Database, account_id: int, key: str, head: Notification,
              wanted: NotificationFilter, span: PageRange | None,
              now: datetime) -> NotificationGroup:
    """What a group counts and shows: bounded by the page's newest head when paged."""
    chosen, chosen_args = _filter(wanted)
    newest = None if span is None else span.newest
    upper = "1" if newest is None else "n.id <= ?"
    where = f"n.account_id = ? AND n.group_key = ? AND {chosen} AND {_SHOWN} AND {upper}"
    args = [account_id, key, *chosen_args, now.isoformat(), *([] if newest is None else [newest])]
    samples = [] if ungrouped_id(key) is not None else db.execute(
        f"SELECT n.id, n.from_account_id, n.created_at {_FROM} WHERE {where}"
        f" ORDER BY n.id DESC LIMIT ?", [*args, SAMPLE_ACCOUNTS]).fetchall()
    if not samples:  # a notification on its own (the head is among a group's samples)
        return NotificationGroup(
            key=key, head=head, notifications_count=1, most_recent_notification_id=head.id,
            sample_account_ids=(head.from_account_id,),
            page_min_id=None if span is None else head.id,
            page_max_id=None if span is None else head.id,
            latest_page_notification_at=None if span is None else head.created_at)
    count, page_min = db.execute(
        f"SELECT count(*), min(CASE WHEN n.id >= ? THEN n.id END) {_FROM} WHERE {where}",
        [0 if span is None else span.oldest or 0, *args]).fetchone()
    latest = samples[0]
    return NotificationGroup(
        key=key, head=head, notifications_count=int(count),
        most_recent_notification_id=int(latest["id"]),
        sample_account_ids=tuple(int(r["from_account_id"]) for r in samples),
        page_min_id=None if span is None else int(page_min or head.id),
        page_max_id=None if span is None else int(latest["id"]),
        latest_page_notification_at=None if span is None
        else datetime.fromisoformat(latest["created_at"]))


def _views(db: Database, groups: Sequence[NotificationGroup],
           viewer_id: int) -> list[NotificationGroupView]:
    """Groups with their sample accounts, statuses and moderation warnings (a handful of
    queries for the page); a group whose first account, status or warning cannot be loaded
    is left out."""
    accounts = get_accounts_by_ids(db, [i for g in groups for i in g.sample_account_ids])
    status_ids = list(dict.fromkeys(g.head.status_id for g in groups
                                    if g.head.status_id is not None))
    statuses = {v.status.id: v for v in load_views(db, status_ids, viewer_id)} \
        if status_ids else {}
    warnings = get_warnings(db, [g.head.account_warning_id for g in groups
                                 if g.head.account_warning_id is not None])
    out = []
    for group in groups:
        sample = tuple(accounts[i] for i in group.sample_account_ids if i in accounts)
        status = None if group.head.status_id is None else statuses.get(group.head.status_id)
        warning_id = group.head.account_warning_id
        warning = None if warning_id is None else warnings.get(warning_id)
        if not sample or (group.head.status_id is not None and status is None) or \
                (warning_id is not None and warning is None):
            continue
        out.append(NotificationGroupView(group=group, accounts=sample, status=status,
                                         warning=warning))
    return out


def list_groups(db: Database, account_id: int, page: Page, wanted: NotificationFilter,
                grouped: Collection[NotificationType], now: datetime,
                ) -> list[NotificationGroupView]:
    """A page of ``account_id``'s notification groups, newest first, in one snapshot."""
    heads = walk_heads(db, account_id, page, page.limit, wanted, grouped, now)
    if not heads:
        return []
    span = PageRange.of_page(heads[-1][1].id, heads[0][1].id, len(heads), page)
    groups = [_describe(db, account_id, key, head, wanted, span, now) for key, head in heads]
    return _views(db, groups, account_id)


def _group_rows(db: Database, account_id: int, key: str, now: datetime, *,
                extra: str = "", args: Sequence[object] = (), order: str = "DESC",
                limit: int = 1) -> list[sqlite3.Row]:
    """The visible notifications of one group (an ``ungrouped-<id>`` key: that one), those
    the owner's policy filtered left out."""
    single = ungrouped_id(key)
    which, value = ("n.id = ?", single) if single is not None else ("n.group_key = ?", key)
    return db.execute(
        f"SELECT {_COLUMNS} {_FROM} WHERE n.account_id = ? AND {which}"
        f" AND n.filtered = 0 AND {_SHOWN}{extra} ORDER BY n.id {order} LIMIT ?",
        [account_id, value, now.isoformat(), *args, limit]).fetchall()


def get_group(db: Database, account_id: int, key: str,
              now: datetime) -> NotificationGroupView | None:
    """One of ``account_id``'s groups by key (its newest notification stands for it), or None
    when they have no visible notification with that key."""
    rows = _group_rows(db, account_id, key, now)
    if not rows:
        return None
    group = _describe(db, account_id, key, _notification(rows[0]), NotificationFilter(), None,
                      now)
    views = _views(db, [group], account_id)
    return views[0] if views else None


def list_group_accounts(db: Database, account_id: int, key: str, page: Page,
                        now: datetime) -> list[tuple[int, Account]] | None:
    """The accounts of a group's notifications, newest first, paged by notification id, as
    ``[(notification id, account)]``; None when the group has no visible notification."""
    if not _group_rows(db, account_id, key, now):
        return None
    where, bounds, order = page_clause("n.id", page)
    rows = _group_rows(db, account_id, key, now, extra=f" AND {where}", args=bounds,
                       order=order, limit=page.limit)
    if order == "ASC":
        rows = list(reversed(rows))
    accounts = get_accounts_by_ids(db, [r["from_account_id"] for r in rows])
    return [(int(r["id"]), accounts[r["from_account_id"]]) for r in rows
            if r["from_account_id"] in accounts]


def delete_group(db: Database, account_id: int, key: str) -> int:
    """Dismiss every notification of one of ``account_id``'s groups (Mastodon destroys
    them); returns how many there were."""
    single = ungrouped_id(key)
    if single is not None:
        return db.execute("DELETE FROM notifications WHERE id = ? AND account_id = ?",
                          [single, account_id]).rowcount
    return db.execute("DELETE FROM notifications WHERE account_id = ? AND group_key = ?",
                      [account_id, key]).rowcount


def count_unread_groups(db: Database, account_id: int, wanted: NotificationFilter,
                        grouped: Collection[NotificationType], after_id: int | None,
                        limit: int, now: datetime) -> int:
    """How many groups the notifications newer than ``after_id`` make, counting at most
    ``limit`` (Mastodon counts ``paginate_groups_by_min_id(limit, min_id: last_read_id)``)."""
    page = Page(min_id=after_id, limit=limit)
    return len(walk_heads(db, account_id, page, limit, wanted, grouped, now))


def get_policy(db: Database, account_id: int) -> NotificationPolicy:
    """The account's notification policy (Mastodon's defaults until changed)."""
    row = db.execute(f"SELECT {', '.join(POLICY_FIELDS)} FROM notification_policies"
                     " WHERE account_id = ?", [account_id]).fetchone()
    if row is None:
        return NotificationPolicy()
    return NotificationPolicy(**{name: PolicyValue(row[name]) for name in POLICY_FIELDS})


def put_policy(db: Database, account_id: int, policy: NotificationPolicy,
               now: datetime) -> NotificationPolicy:
    """Store the account's notification policy; returns it."""
    values = [getattr(policy, name).value for name in POLICY_FIELDS]
    db.execute(
        f"INSERT INTO notification_policies (account_id, {', '.join(POLICY_FIELDS)},"
        f" updated_at) VALUES (?, {', '.join('?' * len(POLICY_FIELDS))}, ?)"
        f" ON CONFLICT (account_id) DO UPDATE SET "
        + ", ".join(f"{name} = excluded.{name}" for name in POLICY_FIELDS)
        + ", updated_at = excluded.updated_at",
        [account_id, *values, now.isoformat()])
    return policy
