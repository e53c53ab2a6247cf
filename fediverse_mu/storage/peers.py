"""The ``peers`` table: per-host delivery state (signature scheme, circuit breaker). State
changes are computed by the pure :class:`~fediverse_mu.domain.peers.Peer` transitions inside
one write transaction, so concurrent updates never lose a failure. A host that answers again
also gets its postponed jobs made due at once."""

from __future__ import annotations

import sqlite3
from dataclasses import replace

from fediverse_mu.domain.peers import SIGNATURE_SCHEMES, Peer, SignatureScheme
from fediverse_mu.storage.db import Database

_COLUMNS = ("host, signature_scheme, consecutive_failures, first_failure_at, last_failure_at,"
            " unavailable_since, last_success_at")


def _peer(row: sqlite3.Row) -> Peer:
    scheme = row["signature_scheme"]
    return Peer(
        host=row["host"],
        signature_scheme=scheme if scheme in SIGNATURE_SCHEMES else None,
        consecutive_failures=row["consecutive_failures"],
        first_failure_at=row["first_failure_at"], last_failure_at=row["last_failure_at"],
        unavailable_since=row["unavailable_since"], last_success_at=row["last_success_at"],
    )


def get_peer(db: Database, host: str) -> Peer | None:
    """One host's state, None when we never recorded anything about it."""
    row = db.execute(f"SELECT {_COLUMNS} FROM peers WHERE host = ?", [host]).fetchone()
    return None if row is None else _peer(row)


def _put_peer(db: Database, peer: Peer, now: float) -> Peer:
    db.execute(
        f"INSERT INTO peers ({_COLUMNS}, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (host) DO UPDATE SET signature_scheme = excluded.signature_scheme,"
        " consecutive_failures = excluded.consecutive_failures,"
        " first_failure_at = excluded.first_failure_at,"
        " last_failure_at = excluded.last_failure_at,"
        " unavailable_since = excluded.unavailable_since,"
        " last_success_at = excluded.last_success_at, updated_at = excluded.updated_at",
        [peer.host, peer.signature_scheme, peer.consecutive_failures, peer.first_failure_at,
         peer.last_failure_at, peer.unavailable_since, peer.last_success_at, now],
    )
    return peer


def record_peer_failure(db: Database, host: str, *, now: float) -> Peer:
    """Count one more consecutive failure (and maybe declare the host unavailable)."""
    current = get_peer(db, host) or Peer(host=host)
    return _put_peer(db, current.failed(now), now)


def record_peer_success(db: Database, host: str, *, now: float,
                        release_kind: str) -> tuple[Peer, int]:
    """The host answered: reset its breaker and, if it was failing, make its pending
    ``release_kind`` jobs due now. Returns the new state and how many jobs were released."""
    current = get_peer(db, host) or Peer(host=host)
    released = 0
    if not current.is_healthy:
        released = db.execute(
            "UPDATE jobs SET next_attempt_at = ?, updated_at = ? WHERE host = ? AND kind = ?"
            " AND state = 'pending' AND next_attempt_at > ?"
            " AND (locked_until IS NULL OR locked_until <= ?)",
            [now, now, host, release_kind, now, now],
        ).rowcount
    return _put_peer(db, current.succeeded(now), now), released


def set_peer_signature_scheme(db: Database, host: str, scheme: SignatureScheme, *,
                              now: float) -> Peer:
    """Remember which HTTP signature scheme the host accepts."""
    if scheme not in SIGNATURE_SCHEMES:
        raise ValueError(f"unknown signature scheme {scheme!r}")
    current = get_peer(db, host) or Peer(host=host)
    if current.signature_scheme == scheme:
        return current
    return _put_peer(db, replace(current, signature_scheme=scheme), now)
