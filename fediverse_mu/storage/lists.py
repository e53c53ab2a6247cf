"""The ``lists``, ``list_accounts`` and ``list_feed`` tables. A list feed is filled on write
(fan-out, like ``home_feed``): a new status goes into the lists that include its author and
whose owner receives it at home; an exclusive list then keeps it out of that home feed. When
members come and go or a list turns exclusive, the feeds are brought in line here, in the same
transaction. A list timeline page is one index range of ``list_feed``; the replies policy is
applied on that range at read time, so changing it takes effect at once."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from datetime import datetime

from fediverse_mu.domain.accounts import Account
from fediverse_mu.domain.lists import AccountList, RepliesPolicy
from fediverse_mu.domain.pagination import Page
from fediverse_mu.domain.statuses import Status, Visibility
from fediverse_mu.storage.accounts import get_accounts_by_ids
from fediverse_mu.storage.db import Database
from fediverse_mu.storage.pagination import page_clause

_COLUMNS = "id, account_id, title, replies_policy, exclusive, created_at"
MAX_PAGE = 40


def _list(row: sqlite3.Row) -> AccountList:
    return AccountList(id=row["id"], account_id=row["account_id"], title=row["title"],
                       replies_policy=RepliesPolicy(row["replies_policy"]),
                       exclusive=bool(row["exclusive"]),
                       created_at=datetime.fromisoformat(row["created_at"]))


def _marks(values: Sequence[object]) -> str:
    return ",".join("?" * len(values))


# -- the lists themselves --------------------------------------------------------------------


def count_lists(db: Database, account_id: int) -> int:
    """How many lists an account owns."""
    return int(db.execute("SELECT count(*) FROM lists WHERE account_id = ?",
                          [account_id]).fetchone()[0])


def put_list(db: Database, account_id: int, title: str, replies_policy: RepliesPolicy,
             exclusive: bool, now: datetime) -> AccountList:
    """Create a list."""
    row = db.execute(f"INSERT INTO lists (account_id, title, replies_policy, exclusive,"
                     f" created_at) VALUES (?, ?, ?, ?, ?) RETURNING {_COLUMNS}",
                     [account_id, title, replies_policy.value, int(exclusive),
                      now.isoformat()]).fetchone()
    return _list(row)


def get_list(db: Database, list_id: int) -> AccountList | None:
    """A list by id."""
    row = db.execute(f"SELECT {_COLUMNS} FROM lists WHERE id = ?", [list_id]).fetchone()
    return None if row is None else _list(row)


def get_list_by_title(db: Database, account_id: int, title: str) -> AccountList | None:
    """An account's (oldest) list with exactly this title."""
    row = db.execute(f"SELECT {_COLUMNS} FROM lists WHERE account_id = ? AND title = ?"
                     " ORDER BY id LIMIT 1", [account_id, title]).fetchone()
    return None if row is None else _list(row)


def list_lists(db: Database, account_id: int) -> list[AccountList]:
    """An account's lists, oldest first."""
    return [_list(r) for r in db.execute(
        f"SELECT {_COLUMNS} FROM lists WHERE account_id = ? ORDER BY id", [account_id])]


def lists_with_member(db: Database, owner_id: int, member_id: int) -> list[AccountList]:
    """The lists of ``owner_id`` that include ``member_id``."""
    return [_list(r) for r in db.execute(
        "SELECT l.id, l.account_id, l.title, l.replies_policy, l.exclusive, l.created_at"
        " FROM list_accounts la JOIN lists l ON l.id = la.list_id"
        " WHERE la.account_id = ? AND l.account_id = ? ORDER BY l.id", [member_id, owner_id])]


def update_list(db: Database, lst: AccountList, *, title: str, replies_policy: RepliesPolicy,
                exclusive: bool) -> AccountList:
    """Change a list; turning ``exclusive`` on takes its statuses out of the owner's home feed,
    turning it off puts them back."""
    if exclusive and not lst.exclusive:
        _hide_from_home(db, lst, None)
    elif lst.exclusive and not exclusive:
        _restore_home(db, lst, None)
    row = db.execute(f"UPDATE lists SET title = ?, replies_policy = ?, exclusive = ?"
                     f" WHERE id = ? RETURNING {_COLUMNS}",
                     [title, replies_policy.value, int(exclusive), lst.id]).fetchone()
    return _list(row)


