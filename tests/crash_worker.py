"""Run by tests/test_crash.py in a child process: a real Worker claims the queued job, says so
on stdout, then hangs until the test kills the process with SIGKILL."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from fediverse_mu.domain import Job
from fediverse_mu.storage import Storage
from fediverse_mu.worker import Worker


async def main(db_path: Path, lease_seconds: float) -> None:
    storage = Storage(db_path)
    storage.open()

    async def hang(job: Job) -> None:
        print(f"CLAIMED {job.id}", flush=True)
        await asyncio.Event().wait()

    worker = Worker(storage, {"crash.test": hang}, lease_seconds=lease_seconds)
    worker.start()
    worker.notify()
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), float(sys.argv[2])))
