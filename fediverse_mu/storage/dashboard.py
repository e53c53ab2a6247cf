"""Figures for the admin dashboard: users by state, posts, known remote accounts and servers,
and the delivery queue per remote host (pending and dead jobs)."""

from __future__ import annotations

from fediverse_mu.storage.db import Database


def user_counts(db: Database) -> dict[str, int]:
    """Local users: ``active`` (approved, enabled), ``pending``, ``disabled``, by role."""
    out = {"active": 0, "pending": 0, "disabled": 0, "admin": 0, "moderator": 0,
           "resident": 0}
    for approved, disabled, role, count in db.execute(
            "SELECT approved, disabled, role, count(*) FROM users"
            " GROUP BY approved, disabled, role"):
        if disabled:
            out["disabled"] += count
        elif not approved:
            out["pending"] += count
        else:
            out["active"] += count
            if role in out:
                out[role] += count
    return out


def content_counts(db: Database) -> dict[str, int]:
    """Posts (local and remote, not deleted), remote accounts and servers."""
    local, remote = db.execute(
        "SELECT coalesce(sum(local = 1), 0), coalesce(sum(local = 0), 0) FROM statuses"
        " WHERE deleted_at IS NULL").fetchone()
    accounts, domains = db.execute(
        "SELECT count(*), count(DISTINCT domain) FROM accounts WHERE domain IS NOT NULL"
    ).fetchone()
    return {"local_posts": int(local), "remote_posts": int(remote),
            "remote_accounts": int(accounts), "domains": int(domains)}


def delivery_queue(db: Database, kind: str, *, limit: int = 50) -> list[tuple[str, int, int]]:
    """``(host, pending, dead)`` delivery jobs per remote host, the most loaded first."""
    rows = db.execute(
        "SELECT coalesce(host, '?') AS host, sum(state = 'pending') AS pending,"
        " sum(state = 'dead') AS dead FROM jobs WHERE kind = ? AND state IN ('pending', 'dead')"
        " GROUP BY host ORDER BY pending + dead DESC, host LIMIT ?", [kind, limit])
    return [(str(h), int(p), int(d)) for h, p, d in rows]
