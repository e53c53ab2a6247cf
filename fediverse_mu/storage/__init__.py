"""Storage: the only place with SQL and the only importer of sqlite3/sqlite_utils. Plain
synchronous functions ``(db, …) -> domain`` in one module per table family, run off the event
loop by :class:`Storage` (one writer thread, a small pool of readers)."""

from sqlite3 import Error as DatabaseError

from fediverse_mu.storage.core import Storage, StorageError
from fediverse_mu.storage.db import Database, connect, transaction

__all__ = ["Database", "DatabaseError", "Storage", "StorageError", "connect", "transaction"]
