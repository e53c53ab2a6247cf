"""Opening the SQLite database with the settings every connection needs, and the write
transaction used everywhere (``BEGIN IMMEDIATE``: the writer takes the lock up front, so two
writers never deadlock on a lock upgrade)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlite_utils import Database

__all__ = ["Database", "connect", "transaction"]


def connect(path: Path | str, *, readonly: bool = False, cache_mib: int | None = None,
            ) -> Database:
    """Open the database in WAL mode with foreign keys on and a busy timeout; ``cache_mib``
    sets SQLite's page cache of this connection (default: SQLite's 2 MiB)."""
    if readonly:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False,
                               timeout=10)
    else:
        conn = sqlite3.connect(str(path), check_same_thread=False, timeout=10)
    conn.row_factory = sqlite3.Row
    # WAL lets readers run while one writer writes. synchronous=NORMAL in WAL mode keeps every
    # committed transaction across a process crash (kill -9); only an OS crash or power loss
    # may drop the last few commits, never corrupt the file.
    if not readonly:
        conn.execute("PRAGMA journal_mode=WAL")
        # A post lands in every follower's home feed: ~130 B-tree pages per post with 100
        # followers. Checkpointing every 10,000 pages (40 MB) instead of SQLite's 1,000 copies
        # each often-rewritten page to the database file once instead of ten times (posting
        # ~20 % faster in bench/api.py, and fewer fsyncs on an SD card); the WAL file is cut
        # back to 64 MB after a checkpoint.
        conn.execute("PRAGMA wal_autocheckpoint=10000")
        conn.execute("PRAGMA journal_size_limit=67108864")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=10000")
    if cache_mib is not None:
        conn.execute(f"PRAGMA cache_size=-{int(cache_mib) * 1024}")
    return Database(conn, recursive_triggers=False)


@contextmanager
def transaction(db: Database) -> Iterator[Database]:
    """Run a block in one ``BEGIN IMMEDIATE`` transaction; roll back on any error."""
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        if db.conn.in_transaction:
            db.conn.rollback()
        raise
    db.conn.commit()
