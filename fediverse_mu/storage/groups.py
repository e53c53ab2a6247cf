"""The group tables (``groups``, ``group_moderators``, ``group_bans``, ``group_posts``,
``group_log``) and the group-related questions asked of ``follows`` and ``statuses``: who is a
member (an accepted follower of the group), which groups boosted a status, which follow
requests a moderator may answer."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime

from fediverse_mu.domain.accounts import Account
from fediverse_mu.domain.follows import Follow, FollowState
from fediverse_mu.domain.groups import Group, GroupAction, GroupLogEntry, GroupPost, JoinPolicy
from fediverse_mu.domain.pagination import Page
from fediverse_mu.storage.accounts import (
    _ACCOUNT_COLUMNS,
    _account,
    get_account_by_id,
    get_accounts_by_ids,
)
from fediverse_mu.storage.db import Database
from fediverse_mu.storage.pagination import page_clause

_POST_COLUMNS = "id, group_id, status_id, announce_uri, note_json, removed_at, created_at"


def _dt(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


# -- settings ------------------------------------------------------------------------------------


def put_group(db: Database, *, account_id: int, charter: str, join_policy: JoinPolicy,
              members_only: bool, language: str, created_by: int | None,
              now: datetime) -> None:
    """Record the settings of a new local group (its account already exists)."""
    db.execute(
        "INSERT INTO groups (account_id, charter, join_policy, members_only, closed, language,"
        " created_by, created_at, updated_at) VALUES (?, ?, ?, ?, 0, ?, ?, ?, ?)",
        [account_id, charter, join_policy.value, int(members_only), language, created_by,
         now.isoformat(), now.isoformat()])
    db.execute("UPDATE accounts SET locked = ? WHERE id = ?",
               [int(join_policy is JoinPolicy.APPROVAL), account_id])


def moderator_ids(db: Database, group_id: int) -> list[int]:
    """The accounts moderating a group, oldest first."""
    return [r[0] for r in db.execute(
        "SELECT account_id FROM group_moderators WHERE group_id = ? ORDER BY created_at,"
        " account_id", [group_id])]


def get_group(db: Database, account_id: int) -> Group | None:
    """A local group by its account id (None for any other account)."""
    row = db.execute("SELECT * FROM groups WHERE account_id = ?", [account_id]).fetchone()
    if row is None:
        return None
    account = get_account_by_id(db, account_id)
    if account is None:
        return None
    return Group(account=account, charter=row["charter"],
                 join_policy=JoinPolicy(row["join_policy"]),
                 members_only=bool(row["members_only"]), closed=bool(row["closed"]),
                 language=row["language"], moderator_ids=tuple(moderator_ids(db, account_id)),
                 created_at=datetime.fromisoformat(row["created_at"]))


def get_group_by_name(db: Database, name: str) -> Group | None:
    """A local group by its username (case-insensitive)."""
    row = db.execute("SELECT a.id FROM accounts a JOIN groups g ON g.account_id = a.id"
                     " WHERE lower(a.username) = lower(?) AND a.domain IS NULL",
                     [name]).fetchone()
    return None if row is None else get_group(db, row[0])


def list_groups(db: Database, *, limit: int = 100) -> list[Group]:
    """Local groups, newest first."""
    ids = [r[0] for r in db.execute("SELECT account_id FROM groups ORDER BY account_id DESC"
                                    " LIMIT ?", [limit])]
    return [g for g in (get_group(db, i) for i in ids) if g is not None]


def update_group(db: Database, group_id: int, *, title: str, charter: str, summary: str,
                 join_policy: JoinPolicy, members_only: bool, closed: bool,
                 now: datetime) -> None:
    """Replace a group's settings (and the account fields derived from them)."""
    db.execute("UPDATE groups SET charter = ?, join_policy = ?, members_only = ?, closed = ?,"
               " updated_at = ? WHERE account_id = ?",
               [charter, join_policy.value, int(members_only), int(closed), now.isoformat(),
                group_id])
    db.execute("UPDATE accounts SET display_name = ?, note = ?, locked = ?, updated_at = ?"
               " WHERE id = ?", [title, summary, int(join_policy is JoinPolicy.APPROVAL),
                                 now.isoformat(), group_id])


def add_moderator(db: Database, group_id: int, account_id: int, now: datetime) -> bool:
    """Make an account a moderator; False when it already was."""
    return db.execute("INSERT OR IGNORE INTO group_moderators (group_id, account_id,"
                      " created_at) VALUES (?, ?, ?)",
                      [group_id, account_id, now.isoformat()]).rowcount > 0


def moderated_group_ids(db: Database, account_id: int) -> list[int]:
    """The groups an account moderates."""
    return [r[0] for r in db.execute(
        "SELECT group_id FROM group_moderators WHERE account_id = ?", [account_id])]


def local_moderator_ids(db: Database, group_id: int) -> list[int]:
    """The local accounts moderating a group (who get its follow requests)."""
    return [r[0] for r in db.execute(
        "SELECT m.account_id FROM group_moderators m JOIN accounts a ON a.id = m.account_id"
        " WHERE m.group_id = ? AND a.domain IS NULL", [group_id])]


