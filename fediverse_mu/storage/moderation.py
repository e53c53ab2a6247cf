"""Reports, their notes, account warnings, the moderation state of accounts (``silenced_at``,
``suspended_at``) and the domains residents hide (``account_domain_blocks``). The SQL
fragments :data:`HIDDEN_AUTHOR` and :func:`hidden_author_for` are what timeline queries add to
keep silenced and suspended accounts out."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from datetime import datetime
from typing import cast

from fediverse_mu.domain.accounts import Account
from fediverse_mu.domain.moderation import (
    AccountAction,
    AccountWarning,
    AdminAccount,
    LocalStanding,
    ModerationState,
    Report,
    ReportCategory,
    ReportNote,
)
from fediverse_mu.storage.accounts import (
    _ACCOUNT_COLUMNS,
    _account,
    get_accounts_by_ids,
    get_user_by_account_id,
)
from fediverse_mu.storage.db import Database

# For a query over statuses ``s``: true when the author is silenced or suspended (itself or
# through its domain), so public timelines leave it out.
HIDDEN_AUTHOR = (
    "EXISTS (SELECT 1 FROM accounts ma WHERE ma.id = s.account_id AND"
    " (ma.silenced_at IS NOT NULL OR ma.suspended_at IS NOT NULL OR (ma.domain IS NOT NULL"
    " AND ma.domain IN (SELECT domain FROM domain_blocks WHERE severity IN"
    " ('silence', 'suspend')))))")

_REPORT_COLUMNS = ("id, account_id, target_account_id, status_ids, rule_ids, comment, category,"
                   " forwarded, assigned_account_id, action_taken_at,"
                   " action_taken_by_account_id, uri, created_at, updated_at")


def _dt(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _report(row: sqlite3.Row) -> Report:
    return Report(
        id=row["id"], account_id=row["account_id"], target_account_id=row["target_account_id"],
        status_ids=tuple(json.loads(row["status_ids"])),
        rule_ids=tuple(json.loads(row["rule_ids"])), comment=row["comment"],
        category=ReportCategory(row["category"]), forwarded=bool(row["forwarded"]),
        assigned_account_id=row["assigned_account_id"],
        action_taken_at=_dt(row["action_taken_at"]),
        action_taken_by_account_id=row["action_taken_by_account_id"], uri=row["uri"],
        created_at=datetime.fromisoformat(row["created_at"]),
        updated_at=datetime.fromisoformat(row["updated_at"]))


# -- reports -----------------------------------------------------------------------------------


def put_report(db: Database, *, account_id: int, target_account_id: int,
               status_ids: list[int], rule_ids: list[int], comment: str,
               category: ReportCategory, forwarded: bool, uri: str | None,
               now: datetime) -> Report:
    """Create a report."""
    row = db.execute(
        "INSERT INTO reports (account_id, target_account_id, status_ids, rule_ids, comment,"
        " category, forwarded, uri, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        f" RETURNING {_REPORT_COLUMNS}",
        [account_id, target_account_id, json.dumps(status_ids), json.dumps(rule_ids), comment,
         category.value, int(forwarded), uri, now.isoformat(), now.isoformat()]).fetchone()
    return _report(row)


def set_report_uri(db: Database, report_id: int, uri: str) -> None:
    """Record the id of the Flag a report was forwarded as."""
    db.execute("UPDATE reports SET uri = ?, forwarded = 1 WHERE id = ?", [uri, report_id])


def get_report(db: Database, report_id: int) -> Report | None:
    """A report by id."""
    row = db.execute(f"SELECT {_REPORT_COLUMNS} FROM reports WHERE id = ?",
                     [report_id]).fetchone()
    return None if row is None else _report(row)


def get_report_by_uri(db: Database, uri: str) -> Report | None:
    """A report by the id of its Flag."""
    row = db.execute(f"SELECT {_REPORT_COLUMNS} FROM reports WHERE uri = ?", [uri]).fetchone()
    return None if row is None else _report(row)


def list_reports(db: Database, *, resolved: bool | None, target_account_id: int | None,
                 max_id: int | None, limit: int) -> list[Report]:
    """Reports, newest first."""
    sql = f"SELECT {_REPORT_COLUMNS} FROM reports WHERE 1 = 1"
    args: list[object] = []
    if resolved is not None:
        sql += " AND action_taken_at IS NOT NULL" if resolved else \
            " AND action_taken_at IS NULL"
    if target_account_id is not None:
        sql += " AND target_account_id = ?"
        args.append(target_account_id)
    if max_id is not None:
        sql += " AND id < ?"
        args.append(max_id)
    sql += " ORDER BY id DESC LIMIT ?"
    args.append(limit)
    return [_report(r) for r in db.execute(sql, args)]


def count_open_reports(db: Database) -> int:
    """Reports not resolved yet."""
    return int(db.execute("SELECT count(*) FROM reports WHERE action_taken_at IS NULL")
               .fetchone()[0])


def assign_report(db: Database, report_id: int, account_id: int | None, now: datetime) -> None:
    """Assign a report to a moderator (or to nobody)."""
    db.execute("UPDATE reports SET assigned_account_id = ?, updated_at = ? WHERE id = ?",
               [account_id, now.isoformat(), report_id])


def resolve_report(db: Database, report_id: int, account_id: int | None,
                   now: datetime | None) -> None:
    """Mark a report resolved by ``account_id`` (``now`` None: reopen it)."""
    db.execute("UPDATE reports SET action_taken_at = ?, action_taken_by_account_id = ?,"
               " updated_at = coalesce(?, updated_at) WHERE id = ?",
               [None if now is None else now.isoformat(), None if now is None else account_id,
                None if now is None else now.isoformat(), report_id])


def put_report_note(db: Database, report_id: int, account_id: int, content: str,
                    now: datetime) -> ReportNote:
    """Add a moderator's note to a report."""
    row = db.execute("INSERT INTO report_notes (report_id, account_id, content, created_at)"
                     " VALUES (?, ?, ?, ?) RETURNING id, report_id, account_id, content,"
                     " created_at", [report_id, account_id, content, now.isoformat()]).fetchone()
    return ReportNote(id=row["id"], report_id=row["report_id"], account_id=row["account_id"],
                      content=row["content"], created_at=datetime.fromisoformat(row["created_at"]))


