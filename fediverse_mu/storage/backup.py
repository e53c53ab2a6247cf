"""Consistent online backups through SQLite's backup API: a snapshot taken while the server
keeps writing, checked, then moved into place atomically."""

from __future__ import annotations

import os
import sqlite3
import tempfile
from pathlib import Path


def backup_database(source: Path, out: Path) -> int:
    """Copy ``source`` to ``out`` in one consistent snapshot; returns the size in bytes."""
    fd, tmp_name = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
        dst = sqlite3.connect(tmp)
        try:
            src.backup(dst)  # one step: a single read snapshot, so the copy is consistent
            dst.execute("PRAGMA journal_mode=DELETE")  # a standalone file, no -wal beside it
            if dst.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                raise sqlite3.DatabaseError("the copy failed its integrity check")
        finally:
            dst.close()
            src.close()
        tmp.chmod(0o600)
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return out.stat().st_size
