"""The :class:`Storage` object runs the synchronous storage functions. Every write goes through
one dedicated writer thread inside ``BEGIN IMMEDIATE``. Reads (WAL lets them run while a write is
in progress) run in one snapshot either **inline**, on the event loop's own connection
(:meth:`Storage.read`), or on a small pool of reader threads (:meth:`Storage.read_in_thread`).

Why inline by default: the reads of a request are short, index-bound queries whose cost is
mostly Python building rows into objects, which holds the GIL anyway; handing each one to a
thread and back cost about 0.3 ms of CPU per read in the API benchmark (a home-timeline page
made four), more than most of the queries themselves. Reads that scan (aggregates over months
of posts, exports, full-text-like searches, anything that may touch pages far from the cache)
must use :meth:`read_in_thread`, so that one slow read never stalls every other request."""

from __future__ import annotations

import asyncio
import functools
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

from fediverse_mu.coalesce import Coalesced
from fediverse_mu.storage.db import Database, connect, transaction

P = ParamSpec("P")
T = TypeVar("T")
A = TypeVar("A")
R = TypeVar("R")


# The writer's page cache. Posting writes into every local follower's home feed: one B-tree
# leaf per follower, ~1,000 hot leaves (4 MB) for a thousand residents. With SQLite's default
# 2 MiB they are read back from the OS for nearly every post (bench/api.py, 100 followers
# each: 354 posts/s; 16 MiB: 483/s; 32 MiB: 490/s). The pages fill only as they are used, so
# a small instance never grows to this; readers keep the default (their hot pages are few).
WRITER_CACHE_MIB = 32


class StorageError(Exception):
    """The database cannot be opened or used (message meant for the admin)."""


class Storage:
    """Asynchronous access to the database through one writer thread and N reader threads."""

    def __init__(self, path: Path, *, readers: int = 2,
                 writer_cache_mib: int = WRITER_CACHE_MIB) -> None:
        self.path = path
        self._readers_count = readers
        self._writer_cache_mib = writer_cache_mib
        self._local = threading.local()
        self._connections: list[Database] = []
        self._conn_lock = threading.Lock()
        self._writer: ThreadPoolExecutor | None = None
        self._readers: ThreadPoolExecutor | None = None
        self._inline: Database | None = None  # the event loop's connection, opened on first use
        self._grouped: dict[object, Coalesced[Any, Any]] = {}

    def _open_thread_connection(self, cache_mib: int | None = None) -> None:
        db = connect(self.path, cache_mib=cache_mib)
        self._local.db = db
        with self._conn_lock:
            self._connections.append(db)

    def open(self) -> None:
        """Start the threads (connections open lazily in each thread)."""
        if not self.path.exists():
            raise StorageError(f"database {self.path} does not exist (run 'fediverse-mu init')")
        try:  # fail early and clearly on an unreadable or corrupt file
            probe = connect(self.path)
            probe.execute("SELECT count(*) FROM sqlite_master").fetchone()
            probe.close()
        except sqlite3.Error as exc:
            raise StorageError(f"cannot open database {self.path}: {exc}") from exc
        self._writer = ThreadPoolExecutor(1, "db-writer", self._open_thread_connection,
                                          (self._writer_cache_mib,))
        self._readers = ThreadPoolExecutor(self._readers_count, "db-reader",
                                           self._open_thread_connection)

    async def close(self) -> None:
        """Finish queued work, stop the threads and close every connection."""
        for pool in (self._writer, self._readers):
            if pool is not None:
                await asyncio.get_running_loop().run_in_executor(None, pool.shutdown, True)
        self._writer = self._readers = None
        self._inline = None
        with self._conn_lock:
            for db in self._connections:
                db.close()
            self._connections.clear()

    def _run_write(self, fn: Callable[..., T], *args: object, **kwargs: object) -> T:
        db: Database = self._local.db
        with transaction(db):
            return fn(db, *args, **kwargs)

    def _run_read(self, fn: Callable[..., T], *args: object, **kwargs: object) -> T:
        db: Database = self._local.db
        db.conn.execute("BEGIN")  # one snapshot for the whole function
        try:
            return fn(db, *args, **kwargs)
        finally:
            db.conn.rollback()

    async def write(self, fn: Callable[Concatenate[Database, P], T], *args: P.args,
                    **kwargs: P.kwargs) -> T:
        """Run ``fn(db, …)`` on the writer thread inside one write transaction."""
        if self._writer is None:
            raise StorageError("storage is closed")
        call = functools.partial(self._run_write, fn, *args, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(self._writer, call)

    def grouped(self, fn: Callable[[Database, list[A]], list[R]]) -> Coalesced[A, R]:
        """A group commit of ``fn``: ``await storage.grouped(fn)(item)`` writes the item with
        every other one given while a write was in the writer thread, in one transaction
        (``fn(db, items)`` returns one result per item, in order); if that transaction fails,
        each item is retried alone, so one bad item fails no other (coalesce.py)."""
        found: Coalesced[A, R] | None = self._grouped.get(fn)
        if found is None:
            async def many(items: list[A]) -> list[R]:
                return await self.write(fn, items)

            async def one(item: A) -> R:
                return (await many([item]))[0]

            found = self._grouped[fn] = Coalesced(many, one)
        return found

    async def read(self, fn: Callable[Concatenate[Database, P], T], *args: P.args,
                   **kwargs: P.kwargs) -> T:
        """Run a short read ``fn(db, …)`` right here on the event loop, in one read snapshot
        (see the module docstring; scans go to :meth:`read_in_thread`)."""
        if self._readers is None:
            raise StorageError("storage is closed")
        db = self._inline
        if db is None:
            db = self._inline = connect(self.path)
            with self._conn_lock:
                self._connections.append(db)
        db.conn.execute("BEGIN")  # one snapshot for the whole function
        try:
            return fn(db, *args, **kwargs)
        finally:
            db.conn.rollback()

    async def read_in_thread(self, fn: Callable[Concatenate[Database, P], T], *args: P.args,
                             **kwargs: P.kwargs) -> T:
        """Run a long read ``fn(db, …)`` on a reader thread, in one read snapshot."""
        if self._readers is None:
            raise StorageError("storage is closed")
        call = functools.partial(self._run_read, fn, *args, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(self._readers, call)