def list_report_notes(db: Database, report_id: int) -> list[ReportNote]:
    """A report's notes, oldest first."""
    return [ReportNote(id=r["id"], report_id=r["report_id"], account_id=r["account_id"],
                       content=r["content"], created_at=datetime.fromisoformat(r["created_at"]))
            for r in db.execute("SELECT id, report_id, account_id, content, created_at"
                                " FROM report_notes WHERE report_id = ? ORDER BY id",
                                [report_id])]


def statuses_of_account(db: Database, account_id: int, status_ids: list[int]) -> list[int]:
    """Which of ``status_ids`` exist and were written by ``account_id``."""
    if not status_ids:
        return []
    marks = ",".join("?" * len(status_ids))
    return [r[0] for r in db.execute(
        f"SELECT id FROM statuses WHERE account_id = ? AND id IN ({marks})",
        [account_id, *status_ids])]


def existing_rule_ids(db: Database, rule_ids: list[int]) -> set[int]:
    """Which of ``rule_ids`` are rules."""
    if not rule_ids:
        return set()
    marks = ",".join("?" * len(rule_ids))
    return {r[0] for r in db.execute(f"SELECT id FROM rules WHERE id IN ({marks})", rule_ids)}


def status_uris(db: Database, status_ids: list[int]) -> list[str]:
    """The ActivityPub ids of some statuses."""
    if not status_ids:
        return []
    marks = ",".join("?" * len(status_ids))
    return [r[0] for r in db.execute(f"SELECT uri FROM statuses WHERE id IN ({marks})"
                                     " ORDER BY id", status_ids)]


