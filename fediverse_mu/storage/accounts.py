"""The ``accounts`` and ``users`` tables: actors (local and remote) and local logins."""

from __future__ import annotations

import functools
import json
import sqlite3
from datetime import datetime
from typing import Any

from fediverse_mu.domain.accounts import Account, RemoteActor, Role, User
from fediverse_mu.storage.db import Database

_ACCOUNT_COLUMNS = ("id, username, domain, actor_uri, actor_type, display_name, note, locked, "
                    "bot, discoverable, created_at, url, inbox_uri, shared_inbox_uri, "
                    "public_key_pem, followers_uri, avatar_url, header_url")
_USER_COLUMNS = "id, account_id, email, role, approved, disabled, locale, created_at"


def _account(row: sqlite3.Row | tuple[Any, ...]) -> Account:
    # By position (rows always hold _ACCOUNT_COLUMNS, in order): a timeline page converts
    # ~50 accounts, and lookups by name were most of the cost.
    (id_, username, domain, actor_uri, actor_type, display_name, note, locked, bot,
     discoverable, created_at, url, inbox_uri, shared_inbox_uri, public_key_pem,
     followers_uri, avatar_url, header_url) = row
    return Account(
        id=id_, username=username, domain=domain, actor_uri=actor_uri, actor_type=actor_type,
        display_name=display_name, note=note, locked=bool(locked), bot=bool(bot),
        discoverable=bool(discoverable), created_at=datetime.fromisoformat(created_at),
        url=url, inbox_uri=inbox_uri, shared_inbox_uri=shared_inbox_uri,
        public_key_pem=public_key_pem, followers_uri=followers_uri,
        avatar_url=avatar_url, header_url=header_url,
    )


@functools.lru_cache(maxsize=2048)
def _account_of(values: tuple[Any, ...]) -> Account:
    # Remembered by the row's values (a changed row is another key): a timeline page shows
    # the same few dozen authors from one request to the next.
    return _account(values)


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


def set_user_locale(db: Database, user_id: int, locale: str) -> None:
    """Change the language of a user's pages."""
    db.execute("UPDATE users SET locale = ? WHERE id = ?", [locale, user_id])


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


def first_admin_email(db: Database) -> str | None:
    """The e-mail of the oldest enabled admin, if any."""
    row = db.execute("SELECT email FROM users WHERE role = 'admin' AND disabled = 0"
                     " ORDER BY id LIMIT 1").fetchone()
    return None if row is None else str(row[0])


def upsert_remote_account(db: Database, actor: RemoteActor, now: datetime, *,
                          update_key: bool) -> Account:
    """Store or refresh a remote actor. ``update_key`` is True only for a document fetched
    from the actor's origin: an Update activity never swaps a key."""
    row = db.execute(
        "INSERT INTO accounts (username, domain, actor_uri, actor_type, display_name, note, url,"
        " inbox_uri, shared_inbox_uri, outbox_uri, followers_uri, following_uri, featured_uri,"
        " public_key_id, public_key_pem, locked, bot, discoverable, created_at, updated_at,"
        " fetched_at, avatar_url, header_url, fields)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (actor_uri) DO UPDATE SET username = excluded.username,"
        " actor_type = excluded.actor_type, display_name = excluded.display_name,"
        " note = excluded.note, url = excluded.url, inbox_uri = excluded.inbox_uri,"
        " shared_inbox_uri = excluded.shared_inbox_uri, outbox_uri = excluded.outbox_uri,"
        " followers_uri = excluded.followers_uri, following_uri = excluded.following_uri,"
        " featured_uri = excluded.featured_uri, locked = excluded.locked, bot = excluded.bot,"
        " discoverable = excluded.discoverable, updated_at = excluded.updated_at,"
        " avatar_url = excluded.avatar_url, header_url = excluded.header_url,"
        " fields = excluded.fields,"
        " public_key_id = CASE WHEN ? THEN excluded.public_key_id ELSE accounts.public_key_id"
        " END, public_key_pem = CASE WHEN ? THEN excluded.public_key_pem"
        " ELSE accounts.public_key_pem END, fetched_at = CASE WHEN ? THEN excluded.fetched_at"
        f" ELSE accounts.fetched_at END WHERE accounts.domain IS NOT NULL"
        f" RETURNING {_ACCOUNT_COLUMNS}",
        [actor.username, actor.domain, actor.actor_uri, actor.actor_type, actor.display_name,
         actor.note, actor.url, actor.inbox_uri, actor.shared_inbox_uri, actor.outbox_uri,
         actor.followers_uri, actor.following_uri, actor.featured_uri, actor.public_key_id,
         actor.public_key_pem, int(actor.locked), int(actor.bot), int(actor.discoverable),
         now.isoformat(), now.isoformat(), now.isoformat(), actor.icon_url, actor.image_url,
         json.dumps([{"name": n, "value": v} for n, v in actor.fields], ensure_ascii=False),
         int(update_key), int(update_key), int(update_key)],
    ).fetchone()
    if row is None:
        raise ValueError(f"{actor.actor_uri} is a local account")
    return _account(row)


