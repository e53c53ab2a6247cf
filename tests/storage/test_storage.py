"""The Storage object: one writer thread in BEGIN IMMEDIATE, readers in parallel snapshots."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

from fediverse_mu.config import Config
from fediverse_mu.storage import Database, Storage, StorageError
from fediverse_mu.storage import settings as settings_store


def _increment(db: Database, key: str) -> int:
    value = (settings_store.get_setting(db, key) or 0) + 1
    settings_store.put_setting(db, key, value)
    return int(value)


def _thread_name(db: Database) -> str:
    return threading.current_thread().name


def _write_then_fail(db: Database) -> None:
    settings_store.put_setting(db, "half", 1)
    raise RuntimeError("boom")


async def test_writes_are_serialised_on_one_thread(config: Config) -> None:
    storage = Storage(config.database_path)
    storage.open()
    try:
        results = await asyncio.gather(*(storage.write(_increment, "n") for _ in range(50)))
        assert sorted(results) == list(range(1, 51))  # no lost update
        names = {await storage.write(_thread_name) for _ in range(5)}
        assert len(names) == 1 and names.pop().startswith("db-writer")
        assert await storage.read(settings_store.get_setting, "n") == 50
    finally:
        await storage.close()


async def test_a_failing_write_changes_nothing(config: Config) -> None:
    storage = Storage(config.database_path)
    storage.open()
    try:
        with pytest.raises(RuntimeError, match="boom"):
            await storage.write(_write_then_fail)
        assert await storage.read(settings_store.get_setting, "half") is None
        await storage.write(settings_store.put_setting, "after", 2)  # the writer still works
        assert await storage.read(settings_store.get_setting, "after") == 2
    finally:
        await storage.close()


def _wait_for(db: Database, started: threading.Event, release: threading.Event) -> int:
    started.set()
    release.wait(5)
    return int(db.execute("SELECT count(*) FROM settings").fetchone()[0])


async def test_reads_run_while_the_writer_is_busy(config: Config) -> None:
    storage = Storage(config.database_path)
    storage.open()
    started, release = threading.Event(), threading.Event()
    try:
        blocked = asyncio.ensure_future(storage.write(_wait_for, started, release))
        await asyncio.get_running_loop().run_in_executor(None, started.wait, 5)
        # The writer holds the write lock; a read still answers (WAL).
        assert await storage.read(settings_store.ping) is True
        release.set()
        assert await blocked >= 1
    finally:
        release.set()
        await storage.close()


async def test_closed_or_missing_storage_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="does not exist"):
        Storage(tmp_path / "missing.db").open()
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StorageError, match="cannot open database"):
        Storage(garbage).open()
    storage = Storage(tmp_path / "missing.db")
    with pytest.raises(StorageError, match="closed"):
        await storage.read(settings_store.ping)