def delete_list(db: Database, lst: AccountList) -> None:
    """Delete a list, its members and its feed (an exclusive list gives its statuses back to
    the owner's home feed)."""
    if lst.exclusive:
        _restore_home(db, lst, None)
    db.execute("DELETE FROM lists WHERE id = ?", [lst.id])


# -- members -----------------------------------------------------------------------------------


def member_ids(db: Database, list_id: int, account_ids: Sequence[int]) -> set[int]:
    """Which of ``account_ids`` are members of the list."""
    if not account_ids:
        return set()
    return {r[0] for r in db.execute(
        f"SELECT account_id FROM list_accounts WHERE list_id = ? AND account_id IN"
        f" ({_marks(account_ids)})", [list_id, *account_ids])}


def followed_ids(db: Database, follower_id: int, account_ids: Sequence[int]) -> set[int]:
    """Which of ``account_ids`` ``follower_id`` follows or has asked to follow."""
    if not account_ids:
        return set()
    return {r[0] for r in db.execute(
        f"SELECT followee_id FROM follows WHERE follower_id = ? AND followee_id IN"
        f" ({_marks(account_ids)})", [follower_id, *account_ids])}


def add_members(db: Database, lst: AccountList, account_ids: Sequence[int],
                now: datetime) -> None:
    """Add members (the caller checked they may be added) and copy their statuses the owner
    already has (at home or in another list) into the list's feed."""
    for account_id in dict.fromkeys(account_ids):
        db.execute("INSERT INTO list_accounts (list_id, account_id, created_at)"
                   " VALUES (?, ?, ?)", [lst.id, account_id, now.isoformat()])
        db.execute(
            "INSERT OR IGNORE INTO list_feed (list_id, status_id)"
            " SELECT ?, s.id FROM statuses s WHERE s.account_id = ? AND s.deleted_at IS NULL"
            " AND s.visibility != 'direct'"
            " AND (EXISTS (SELECT 1 FROM home_feed h WHERE h.account_id = ?"
            "  AND h.status_id = s.id)"
            " OR EXISTS (SELECT 1 FROM list_feed f JOIN lists l ON l.id = f.list_id"
            "  WHERE f.status_id = s.id AND l.account_id = ?))",
            [lst.id, account_id, lst.account_id, lst.account_id])
    if lst.exclusive:
        _hide_from_home(db, lst, list(account_ids))


def remove_members(db: Database, lst: AccountList, account_ids: Sequence[int]) -> None:
    """Remove members and their statuses from the list's feed (back to the owner's home feed
    when the list was exclusive)."""
    ids = list(dict.fromkeys(account_ids))
    if not ids:
        return
    if lst.exclusive:
        _restore_home(db, lst, ids)
    marks = _marks(ids)
    db.execute(f"DELETE FROM list_feed WHERE list_id = ? AND status_id IN"
               f" (SELECT id FROM statuses WHERE account_id IN ({marks}))", [lst.id, *ids])
    db.execute(f"DELETE FROM list_accounts WHERE list_id = ? AND account_id IN ({marks})",
               [lst.id, *ids])


def list_members(db: Database, list_id: int,
                 page: Page | None) -> list[tuple[int, Account]]:
    """(membership id, account) pairs, newest membership first; ``page`` None: all of them."""
    if page is None:
        rows = db.execute("SELECT id, account_id FROM list_accounts WHERE list_id = ?"
                          " ORDER BY id DESC", [list_id]).fetchall()
    else:
        where, extra, order = page_clause("id", page)
        rows = db.execute(f"SELECT id, account_id FROM list_accounts WHERE list_id = ?"
                          f" AND {where} ORDER BY id {order} LIMIT ?",
                          [list_id, *extra, page.limit]).fetchall()
    pairs = sorted(((r[0], r[1]) for r in rows), reverse=True)
    accounts = get_accounts_by_ids(db, [a for _, a in pairs])
    return [(i, accounts[a]) for i, a in pairs if a in accounts]


# -- feeds -------------------------------------------------------------------------------------


def _member_clause(member_ids: Sequence[int] | None) -> tuple[str, list[int]]:
    if member_ids is None:
        return "", []
    return f" AND s.account_id IN ({_marks(member_ids)})", list(member_ids)


