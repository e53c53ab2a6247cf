"""Nothing is lost: a worker process killed with SIGKILL while holding a leased job leaves
the job in the database, and after the lease expires a restarted worker completes it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from fediverse_mu.config import Config
from fediverse_mu.domain import Job, JobState
from fediverse_mu.storage import Storage
from fediverse_mu.storage import jobs as job_store
from fediverse_mu.worker import Worker

LEASE = 30.0


async def test_leased_job_survives_kill_9_and_completes_after_restart(config: Config) -> None:
    storage = Storage(config.database_path)
    storage.open()
    try:
        job_id = await storage.write(job_store.put_job, "crash.test", {"to": "b.test"},
                                     now=time.time())
        child = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("crash_worker.py")),
             str(config.database_path), str(LEASE)],
            stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": os.pathsep.join(
                [str(Path(__file__).parents[1]), os.environ.get("PYTHONPATH", "")])})
        try:
            assert child.stdout is not None
            assert child.stdout.readline().strip() == f"CLAIMED {job_id}"
            leased = await storage.read(job_store.get_job, job_id)
            assert leased is not None and leased.locked_until is not None
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait(10)
            assert child.stdout is not None
            child.stdout.close()
        assert child.returncode == -signal.SIGKILL

        done: list[int] = []

        async def complete(job: Job) -> int:
            done.append(job.id)
            return 202

        now = time.time()
        restarted = Worker(storage, {"crash.test": complete}, clock=lambda: now)
        assert await restarted.run_until_idle() == 0  # the dead worker's lease still holds
        later = now + LEASE + 1
        restarted = Worker(storage, {"crash.test": complete}, clock=lambda: later)
        assert await restarted.run_until_idle() == 1
        job = await storage.read(job_store.get_job, job_id)
        assert job is not None and job.state is JobState.DONE and job.attempts == 2
        assert job.payload == {"to": "b.test"} and done == [job_id]
    finally:
        await storage.close()