# -- members and bans ----------------------------------------------------------------------------


def is_member(db: Database, group_id: int, account_id: int) -> bool:
    """True when the account's follow of the group is accepted."""
    return db.execute("SELECT 1 FROM follows WHERE follower_id = ? AND followee_id = ?"
                      " AND state = 'accepted'", [account_id, group_id]).fetchone() is not None


def count_members(db: Database, group_id: int) -> int:
    """How many accounts are members of a group."""
    return int(db.execute("SELECT count(*) FROM follows WHERE followee_id = ?"
                          " AND state = 'accepted'", [group_id]).fetchone()[0])


def is_banned(db: Database, group_id: int, account_id: int) -> bool:
    """True when the group banned the account."""
    return db.execute("SELECT 1 FROM group_bans WHERE group_id = ? AND account_id = ?",
                      [group_id, account_id]).fetchone() is not None


def put_ban(db: Database, group_id: int, account_id: int, reason: str, now: datetime) -> None:
    """Ban an account from a group."""
    db.execute("INSERT OR REPLACE INTO group_bans (group_id, account_id, reason, created_at)"
               " VALUES (?, ?, ?, ?)", [group_id, account_id, reason, now.isoformat()])


def delete_ban(db: Database, group_id: int, account_id: int) -> bool:
    """Lift a ban; False when there was none."""
    return db.execute("DELETE FROM group_bans WHERE group_id = ? AND account_id = ?",
                      [group_id, account_id]).rowcount > 0


def list_bans(db: Database, group_id: int) -> list[tuple[Account, str]]:
    """Banned accounts with the reason, newest first."""
    rows = db.execute("SELECT account_id, reason FROM group_bans WHERE group_id = ?"
                      " ORDER BY created_at DESC", [group_id]).fetchall()
    accounts = get_accounts_by_ids(db, [r[0] for r in rows])
    return [(accounts[r[0]], r[1]) for r in rows if r[0] in accounts]


def list_members(db: Database, group_id: int, *, limit: int = 200) -> list[Account]:
    """Members, newest first."""
    rows = db.execute(
        f"SELECT {', '.join('a.' + c for c in _ACCOUNT_COLUMNS.split(', '))}"
        " FROM follows f JOIN accounts a ON a.id = f.follower_id WHERE f.followee_id = ?"
        " AND f.state = 'accepted' ORDER BY f.id DESC LIMIT ?", [group_id, limit]).fetchall()
    return [_account(r) for r in rows]


def pending_requests(db: Database, group_id: int) -> list[Account]:
    """Accounts waiting for a moderator's answer, oldest first."""
    rows = db.execute(
        f"SELECT {', '.join('a.' + c for c in _ACCOUNT_COLUMNS.split(', '))}"
        " FROM follows f JOIN accounts a ON a.id = f.follower_id WHERE f.followee_id = ?"
        " AND f.state = 'pending' ORDER BY f.id", [group_id]).fetchall()
    return [_account(r) for r in rows]


def moderated_request(db: Database, moderator_id: int, requester_id: int) -> Follow | None:
    """The oldest pending request of ``requester_id`` to join a group ``moderator_id``
    moderates (what a moderator answers from the follow-requests screen)."""
    row = db.execute(
        "SELECT f.id, f.follower_id, f.followee_id, f.state, f.uri FROM follows f"
        " JOIN group_moderators m ON m.group_id = f.followee_id AND m.account_id = ?"
        " WHERE f.follower_id = ? AND f.state = 'pending' ORDER BY f.id LIMIT 1",
        [moderator_id, requester_id]).fetchone()
    return None if row is None else Follow(id=row[0], follower_id=row[1], followee_id=row[2],
                                           state=FollowState(row[3]), uri=row[4])


# -- announced posts -----------------------------------------------------------------------------


def _post(row: sqlite3.Row) -> GroupPost:
    (id_, group_id, status_id, announce_uri, note_json, removed_at, created_at) = row
    return GroupPost(id=id_, group_id=group_id, status_id=status_id, announce_uri=announce_uri,
                     note_json=note_json, removed_at=_dt(removed_at),
                     created_at=datetime.fromisoformat(created_at))


def put_group_post(db: Database, *, group_id: int, status_id: int, announce_uri: str,
                   note_json: str | None, now: datetime) -> GroupPost | None:
    """Record that a group announced a status; None when it already had."""
    row = db.execute(
        "INSERT OR IGNORE INTO group_posts (group_id, status_id, announce_uri, note_json,"
        f" created_at) VALUES (?, ?, ?, ?, ?) RETURNING {_POST_COLUMNS}",
        [group_id, status_id, announce_uri, note_json, now.isoformat()]).fetchone()
    return None if row is None else _post(row)