def set_profile_image(db: Database, account_id: int, kind: str, url: str | None,
                      now: datetime) -> Account:
    """Point a local account's avatar (``kind`` "avatar") or header ("header") at ``url``
    (None: back to the default picture)."""
    column = {"avatar": "avatar_url", "header": "header_url"}[kind]
    row = db.execute(f"UPDATE accounts SET {column} = ?, updated_at = ? WHERE id = ?"
                     f" AND domain IS NULL RETURNING {_ACCOUNT_COLUMNS}",
                     [url, now.isoformat(), account_id]).fetchone()
    if row is None:
        raise ValueError(f"account {account_id} is not local")
    return _account(row)


def get_account_by_key_id(db: Database, key_id: str) -> Account | None:
    """The remote account whose public key has this id."""
    row = db.execute(f"SELECT {_ACCOUNT_COLUMNS} FROM accounts WHERE public_key_id = ?"
                     " AND domain IS NOT NULL", [key_id]).fetchone()
    return None if row is None else _account(row)


def get_remote_account(db: Database, username: str, domain: str) -> Account | None:
    """A known remote account by handle."""
    row = db.execute(f"SELECT {_ACCOUNT_COLUMNS} FROM accounts WHERE lower(username) = lower(?)"
                     " AND domain = ?", [username, domain]).fetchone()
    return None if row is None else _account(row)


def get_user_login(db: Database, identifier: str) -> tuple[User, str] | None:
    """A local user and their password hash, by e-mail or username (case-insensitive): only
    for checking a password at login. (E-mails hold an ``@``, usernames never do.)"""
    columns = ", ".join(f"u.{c} AS {c}" for c in _USER_COLUMNS.split(", "))
    row = db.execute(
        f"SELECT {columns}, u.password_hash AS password_hash"
        " FROM users u JOIN accounts a ON a.id = u.account_id"
        " WHERE lower(u.email) = lower(?) OR (lower(a.username) = lower(?) AND a.domain IS NULL)"
        " LIMIT 1",
        [identifier, identifier],
    ).fetchone()
    return None if row is None else (_user(row), str(row["password_hash"]))


def get_accounts_by_ids(db: Database, account_ids: list[int]) -> dict[int, Account]:
    """Several accounts at once, by id (unknown ids are left out)."""
    unique = list(dict.fromkeys(account_ids))
    found: dict[int, Account] = {}
    for start in range(0, len(unique), 500):
        chunk = unique[start:start + 500]
        marks = ",".join("?" * len(chunk))
        for row in db.execute(f"SELECT {_ACCOUNT_COLUMNS} FROM accounts WHERE id IN ({marks})",
                              chunk):
            found[row[0]] = _account_of(tuple(row))
    return found


def get_accounts_by_uris(db: Database, actor_uris: list[str]) -> dict[str, Account]:
    """Several known accounts at once, by actor id (unknown ones are left out)."""
    unique = list(dict.fromkeys(actor_uris))
    found: dict[str, Account] = {}
    for start in range(0, len(unique), 500):
        chunk = unique[start:start + 500]
        marks = ",".join("?" * len(chunk))
        for row in db.execute(
                f"SELECT {_ACCOUNT_COLUMNS} FROM accounts WHERE actor_uri IN ({marks})", chunk):
            found[row["actor_uri"]] = _account(row)
    return found
