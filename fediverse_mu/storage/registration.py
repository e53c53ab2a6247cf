"""Sign-ups and what admins do with them: the ``sign_ups`` table (reason, invite, accepted
rules), pending users (``users.approved = 0``), approving, rejecting (deleting the user and its
never-published account), and setting a new password (which signs every client out)."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from fediverse_mu.domain.registration import Application
from fediverse_mu.storage import accounts as account_store
from fediverse_mu.storage.db import Database


def put_sign_up(db: Database, *, user_id: int, reason: str, invite_id: int | None,
                rules_accepted_at: datetime | None, ip: str, created_at: datetime) -> None:
    """Record what an applicant sent with their sign-up."""
    db.execute(
        "INSERT INTO sign_ups (user_id, reason, invite_id, rules_accepted_at, ip, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        [user_id, reason, invite_id,
         None if rules_accepted_at is None else rules_accepted_at.isoformat(), ip,
         created_at.isoformat()])


def _application(db: Database, row: sqlite3.Row) -> Application | None:
    user = account_store.get_user_by_id(db, row["user_id"])
    account = None if user is None else account_store.get_account_by_id(db, user.account_id)
    if user is None or account is None:
        return None
    return Application(user=user, account=account, reason=row["reason"] or "",
                       invite_id=row["invite_id"], ip=row["ip"] or "",
                       created_at=datetime.fromisoformat(row["created_at"]))


_PENDING = ("SELECT u.id AS user_id, coalesce(s.reason, '') AS reason, s.invite_id AS invite_id,"
            " coalesce(s.ip, '') AS ip, coalesce(s.created_at, u.created_at) AS created_at"
            " FROM users u LEFT JOIN sign_ups s ON s.user_id = u.id"
            " WHERE u.approved = 0 AND u.disabled = 0")


def list_pending(db: Database, *, limit: int = 200) -> list[Application]:
    """Users waiting for approval, oldest first."""
    rows = db.execute(_PENDING + " ORDER BY u.id LIMIT ?", [limit]).fetchall()
    found = (_application(db, row) for row in rows)
    return [a for a in found if a is not None]


def get_pending(db: Database, user_id: int) -> Application | None:
    """One pending application, by user id."""
    row = db.execute(_PENDING + " AND u.id = ?", [user_id]).fetchone()
    return None if row is None else _application(db, row)


def count_pending(db: Database) -> int:
    """How many users wait for approval."""
    return int(db.execute(
        "SELECT count(*) FROM users WHERE approved = 0 AND disabled = 0").fetchone()[0])


def approve_user(db: Database, user_id: int) -> bool:
    """Let a pending user in; False if there is no such pending user."""
    return db.execute("UPDATE users SET approved = 1 WHERE id = ? AND approved = 0",
                      [user_id]).rowcount == 1


def delete_pending_user(db: Database, user_id: int) -> bool:
    """Reject a pending user: remove its login, tokens and account (never approved, so it never
    posted, followed or federated). Returns False if there is no such pending user."""
    row = db.execute("SELECT account_id FROM users WHERE id = ? AND approved = 0",
                     [user_id]).fetchone()
    if row is None:
        return False
    account_id = row[0]
    db.execute("DELETE FROM oauth_authorization_codes WHERE user_id = ?", [user_id])
    db.execute("DELETE FROM oauth_tokens WHERE user_id = ?", [user_id])
    db.execute("DELETE FROM markers WHERE user_id = ?", [user_id])
    db.execute("DELETE FROM sign_ups WHERE user_id = ?", [user_id])
    db.execute("DELETE FROM users WHERE id = ?", [user_id])
    db.execute("DELETE FROM account_stats WHERE account_id = ?", [account_id])
    db.execute("DELETE FROM accounts WHERE id = ? AND domain IS NULL", [account_id])
    return True


def set_password_hash(db: Database, user_id: int, password_hash: str, now: datetime) -> int:
    """Replace a user's password and revoke all their tokens; returns how many were revoked."""
    db.execute("UPDATE users SET password_hash = ? WHERE id = ?", [password_hash, user_id])
    return db.execute("UPDATE oauth_tokens SET revoked_at = ? WHERE user_id = ?"
                      " AND revoked_at IS NULL", [now.isoformat(), user_id]).rowcount


def set_role(db: Database, user_id: int, role: str) -> bool:
    """Change a user's role; False if there is no such user."""
    return db.execute("UPDATE users SET role = ? WHERE id = ?", [role, user_id]).rowcount == 1


def count_admins(db: Database) -> int:
    """Enabled, approved admins."""
    return int(db.execute("SELECT count(*) FROM users WHERE role = 'admin' AND disabled = 0"
                          " AND approved = 1").fetchone()[0])


def get_sign_up_reason(db: Database, user_id: int) -> str | None:
    """The reason an applicant gave, if they signed up through the sign-up form or API."""
    row = db.execute("SELECT reason FROM sign_ups WHERE user_id = ?", [user_id]).fetchone()
    return None if row is None else str(row[0])