def _hide_from_home(db: Database, lst: AccountList, members: Sequence[int] | None) -> None:
    """Take the list's statuses (by ``members``, or all) out of the owner's home feed; the
    owner's own statuses always stay."""
    extra_sql, extra = _member_clause(members)
    db.execute("DELETE FROM home_feed WHERE account_id = ? AND status_id IN"
               " (SELECT f.status_id FROM list_feed f JOIN statuses s ON s.id = f.status_id"
               f" WHERE f.list_id = ? AND s.account_id != ?{extra_sql})",
               [lst.account_id, lst.id, lst.account_id, *extra])


def _restore_home(db: Database, lst: AccountList, members: Sequence[int] | None) -> None:
    """Put the list's statuses (by ``members``, or all) back in the owner's home feed, except
    those whose author is in another exclusive list of the owner."""
    extra_sql, extra = _member_clause(members)
    db.execute("INSERT OR IGNORE INTO home_feed (account_id, status_id)"
               " SELECT ?, f.status_id FROM list_feed f JOIN statuses s ON s.id = f.status_id"
               f" WHERE f.list_id = ?{extra_sql} AND NOT EXISTS (SELECT 1 FROM list_accounts la"
               "  JOIN lists l ON l.id = la.list_id WHERE la.account_id = s.account_id"
               "  AND l.account_id = ? AND l.exclusive = 1 AND l.id != ?)",
               [lst.account_id, lst.id, *extra, lst.account_id, lst.id])


def fan_out(db: Database, status: Status, recipients: Iterable[int]) -> list[int]:
    """Put a new status in the lists that include its author and belong to one of
    ``recipients`` (the local accounts about to get it at home); returns the recipients whose
    home feed should still get it: owners of an exclusive list including the author are left
    out (but the author is never kept out of their own home). Direct statuses skip lists."""
    wanted = list(dict.fromkeys(recipients))
    if status.visibility is Visibility.DIRECT or not wanted:
        return wanted
    owners = set(wanted)
    feeds: list[tuple[int, int]] = []
    away: set[int] = set()
    for row in db.execute("SELECT l.id, l.account_id, l.exclusive FROM list_accounts la"
                          " JOIN lists l ON l.id = la.list_id WHERE la.account_id = ?",
                          [status.account_id]):
        if row["account_id"] not in owners:
            continue
        feeds.append((row["id"], status.id))
        if row["exclusive"] and row["account_id"] != status.account_id:
            away.add(row["account_id"])
    db.conn.executemany("INSERT OR IGNORE INTO list_feed (list_id, status_id) VALUES (?, ?)",
                        feeds)
    return [a for a in wanted if a not in away]


def list_timeline_ids(db: Database, lst: AccountList, page: Page) -> list[int]:
    """A page of a list's feed, newest first, with its replies policy applied: replies show
    when they answer the author themself (threads), the owner, or, by policy, an account the
    owner follows (``followed``) or a member of the list (``list``)."""
    allowed = "s.in_reply_to_account_id IN (s.account_id, ?)"
    params: list[object] = [lst.id, lst.account_id]
    if lst.replies_policy is RepliesPolicy.FOLLOWED:
        allowed += (" OR EXISTS (SELECT 1 FROM follows fo WHERE fo.follower_id = ?"
                    " AND fo.followee_id = s.in_reply_to_account_id AND fo.state = 'accepted')")
        params.append(lst.account_id)
    elif lst.replies_policy is RepliesPolicy.LIST:
        allowed += (" OR EXISTS (SELECT 1 FROM list_accounts m WHERE m.list_id = f.list_id"
                    " AND m.account_id = s.in_reply_to_account_id)")
    where, extra, order = page_clause("f.status_id", page)
    rows = db.execute(
        "SELECT f.status_id FROM list_feed f JOIN statuses s ON s.id = f.status_id"
        " WHERE f.list_id = ? AND s.deleted_at IS NULL"
        " AND ((s.in_reply_to_id IS NULL AND s.in_reply_to_uri IS NULL)"
        f" OR {allowed}) AND {where} ORDER BY f.status_id {order} LIMIT ?",
        [*params, *extra, min(page.limit, MAX_PAGE)])
    return sorted((r[0] for r in rows), reverse=True)
