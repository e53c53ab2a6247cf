"""The in-process worker for durable jobs: claims due jobs from the ``jobs`` table with a lease,
runs their handler, and records the outcome and the next attempt (capped exponential backoff
with jitter). A crash loses nothing: an expired lease makes the job claimable again. Tests
call :meth:`Worker.run_until_idle` instead of sleeping."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from fediverse_mu.coalesce import Coalesced
from fediverse_mu.domain.jobs import GiveUp, Job, Postpone, RetryLater
from fediverse_mu.storage import Storage
from fediverse_mu.storage import jobs as job_store

log = logging.getLogger(__name__)

Handler = Callable[[Job], Awaitable[int | None]]
"""A job handler returns an optional status (e.g. the HTTP status of a delivery) or raises
:class:`RetryLater` / :class:`GiveUp` / :class:`Postpone` (not counted as an attempt); any
other exception is retried like RetryLater."""


@dataclass(frozen=True)
class Backoff:
    """``base * 2**(attempt-1)`` seconds capped at ``cap``, times a random factor in
    [1, 1 + jitter). With the defaults, 16 attempts span about two days."""

    base: float = 30.0
    cap: float = 6 * 3600.0
    jitter: float = 0.25

    def delay(self, attempt: int, rand: float) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        raw = min(self.cap, self.base * 2.0 ** max(attempt - 1, 0))
        return raw * (1 + self.jitter * rand)


DEFAULT_CONCURRENCY = 64
"""Jobs in flight at once. They mostly wait (on remote servers for deliveries, on the storage
threads for inbox items), so more than the cores: 8 left a 500-inbox fan-out waiting on TLS
handshakes one small batch at a time (docs/benchmarks.md). Each host still gets at most
``federation.peers.MAX_IN_FLIGHT_PER_HOST`` of them."""


class Worker:
    """Runs durable jobs in the background with bounded concurrency."""

    def __init__(self, storage: Storage, handlers: Mapping[str, Handler], *,
                 concurrency: int = DEFAULT_CONCURRENCY, lease_seconds: float = 300.0,
                 poll_interval: float = 5.0, backoff: Backoff | None = None,
                 clock: Callable[[], float] = time.time,
                 rand: Callable[[], float] = random.random,
                 keep_done_seconds: float = 86400.0) -> None:
        self.storage = storage
        self.handlers = dict(handlers)
        self.concurrency = concurrency
        self.lease_seconds = lease_seconds
        self.poll_interval = poll_interval
        self.backoff = backoff or Backoff()
        self.clock = clock
        self.rand = rand
        self.keep_done_seconds = keep_done_seconds
        self.worker_id = secrets.token_hex(4)
        self._claims = 0
        self._wake = asyncio.Event()
        self._stopping = False
        self._loop_task: asyncio.Task[None] | None = None
        self._inflight: dict[asyncio.Task[None], Job] = {}
        self._last_cleanup = 0.0
        # Finished jobs are recorded together (one transaction for those done meanwhile).
        self._record_done: Coalesced[tuple[int, str, int | None], bool] = Coalesced(
            self._complete_many, self._complete_one)

    # -- public API ---------------------------------------------------------------------------

    def notify(self, *_: object) -> None:
        """Wake the loop: a job was queued (usable as an event-bus listener)."""
        self._wake.set()

    def start(self) -> None:
        """Start the background loop."""
        if self._loop_task is None:
            self._stopping = False
            self._loop_task = asyncio.create_task(self._loop(), name="fediverse-mu-worker")

    async def stop(self, grace: float = 10.0) -> None:
        """Stop claiming; let in-flight jobs finish for ``grace`` seconds, then cancel them and
        release their leases so that the next start picks them up at once."""
        self._stopping = True
        self._wake.set()
        if self._loop_task is not None:
            self._loop_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop_task
            self._loop_task = None
        if self._inflight:
            _, still_running = await asyncio.wait(list(self._inflight), timeout=grace)
            for task in still_running:
                task.cancel()
            if still_running:
                await asyncio.wait(still_running)

    async def run_until_idle(self, max_jobs: int = 100_000) -> int:
        """Run every job due now (and those they queue) until none is due; return how many ran.
        Jobs scheduled in the future (backoff) are left alone."""
        done = 0
        while done < max_jobs:
            token, jobs = await self._claim(self.concurrency)
            if not jobs:
                return done
            await asyncio.gather(*(self._run(job, token) for job in jobs))
            done += len(jobs)
        raise RuntimeError(f"worker not idle after {max_jobs} jobs: a job keeps queueing jobs?")

    # -- internals ----------------------------------------------------------------------------

    async def _claim(self, limit: int) -> tuple[str, list[Job]]:
        self._claims += 1
        token = f"{self.worker_id}:{self._claims}"
        jobs = await self.storage.write(job_store.claim_due_jobs, now=self.clock(),
                                        lease_seconds=self.lease_seconds, limit=limit,
                                        token=token)
        return token, jobs

    async def _loop(self) -> None:
        while not self._stopping:
            free = self.concurrency - len(self._inflight)
            if free <= 0:  # every slot busy: wait for one to free up (no polling meanwhile)
                self._wake.clear()
                await self._wake.wait()
                continue
            claimed: list[Job] = []
            if free > 0:
                try:
                    token, claimed = await self._claim(free)
                except Exception:
                    log.exception("could not claim jobs; retrying")
                    claimed = []
                for job in claimed:
                    task = asyncio.create_task(self._run(job, token), name=f"job-{job.id}")
                    self._inflight[task] = job
                    task.add_done_callback(self._finished)
                await self._housekeeping()
            if claimed and len(claimed) == free:
                await asyncio.sleep(0)  # more may be due: go round again at once
                continue
            self._wake.clear()
            timeout = await self._idle_wait()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=timeout)

    async def _complete_many(self, done: list[tuple[int, str, int | None]]) -> list[bool]:
        return await self.storage.write(job_store.complete_jobs, done, now=self.clock())

    async def _complete_one(self, done: tuple[int, str, int | None]) -> bool:
        job_id, token, status = done
        return await self.storage.write(job_store.complete_job, job_id, token=token,
                                        now=self.clock(), status=status)

    async def _idle_wait(self) -> float:
        try:
            due = await self.storage.read(job_store.next_due_time)
        except Exception:
            return self.poll_interval
        if due is None:
            return self.poll_interval
        return max(0.0, min(self.poll_interval, due - self.clock()))

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._inflight.pop(task, None)
        self._wake.set()

    async def _housekeeping(self) -> None:
        now = self.clock()
        if now - self._last_cleanup < 600:
            return
        self._last_cleanup = now
        try:
            await self.storage.write(job_store.delete_finished_jobs,
                                     before=now - self.keep_done_seconds)
        except Exception:
            log.exception("could not prune finished jobs")

    async def _run(self, job: Job, token: str) -> None:
        handler = self.handlers.get(job.kind)
        try:
            if handler is None:
                raise GiveUp(f"no handler for job kind {job.kind!r}")
            async with asyncio.timeout(self.lease_seconds * 0.9):  # never outlive the lease
                status = await handler(job)
        except asyncio.CancelledError:
            await asyncio.shield(self.storage.write(job_store.release_job, job.id, token=token,
                                                    now=self.clock()))
            raise
        except GiveUp as exc:
            log.warning("job %s (%s) gave up: %s", job.id, job.kind, exc.reason)
            await self.storage.write(job_store.kill_job, job.id, token=token, now=self.clock(),
                                     status=exc.status, error=exc.reason)
        except Postpone as exc:
            now = self.clock()
            await self.storage.write(job_store.postpone_job, job.id, token=token, now=now,
                                     run_at=now + max(exc.delay, 0.0), reason=exc.reason)
        except RetryLater as exc:
            await self._retry(job, token, exc.status, exc.reason, exc.retry_after)
        except TimeoutError:
            await self._retry(job, token, None, "timed out", None)
        except Exception as exc:
            log.exception("job %s (%s) failed unexpectedly", job.id, job.kind)
            await self._retry(job, token, None, f"{type(exc).__name__}: {exc}", None)
        else:
            await self._record_done((job.id, token, status))

    async def _retry(self, job: Job, token: str, status: int | None, reason: str,
                     retry_after: float | None) -> None:
        now = self.clock()
        if job.attempts >= job.max_attempts:
            log.warning("job %s (%s) dead after %d attempts: %s", job.id, job.kind,
                        job.attempts, reason)
            await self.storage.write(job_store.kill_job, job.id, token=token, now=now,
                                     status=status, error=reason)
            return
        delay = self.backoff.delay(job.attempts, self.rand())
        if retry_after is not None:  # the peer said when (HTTP Retry-After); within our cap
            delay = min(max(retry_after, 0.0), self.backoff.cap)
        log.info("job %s (%s) attempt %d failed (%s); retry in %.0f s", job.id, job.kind,
                 job.attempts, reason, delay)
        await self.storage.write(job_store.retry_job, job.id, token=token, now=now,
                                 run_at=now + delay, status=status, error=reason)
