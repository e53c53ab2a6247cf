"""Finding accounts and describing the instance's reach: account search by name prefix,
per-account counts (posts, followers, following) for many accounts at once, the other servers
this instance knows (its peers), and weekly activity figures."""

from __future__ import annotations

from datetime import datetime

from fediverse_mu.domain import Account
from fediverse_mu.storage.accounts import get_accounts_by_ids
from fediverse_mu.storage.db import Database

# The instance's own actor (an Application) is never listed as a resident, nor is an
# application waiting for approval (a user with ``approved = 0``).
_LISTABLE = ("NOT (a.domain IS NULL AND a.actor_type = 'Application')"
             " AND NOT EXISTS (SELECT 1 FROM users pu WHERE pu.account_id = a.id"
             " AND pu.approved = 0)")


def _like_prefix(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


def search_accounts(db: Database, *, name: str, domain: str | None, local_only: bool,
                    following_of: int | None, limit: int, offset: int) -> list[Account]:
    """Accounts whose username starts with ``name``, or whose display name has a word that
    does; with ``domain``, only that server's (``local_only``: only this instance's). Exact
    usernames come first, then residents, then by name."""
    prefix = _like_prefix(name)
    sql = (f"SELECT a.id FROM accounts a WHERE {_LISTABLE} AND (lower(a.username) LIKE ?"
           " ESCAPE '\\' OR lower(a.display_name) LIKE ? ESCAPE '\\'"
           " OR lower(a.display_name) LIKE ? ESCAPE '\\')")
    args: list[object] = [prefix, prefix, "% " + prefix]
    if local_only:
        sql += " AND a.domain IS NULL"
    elif domain is not None:
        sql += " AND lower(a.domain) LIKE ? ESCAPE '\\'"
        args.append(_like_prefix(domain))
    if following_of is not None:
        sql += (" AND EXISTS (SELECT 1 FROM follows f WHERE f.follower_id = ?"
                " AND f.followee_id = a.id AND f.state = 'accepted')")
        args.append(following_of)
    sql += (" ORDER BY lower(a.username) = ? DESC, a.domain IS NULL DESC, lower(a.username),"
            " a.domain, a.id LIMIT ? OFFSET ?")
    args += [name.lower(), limit, offset]
    ids = [r[0] for r in db.execute(sql, args)]
    accounts = get_accounts_by_ids(db, ids)
    return [accounts[i] for i in ids if i in accounts]


def pending_account_ids(db: Database, account_ids: list[int]) -> set[int]:
    """Those of ``account_ids`` whose user waits for approval (invisible to everyone)."""
    found: set[int] = set()
    unique = list(dict.fromkeys(account_ids))
    for start in range(0, len(unique), 500):
        chunk = unique[start:start + 500]
        found.update(r[0] for r in db.execute(
            "SELECT account_id FROM users WHERE approved = 0"
            f" AND account_id IN ({','.join('?' * len(chunk))})", chunk))
    return found


def account_counts(db: Database, account_ids: list[int]) -> dict[int, tuple[int, int, int]]:
    """``(statuses, followers, following)`` for each account (accepted follows only,
    statuses not deleted), from the counters triggers keep (migrations/0009)."""
    counts = dict.fromkeys(account_ids, (0, 0, 0))
    unique = list(counts)
    for start in range(0, len(unique), 500):
        chunk = unique[start:start + 500]
        for row in db.execute(
                "SELECT account_id, statuses_count, followers_count, following_count"
                f" FROM account_stats WHERE account_id IN ({','.join('?' * len(chunk))})",
                chunk):
            counts[row[0]] = (row[1], row[2], row[3])
    return counts


def list_peer_domains(db: Database) -> list[str]:
    """Every other server this instance knows an account on, sorted."""
    return [r[0] for r in db.execute("SELECT DISTINCT domain FROM accounts"
                                     " WHERE domain IS NOT NULL ORDER BY domain")]


def week_activity(db: Database, start: datetime, end: datetime) -> tuple[int, int, int]:
    """``(statuses, logins, registrations)`` between ``start`` and ``end``: local statuses
    written, distinct users who signed in (a token issued, or last seen, in that span) and
    users created."""
    span = [start.isoformat(), end.isoformat()]
    statuses = db.execute("SELECT count(*) FROM statuses WHERE local = 1 AND created_at >= ?"
                          " AND created_at < ?", span).fetchone()[0]
    logins = db.execute(
        "SELECT count(*) FROM (SELECT user_id FROM oauth_tokens WHERE user_id IS NOT NULL"
        " AND created_at >= ?1 AND created_at < ?2 UNION SELECT id FROM users"
        " WHERE last_seen_at >= ?1 AND last_seen_at < ?2)", span).fetchone()[0]
    registrations = db.execute("SELECT count(*) FROM users WHERE created_at >= ?"
                               " AND created_at < ?", span).fetchone()[0]
    return int(statuses), int(logins), int(registrations)
