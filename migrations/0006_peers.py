"""Per-host delivery state: the HTTP signature scheme each remote host accepts and its circuit
breaker (consecutive failures, when the run of failures began, when it was declared
unavailable, when it last answered). Times are UNIX seconds (REAL), like the jobs table's,
because the delivery handler compares them with the clock on every delivery."""

from sqlite_utils import Database


def up(db: Database) -> None:
    """Create peers, and index pending jobs by host (to release a host's postponed jobs)."""
    db["peers"].create(
        {
            "host": str,  # host[:port], normalised like activitypub.validate.host_of
            "signature_scheme": str,  # cavage | rfc9421 | NULL (not learnt yet)
            "consecutive_failures": int,
            "first_failure_at": float,
            "last_failure_at": float,
            "unavailable_since": float,
            "last_success_at": float,
            "updated_at": float,
        },
        pk="host",
        not_null={"consecutive_failures", "updated_at"},
        defaults={"consecutive_failures": 0},
    )
    db.execute("CREATE INDEX idx_jobs_pending_host ON jobs (host, kind) WHERE state = 'pending'")