def status_ids_by_uris(db: Database, account_id: int, uris: list[str]) -> list[int]:
    """The ids of the statuses of ``account_id`` among ``uris`` (unknown ones left out)."""
    if not uris:
        return []
    marks = ",".join("?" * len(uris))
    return [r[0] for r in db.execute(
        f"SELECT id FROM statuses WHERE account_id = ? AND (uri IN ({marks}) OR url IN"
        f" ({marks})) ORDER BY id", [account_id, *uris, *uris])]


# -- account state -----------------------------------------------------------------------------


def _state(row: sqlite3.Row) -> ModerationState:
    return ModerationState(account_id=row["id"], silenced_at=_dt(row["silenced_at"]),
                           suspended_at=_dt(row["suspended_at"]),
                           domain_silenced=row["domain_severity"] == "silence",
                           domain_suspended=row["domain_severity"] == "suspend")


_STATE_SQL = ("SELECT a.id, a.silenced_at, a.suspended_at, (SELECT b.severity FROM domain_blocks"
              " b WHERE a.domain IS NOT NULL AND b.domain = a.domain) AS domain_severity"
              " FROM accounts a")


def get_states(db: Database, account_ids: list[int]) -> dict[int, ModerationState]:
    """The moderation state of several accounts."""
    found: dict[int, ModerationState] = {}
    unique = list(dict.fromkeys(account_ids))
    for start in range(0, len(unique), 500):
        chunk = unique[start:start + 500]
        marks = ",".join("?" * len(chunk))
        for row in db.execute(f"{_STATE_SQL} WHERE a.id IN ({marks})", chunk):
            found[row["id"]] = _state(row)
    return found


def get_state(db: Database, account_id: int) -> ModerationState:
    """The moderation state of one account."""
    return get_states(db, [account_id]).get(account_id, ModerationState(account_id))


def entity_flags(db: Database, accounts: Sequence[Account]) -> dict[int, tuple[bool, bool]]:
    """``(suspended, limited)`` for those of ``accounts`` that are either, themselves or
    through their domain (a handful of index lookups: a timeline page asks for ~40)."""
    found: dict[int, tuple[bool, bool]] = {}
    ids = list(dict.fromkeys(a.id for a in accounts))
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        for row in db.execute(
                "SELECT id, suspended_at IS NOT NULL, silenced_at IS NOT NULL FROM accounts"
                f" WHERE id IN ({','.join('?' * len(chunk))}) AND (suspended_at IS NOT NULL"
                " OR silenced_at IS NOT NULL)", chunk):
            found[row[0]] = (bool(row[1]), bool(row[2]))
    domains = list(dict.fromkeys(a.domain for a in accounts if a.domain is not None))
    severities: dict[str, str] = {}
    for start in range(0, len(domains), 500):
        chunk_domains = domains[start:start + 500]
        severities.update((r[0], r[1]) for r in db.execute(
            "SELECT domain, severity FROM domain_blocks WHERE severity IN ('silence', 'suspend')"
            f" AND domain IN ({','.join('?' * len(chunk_domains))})", chunk_domains))
    for acc in accounts:
        severity = severities.get(acc.domain or "")
        if severity is not None:
            suspended, limited = found.get(acc.id, (False, False))
            found[acc.id] = (suspended or severity == "suspend", limited or severity == "silence")
    return found


def is_hidden_author(db: Database, account_id: int) -> bool:
    """True when public timelines leave this account out (:data:`HIDDEN_AUTHOR`)."""
    return db.execute(f"SELECT 1 FROM (SELECT ? AS account_id) s WHERE {HIDDEN_AUTHOR}",
                      [account_id]).fetchone() is not None


def local_standing(db: Database, username: str) -> LocalStanding | None:
    """A local account by name with whether it is pending (not approved) and suspended, in
    one query (the actor, WebFinger and inbox ask on every request)."""
    row = db.execute(
        f"SELECT {_ACCOUNT_COLUMNS}, suspended_at, (SELECT approved FROM users u"
        " WHERE u.account_id = accounts.id) FROM accounts WHERE lower(username) = lower(?)"
        " AND domain IS NULL", [username]).fetchone()
    if row is None:
        return None
    values = tuple(row)
    return LocalStanding(account=_account(cast(sqlite3.Row, values[:-2])),
                         pending=values[-1] == 0,
                         suspended=values[-2] is not None)


