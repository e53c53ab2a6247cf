"""The admin dashboard's figures: users (active, pending, disabled, by role), posts, known
remote accounts and servers, the federation queue's health (pending and dead deliveries per
host) and the disk space used by the database and the media folder."""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from pathlib import Path

from fediverse_mu.services.context import Services
from fediverse_mu.services.delivery import DELIVER_JOB
from fediverse_mu.storage import Database
from fediverse_mu.storage import dashboard as store


@dataclass(frozen=True)
class HostQueue:
    """Deliveries waiting for (or given up on) one remote host."""

    host: str
    pending: int
    dead: int


@dataclass(frozen=True)
class Dashboard:
    """Everything the dashboard shows."""

    users: dict[str, int]
    content: dict[str, int]
    queue: list[HostQueue]
    database_bytes: int
    media_bytes: int
    media_files: int

    @property
    def pending_deliveries(self) -> int:
        """Pending deliveries over every host."""
        return sum(q.pending for q in self.queue)

    @property
    def dead_deliveries(self) -> int:
        """Deliveries given up on, over every host."""
        return sum(q.dead for q in self.queue)


def _figures(db: Database) -> tuple[dict[str, int], dict[str, int], list[HostQueue]]:
    queue = [HostQueue(h, p, d) for h, p, d in store.delivery_queue(db, DELIVER_JOB)]
    return store.user_counts(db), store.content_counts(db), queue


def _database_bytes(path: Path) -> int:
    total = 0
    for suffix in ("", "-wal", "-shm"):
        try:
            total += os.stat(f"{path}{suffix}").st_size
        except OSError:
            pass
    return total


def _folder_bytes(folder: Path) -> tuple[int, int]:
    size = files = 0
    for root, _dirs, names in os.walk(folder):
        for name in names:
            try:
                size += os.stat(os.path.join(root, name)).st_size
                files += 1
            except OSError:
                pass
    return size, files


async def dashboard(svc: Services) -> Dashboard:
    """Collect the dashboard's figures (one database read, the disk walk in a thread)."""
    users, content, queue = await svc.storage.read(_figures)
    db_bytes = await asyncio.to_thread(_database_bytes, svc.config.database_path)
    media_bytes, media_files = await asyncio.to_thread(_folder_bytes, svc.config.media_path)
    return Dashboard(users, content, queue, db_bytes, media_bytes, media_files)
