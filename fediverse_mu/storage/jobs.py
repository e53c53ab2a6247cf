"""The ``jobs`` table: durable background work. A job is claimed with a lease in one
``UPDATE … RETURNING``; a lease that expires (the worker crashed) makes it claimable again, so
nothing is lost. Outcomes are only recorded by the holder of the current lease."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from typing import Any

from fediverse_mu.domain.jobs import Job, JobState
from fediverse_mu.storage.db import Database

_COLUMNS = ("id, kind, payload, state, attempts, max_attempts, next_attempt_at, locked_until, "
            "host, last_status, last_error")


def _job(row: sqlite3.Row) -> Job:
    return Job(
        id=row["id"], kind=row["kind"], payload=json.loads(row["payload"]),
        state=JobState(row["state"]), attempts=row["attempts"],
        max_attempts=row["max_attempts"], next_attempt_at=row["next_attempt_at"],
        locked_until=row["locked_until"], host=row["host"], last_status=row["last_status"],
        last_error=row["last_error"],
    )


def put_job(db: Database, kind: str, payload: dict[str, Any], *, now: float,
            run_at: float | None = None, max_attempts: int = 10, host: str | None = None,
            dedup_key: str | None = None) -> int | None:
    """Queue a job; returns its id, or None if a pending job has the same ``dedup_key``."""
    cursor = db.execute(
        "INSERT INTO jobs (kind, payload, state, attempts, max_attempts, next_attempt_at, host,"
        " dedup_key, created_at, updated_at) VALUES (?, ?, 'pending', 0, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (dedup_key) WHERE dedup_key IS NOT NULL AND state = 'pending'"
        " DO NOTHING RETURNING id",
        [kind, json.dumps(payload, separators=(",", ":")), max_attempts,
         now if run_at is None else run_at, host, dedup_key, now, now],
    )
    row = cursor.fetchone()
    return None if row is None else int(row[0])


def claim_due_jobs(db: Database, *, now: float, lease_seconds: float, limit: int,
                   token: str) -> list[Job]:
    """Lease up to ``limit`` due jobs to the holder of ``token``; count the attempt."""
    # INDEXED BY: left to itself, SQLite picks the (state, updated_at) index and sorts every
    # pending job, 1.5 ms per claim with 8,000 queued instead of 40 µs through the due index.
    rows = db.execute(
        f"UPDATE jobs SET locked_until = ?, locked_by = ?, attempts = attempts + 1,"
        f" updated_at = ? WHERE id IN (SELECT id FROM jobs INDEXED BY idx_jobs_due"
        f" WHERE state = 'pending'"
        f" AND next_attempt_at <= ? AND (locked_until IS NULL OR locked_until <= ?)"
        f" ORDER BY next_attempt_at, id LIMIT ?) RETURNING {_COLUMNS}",
        [now + lease_seconds, token, now, now, now, limit],
    ).fetchall()
    return sorted((_job(r) for r in rows), key=lambda job: (job.next_attempt_at, job.id))


def complete_job(db: Database, job_id: int, *, token: str, now: float,
                 status: int | None = None) -> bool:
    """Mark a leased job done; False when the lease was lost meanwhile."""
    cursor = db.execute(
        "UPDATE jobs SET state = 'done', locked_until = NULL, locked_by = NULL,"
        " last_status = ?, last_error = NULL, updated_at = ? WHERE id = ? AND locked_by = ?",
        [status, now, job_id, token],
    )
    return cursor.rowcount == 1


def complete_jobs(db: Database, done: Sequence[tuple[int, str, int | None]], *,
                  now: float) -> list[bool]:
    """:func:`complete_job` for several ``(job id, token, status)`` in one transaction."""
    return [complete_job(db, job_id, token=token, now=now, status=status)
            for job_id, token, status in done]


def retry_job(db: Database, job_id: int, *, token: str, now: float, run_at: float,
              status: int | None, error: str) -> bool:
    """Give a leased job back for another attempt at ``run_at``."""
    cursor = db.execute(
        "UPDATE jobs SET locked_until = NULL, locked_by = NULL, next_attempt_at = ?,"
        " last_status = ?, last_error = ?, updated_at = ? WHERE id = ? AND locked_by = ?",
        [run_at, status, error[:1000], now, job_id, token],
    )
    return cursor.rowcount == 1


def postpone_job(db: Database, job_id: int, *, token: str, now: float, run_at: float,
                 reason: str) -> bool:
    """Give a leased job back for ``run_at`` without counting this attempt (it did nothing)."""
    cursor = db.execute(
        "UPDATE jobs SET locked_until = NULL, locked_by = NULL, next_attempt_at = ?,"
        " attempts = max(attempts - 1, 0), last_error = ?, updated_at = ?"
        " WHERE id = ? AND locked_by = ?",
        [run_at, reason[:1000], now, job_id, token],
    )
    return cursor.rowcount == 1


def kill_job(db: Database, job_id: int, *, token: str, now: float, status: int | None,
             error: str) -> bool:
    """Mark a leased job dead: a final failure, never retried."""
    cursor = db.execute(
        "UPDATE jobs SET state = 'dead', locked_until = NULL, locked_by = NULL,"
        " last_status = ?, last_error = ?, updated_at = ? WHERE id = ? AND locked_by = ?",
        [status, error[:1000], now, job_id, token],
    )
    return cursor.rowcount == 1


def release_job(db: Database, job_id: int, *, token: str, now: float) -> bool:
    """Drop a lease without counting the attempt (graceful shutdown)."""
    cursor = db.execute(
        "UPDATE jobs SET locked_until = NULL, locked_by = NULL, attempts = max(attempts - 1, 0),"
        " updated_at = ? WHERE id = ? AND locked_by = ?",
        [now, job_id, token],
    )
    return cursor.rowcount == 1


def get_job(db: Database, job_id: int) -> Job | None:
    """One job by id."""
    row = db.execute(f"SELECT {_COLUMNS} FROM jobs WHERE id = ?", [job_id]).fetchone()
    return None if row is None else _job(row)


def count_jobs_by_state(db: Database) -> dict[str, int]:
    """How many jobs are pending, done and dead."""
    counts = dict.fromkeys((s.value for s in JobState), 0)
    for state, count in db.execute("SELECT state, count(*) FROM jobs GROUP BY state"):
        counts[state] = count
    return counts


def next_due_time(db: Database) -> float | None:
    """When the earliest pending job becomes claimable (lease expiry included)."""
    row = db.execute(
        "SELECT min(max(next_attempt_at, coalesce(locked_until, 0))) FROM jobs"
        " WHERE state = 'pending'"
    ).fetchone()
    return None if row is None or row[0] is None else float(row[0])


def delete_finished_jobs(db: Database, *, before: float) -> int:
    """Forget done jobs last updated before ``before``; dead ones are kept for admins."""
    return db.execute(
        "DELETE FROM jobs WHERE state = 'done' AND updated_at < ?", [before]
    ).rowcount