def set_silenced(db: Database, account_id: int, now: datetime | None) -> None:
    """Silence an account (``now`` None: lift it)."""
    db.execute("UPDATE accounts SET silenced_at = ? WHERE id = ?",
               [None if now is None else now.isoformat(), account_id])


def set_suspended(db: Database, account_id: int, now: datetime | None) -> None:
    """Suspend an account (``now`` None: lift it)."""
    db.execute("UPDATE accounts SET suspended_at = ? WHERE id = ?",
               [None if now is None else now.isoformat(), account_id])


def set_user_disabled(db: Database, account_id: int, disabled: bool) -> None:
    """Disable (or enable) the login behind a local account."""
    db.execute("UPDATE users SET disabled = ? WHERE account_id = ?", [int(disabled), account_id])


def revoke_tokens(db: Database, account_id: int, now: datetime) -> int:
    """Revoke every live token of the user behind a local account."""
    return db.execute(
        "UPDATE oauth_tokens SET revoked_at = ? WHERE revoked_at IS NULL AND user_id IN"
        " (SELECT id FROM users WHERE account_id = ?)", [now.isoformat(), account_id]).rowcount


def put_warning(db: Database, account_id: int, action: AccountAction, text: str,
                report_id: int | None, now: datetime) -> AccountWarning:
    """Record a warning (or another action's notice) for an account."""
    row = db.execute(
        "INSERT INTO account_warnings (account_id, action, text, report_id, created_at)"
        " VALUES (?, ?, ?, ?, ?) RETURNING id", [account_id, action.value, text, report_id,
                                                  now.isoformat()]).fetchone()
    return AccountWarning(id=row[0], account_id=account_id, action=action, text=text,
                          report_id=report_id, created_at=now)


def _warning(row: sqlite3.Row) -> AccountWarning:
    return AccountWarning(id=row["id"], account_id=row["account_id"],
                          action=AccountAction(row["action"]), text=row["text"],
                          report_id=row["report_id"],
                          created_at=datetime.fromisoformat(row["created_at"]))


def get_warnings(db: Database, warning_ids: Sequence[int]) -> dict[int, AccountWarning]:
    """Some warnings by id."""
    if not warning_ids:
        return {}
    return {r["id"]: _warning(r) for r in db.execute(
        "SELECT * FROM account_warnings WHERE id IN (SELECT value FROM json_each(?))",
        [json.dumps(list(warning_ids))])}


def list_warnings(db: Database, account_id: int) -> list[AccountWarning]:
    """An account's warnings, newest first."""
    return [AccountWarning(id=r["id"], account_id=r["account_id"],
                           action=AccountAction(r["action"]), text=r["text"],
                           report_id=r["report_id"],
                           created_at=datetime.fromisoformat(r["created_at"]))
            for r in db.execute("SELECT * FROM account_warnings WHERE account_id = ?"
                                " ORDER BY id DESC", [account_id])]


def local_follower_inboxes_everywhere(db: Database, account_id: int) -> list[str]:
    """Every remote inbox (shared when known) that knows a local account: its followers',
    the accounts it follows, and every remote account that interacted with it."""
    return [r[0] for r in db.execute(
        "SELECT DISTINCT coalesce(a.shared_inbox_uri, a.inbox_uri) FROM accounts a"
        " WHERE a.domain IS NOT NULL AND coalesce(a.shared_inbox_uri, a.inbox_uri) IS NOT NULL"
        " AND a.id IN (SELECT follower_id FROM follows WHERE followee_id = ?"
        " UNION SELECT followee_id FROM follows WHERE follower_id = ?)",
        [account_id, account_id])]


