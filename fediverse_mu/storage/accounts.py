"""The ``accounts`` and ``users`` tables: actors (local and remote) and local logins."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from fediverse_mu.domain.accounts import Account, Role, User
from fediverse_mu.storage.db import Database

_ACCOUNT_COLUMNS = ("id, username, domain, actor_uri, actor_type, display_name, note, locked, "
                    "bot, discoverable, created_at, url, inbox_uri, shared_inbox_uri, "
                    "public_key_pem")
_USER_COLUMNS = "id, account_id, email, role, approved, disabled, locale, created_at"


def _account(row: sqlite3.Row) -> Account:
    return Account(
        id=row["id"], username=row["username"], domain=row["domain"],
        actor_uri=row["actor_uri"], actor_type=row["actor_type"],
        display_name=row["display_name"], note=row["note"], locked=bool(row["locked"]),
        bot=bool(row["bot"]), discoverable=bool(row["discoverable"]),
        created_at=datetime.fromisoformat(row["created_at"]), url=row["url"],
        inbox_uri=row["inbox_uri"], shared_inbox_uri=row["shared_inbox_uri"],
        public_key_pem=row["public_key_pem"],
    )


def _user(row: sqlite3.Row) -> User:
    return User(
        id=row["id"], account_id=row["account_id"], email=row["email"], role=Role(row["role"]),
        approved=bool(row["approved"]), disabled=bool(row["disabled"]), locale=row["locale"],
        created_at=datetime.fromisoformat(row["created_at"]),
    )


def put_local_account(db: Database, *, username: str, actor_uri: str, actor_type: str,
                      url: str | None, inbox_uri: str, shared_inbox_uri: str,
                      public_key_pem: str, private_key_pem: str, created_at: datetime,
                      display_name: str = "", bot: bool = False) -> Account:
    """Insert a local actor with its key pair."""
    cursor = db.execute(
        "INSERT INTO accounts (username, domain, actor_uri, actor_type, display_name, url,"
        " inbox_uri, shared_inbox_uri, outbox_uri, followers_uri, following_uri, featured_uri,"
        " public_key_id, public_key_pem, private_key_pem, bot, created_at, updated_at)"
        " VALUES (?, NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        f" RETURNING {_ACCOUNT_COLUMNS}",
        [username, actor_uri, actor_type, display_name, url, inbox_uri, shared_inbox_uri,
         f"{actor_uri}/outbox", f"{actor_uri}/followers", f"{actor_uri}/following",
         f"{actor_uri}/collections/featured", f"{actor_uri}#main-key", public_key_pem,
         private_key_pem, int(bot), created_at.isoformat(), created_at.isoformat()],
    )
    return _account(cursor.fetchone())


def local_username_taken(db: Database, username: str) -> bool:
    """True when a local account already uses this name (case-insensitively)."""
    row = db.execute(
        "SELECT 1 FROM accounts WHERE lower(username) = lower(?) AND domain IS NULL",
        [username],
    ).fetchone()
    return row is not None


def email_taken(db: Database, email: str) -> bool:
    """True when a user already uses this e-mail (case-insensitively)."""
    return db.execute("SELECT 1 FROM users WHERE lower(email) = lower(?)",
                      [email]).fetchone() is not None


def get_local_account(db: Database, username: str) -> Account | None:
    """A local account by username (case-insensitive)."""
    row = db.execute(
        f"SELECT {_ACCOUNT_COLUMNS} FROM accounts WHERE lower(username) = lower(?)"
        " AND domain IS NULL", [username],
    ).fetchone()
    return None if row is None else _account(row)


def get_account_by_id(db: Database, account_id: int) -> Account | None:
    """An account by local id."""
    row = db.execute(f"SELECT {_ACCOUNT_COLUMNS} FROM accounts WHERE id = ?",
                     [account_id]).fetchone()
    return None if row is None else _account(row)


def get_account_by_uri(db: Database, actor_uri: str) -> Account | None:
    """An account by actor IRI."""
    row = db.execute(f"SELECT {_ACCOUNT_COLUMNS} FROM accounts WHERE actor_uri = ?",
                     [actor_uri]).fetchone()
    return None if row is None else _account(row)


def get_private_key_pem(db: Database, account_id: int) -> str | None:
    """A local account's private key (PEM): only for signing, never for display or logs."""
    row = db.execute("SELECT private_key_pem FROM accounts WHERE id = ? AND domain IS NULL",
                     [account_id]).fetchone()
    return None if row is None else row[0]


def put_user(db: Database, *, account_id: int, email: str, password_hash: str, role: Role,
             approved: bool, locale: str, created_at: datetime) -> User:
    """Insert the login of a local account."""
    cursor = db.execute(
        "INSERT INTO users (account_id, email, password_hash, role, approved, disabled, locale,"
        f" created_at) VALUES (?, ?, ?, ?, ?, 0, ?, ?) RETURNING {_USER_COLUMNS}",
        [account_id, email, password_hash, role.value, int(approved), locale,
         created_at.isoformat()],
    )
    return _user(cursor.fetchone())


def get_user_by_account_id(db: Database, account_id: int) -> User | None:
    """The user behind a local account."""
    row = db.execute(f"SELECT {_USER_COLUMNS} FROM users WHERE account_id = ?",
                     [account_id]).fetchone()
    return None if row is None else _user(row)


def get_user_by_id(db: Database, user_id: int) -> User | None:
    """A user by id."""
    row = db.execute(f"SELECT {_USER_COLUMNS} FROM users WHERE id = ?", [user_id]).fetchone()
    return None if row is None else _user(row)


def count_users(db: Database, *, seen_since: datetime | None = None) -> int:
    """Approved, enabled users; with ``seen_since``, only those active since then."""
    sql = "SELECT count(*) FROM users WHERE approved = 1 AND disabled = 0"
    args: list[str] = []
    if seen_since is not None:
        sql += " AND coalesce(last_seen_at, created_at) >= ?"
        args.append(seen_since.isoformat())
    return int(db.execute(sql, args).fetchone()[0])


def count_remote_domains(db: Database) -> int:
    """How many other servers this instance knows accounts on."""
    return int(db.execute(
        "SELECT count(DISTINCT domain) FROM accounts WHERE domain IS NOT NULL").fetchone()[0])


def count_local_statuses(db: Database) -> int:
    """Statuses written by local accounts and not deleted."""
    return int(db.execute(
        "SELECT count(*) FROM statuses WHERE local = 1 AND deleted_at IS NULL").fetchone()[0])


def count_account_statuses(db: Database, account_id: int) -> int:
    """Statuses of one account, not deleted."""
    return int(db.execute(
        "SELECT count(*) FROM statuses WHERE account_id = ? AND deleted_at IS NULL",
        [account_id]).fetchone()[0])


def touch_user(db: Database, user_id: int, seen_at: datetime) -> None:
    """Record that a user was active (for NodeInfo's active-user counts)."""
    db.execute("UPDATE users SET last_seen_at = ? WHERE id = ?", [seen_at.isoformat(), user_id])


def first_admin_email(db: Database) -> str | None:
    """The e-mail of the oldest enabled admin, if any."""
    row = db.execute("SELECT email FROM users WHERE role = 'admin' AND disabled = 0"
                     " ORDER BY id LIMIT 1").fetchone()
    return None if row is None else str(row[0])