def get_group_post(db: Database, group_id: int, status_id: int) -> GroupPost | None:
    """A group's record of a status it announced."""
    row = db.execute(f"SELECT {_POST_COLUMNS} FROM group_posts WHERE group_id = ? AND"
                     " status_id = ?", [group_id, status_id]).fetchone()
    return None if row is None else _post(row)


def group_posts_of_status(db: Database, status_id: int) -> list[GroupPost]:
    """Every local group's record of a status (usually one)."""
    return [_post(r) for r in db.execute(
        f"SELECT {_POST_COLUMNS} FROM group_posts WHERE status_id = ?", [status_id])]


def mark_removed(db: Database, post_id: int, now: datetime) -> None:
    """A moderator took the post out of the group."""
    db.execute("UPDATE group_posts SET removed_at = ? WHERE id = ? AND removed_at IS NULL",
               [now.isoformat(), post_id])


def group_status_ids(db: Database, group_id: int, page: Page) -> list[int]:
    """A page of the statuses a group announced and did not remove, newest first."""
    where, extra, order = page_clause("p.id", page)
    rows = db.execute(
        "SELECT p.id, p.status_id FROM group_posts p JOIN statuses s ON s.id = p.status_id"
        f" WHERE p.group_id = ? AND p.removed_at IS NULL AND s.deleted_at IS NULL AND {where}"
        f" ORDER BY p.id {order} LIMIT ?", [group_id, *extra, min(page.limit, 40)]).fetchall()
    return [r[1] for r in sorted(rows, reverse=True)]


def groups_boosting(db: Database, status_id: int) -> list[Account]:
    """The Group accounts (local or remote) with a live boost of a status: a reply to it, or
    a favourite of it, goes to them too (so it stays in the group)."""
    rows = db.execute(
        f"SELECT {', '.join('a.' + c for c in _ACCOUNT_COLUMNS.split(', '))}"
        " FROM statuses b JOIN accounts a ON a.id = b.account_id WHERE b.reblog_of_id = ?"
        " AND b.deleted_at IS NULL AND a.actor_type = 'Group'", [status_id]).fetchall()
    return [_account(r) for r in rows]


def group_boost(db: Database, group_id: int, status_id: int) -> int | None:
    """The id of a group's live boost of a status."""
    row = db.execute("SELECT id FROM statuses WHERE reblog_of_id = ? AND account_id = ?"
                     " AND deleted_at IS NULL", [status_id, group_id]).fetchone()
    return None if row is None else int(row[0])


def held_only_for_groups(db: Database, status_id: int, author_id: int) -> bool:
    """True when a remote status is here only because a group brought it: no local account
    follows its author, is mentioned in it, or wrote what it replies to."""
    row = db.execute(
        "SELECT s.local, (SELECT 1 FROM follows f JOIN accounts fa ON fa.id = f.follower_id"
        "  WHERE f.followee_id = ? AND f.state = 'accepted' AND fa.domain IS NULL LIMIT 1),"
        " (SELECT 1 FROM mentions m JOIN accounts ma ON ma.id = m.account_id"
        "  WHERE m.status_id = s.id AND ma.domain IS NULL AND ma.actor_type != 'Group' LIMIT 1),"
        " (SELECT p.local FROM statuses p WHERE p.id = s.in_reply_to_id)"
        " FROM statuses s WHERE s.id = ?", [author_id, status_id]).fetchone()
    if row is None or row[0]:
        return False
    return not (row[1] or row[2] or row[3])


# -- moderation log ------------------------------------------------------------------------------


def put_log(db: Database, *, group_id: int, moderator_id: int | None, action: GroupAction,
            target: str, detail: str, now: datetime) -> None:
    """Record a moderation action."""
    db.execute("INSERT INTO group_log (group_id, moderator_id, action, target, detail,"
               " created_at) VALUES (?, ?, ?, ?, ?, ?)",
               [group_id, moderator_id, action.value, target, detail, now.isoformat()])


def list_log(db: Database, group_id: int, *, limit: int = 100) -> list[GroupLogEntry]:
    """A group's moderation log, newest first."""
    rows = db.execute("SELECT * FROM group_log WHERE group_id = ? ORDER BY id DESC LIMIT ?",
                      [group_id, limit]).fetchall()
    accounts = get_accounts_by_ids(db, [r["moderator_id"] for r in rows
                                        if r["moderator_id"] is not None])
    return [GroupLogEntry(id=r["id"], group_id=r["group_id"],
                          moderator=accounts.get(r["moderator_id"]),
                          action=GroupAction(r["action"]), target=r["target"],
                          detail=r["detail"], created_at=datetime.fromisoformat(r["created_at"]))
            for r in rows]


def moderated_follow_ids(db: Database, moderator_id: int, ids: Sequence[int]) -> set[int]:
    """Which of these groups ``moderator_id`` moderates."""
    if not ids:
        return set()
    return {r[0] for r in db.execute(
        f"SELECT group_id FROM group_moderators WHERE account_id = ? AND group_id IN"
        f" ({','.join('?' * len(ids))})", [moderator_id, *ids])}