def admin_accounts(db: Database, *, local: bool | None, status: str | None,
                   query: str | None, max_id: int | None, limit: int) -> list[AdminAccount]:
    """Accounts as moderators list them, newest first."""
    sql = (f"{_STATE_SQL} LEFT JOIN users u ON u.account_id = a.id WHERE 1 = 1"
           " AND a.actor_type != 'Application'")
    args: list[object] = []
    if local is not None:
        sql += " AND a.domain IS NULL" if local else " AND a.domain IS NOT NULL"
    if status == "active":
        sql += (" AND a.suspended_at IS NULL AND a.silenced_at IS NULL"
                " AND coalesce(u.disabled, 0) = 0 AND coalesce(u.approved, 1) = 1")
    elif status == "silenced":
        sql += " AND a.silenced_at IS NOT NULL"
    elif status == "suspended":
        sql += " AND a.suspended_at IS NOT NULL"
    elif status == "disabled":
        sql += " AND u.disabled = 1"
    elif status == "pending":
        sql += " AND u.approved = 0"
    if query:
        like = "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        sql += (" AND (a.username LIKE ? ESCAPE '\\' OR a.display_name LIKE ? ESCAPE '\\'"
                " OR coalesce(a.domain, '') LIKE ? ESCAPE '\\' OR coalesce(u.email, '') LIKE ?"
                " ESCAPE '\\')")
        args.extend([like, like, like, like])
    if max_id is not None:
        sql += " AND a.id < ?"
        args.append(max_id)
    sql += " ORDER BY a.id DESC LIMIT ?"
    args.append(limit)
    rows = db.execute(sql, args).fetchall()
    accounts = get_accounts_by_ids(db, [r["id"] for r in rows])
    return [AdminAccount(accounts[r["id"]], get_user_by_account_id(db, r["id"]), _state(r))
            for r in rows]


def admin_account(db: Database, account_id: int) -> AdminAccount | None:
    """One account as moderators see it."""
    row = db.execute(f"{_STATE_SQL} WHERE a.id = ?", [account_id]).fetchone()
    if row is None:
        return None
    account = get_accounts_by_ids(db, [account_id])[account_id]
    return AdminAccount(account, get_user_by_account_id(db, account_id), _state(row))


def moderators(db: Database) -> list[Account]:
    """The local accounts of admins and moderators (enabled)."""
    ids = [r[0] for r in db.execute("SELECT account_id FROM users WHERE role IN"
                                    " ('admin', 'moderator') AND disabled = 0 ORDER BY id")]
    found = get_accounts_by_ids(db, ids)
    return [found[i] for i in ids if i in found]


# -- domains hidden by residents ---------------------------------------------------------------


def put_account_domain_block(db: Database, account_id: int, domain: str, now: datetime) -> None:
    """A resident hides a domain (idempotent)."""
    db.execute("INSERT INTO account_domain_blocks (account_id, domain, created_at)"
               " VALUES (?, ?, ?) ON CONFLICT (account_id, domain) DO NOTHING",
               [account_id, domain, now.isoformat()])


def delete_account_domain_block(db: Database, account_id: int, domain: str) -> bool:
    """A resident shows a domain again."""
    return db.execute("DELETE FROM account_domain_blocks WHERE account_id = ? AND domain = ?",
                      [account_id, domain]).rowcount > 0


def list_account_domain_blocks(db: Database, account_id: int, *, max_id: int | None,
                               limit: int) -> list[tuple[int, str]]:
    """The domains a resident hides, newest first, with their row ids (for paging)."""
    sql = "SELECT id, domain FROM account_domain_blocks WHERE account_id = ?"
    args: list[object] = [account_id]
    if max_id is not None:
        sql += " AND id < ?"
        args.append(max_id)
    sql += " ORDER BY id DESC LIMIT ?"
    args.append(limit)
    return [(r[0], r[1]) for r in db.execute(sql, args)]


def remove_domain_followers(db: Database, account_id: int, domain: str) -> int:
    """Remove the follows of ``account_id`` by accounts of ``domain`` (Mastodon does so when a
    resident hides a domain); returns how many."""
    return db.execute(
        "DELETE FROM follows WHERE followee_id = ? AND follower_id IN (SELECT id FROM accounts"
        " WHERE domain = ? OR domain LIKE ?)", [account_id, domain, f"%.{domain}"]).rowcount
