"""Durable jobs: claim with a lease, retries with capped backoff and jitter, final states,
lease expiry after a crash, graceful shutdown, and the background loop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest

from fediverse_mu.config import Config
from fediverse_mu.domain import GiveUp, Job, JobState, RetryLater
from fediverse_mu.storage import Storage
from fediverse_mu.storage import jobs as job_store
from fediverse_mu.worker import Backoff, Worker


@dataclass
class Clock:
    now: float = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Recorder:
    """Handlers whose behaviour a test scripts, recording each call."""

    calls: list[tuple[str, int]] = field(default_factory=list)
    outcomes: list[BaseException | int | None] = field(default_factory=list)

    async def handle(self, job: Job) -> int | None:
        self.calls.append((job.kind, job.attempts))
        outcome = self.outcomes.pop(0) if self.outcomes else 200
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome


@pytest.fixture
async def storage(config: Config) -> AsyncIterator[Storage]:
    store = Storage(config.database_path)
    store.open()
    yield store
    await store.close()


async def put(storage: Storage, clock: Clock, kind: str = "test", **kwargs: object) -> int:
    job_id = await storage.write(job_store.put_job, kind, {"n": 1}, now=clock(), **kwargs)
    assert job_id is not None
    return job_id


async def get(storage: Storage, job_id: int) -> Job:
    job = await storage.read(job_store.get_job, job_id)
    assert job is not None
    return job


def make_worker(storage: Storage, clock: Clock, recorder: Recorder, **kwargs: object) -> Worker:
    return Worker(storage, {"test": recorder.handle}, clock=clock, rand=lambda: 0.5,
                  **kwargs)  # type: ignore[arg-type]


async def test_a_job_runs_once_and_is_done(storage: Storage) -> None:
    clock, rec = Clock(), Recorder()
    job_id = await put(storage, clock)
    worker = make_worker(storage, clock, rec)
    assert await worker.run_until_idle() == 1
    assert await worker.run_until_idle() == 0
    job = await get(storage, job_id)
    assert job.state is JobState.DONE and job.last_status == 200 and job.locked_until is None
    assert rec.calls == [("test", 1)]


async def test_transient_failures_back_off_exponentially_with_jitter(storage: Storage) -> None:
    clock, rec = Clock(), Recorder()
    backoff = Backoff(base=10, cap=100, jitter=0.2)
    rec.outcomes = [RetryLater("503", status=503) for _ in range(5)]
    job_id = await put(storage, clock, max_attempts=10)
    worker = make_worker(storage, clock, rec, backoff=backoff)
    delays = []
    for _ in range(5):
        assert await worker.run_until_idle() == 1
        job = await get(storage, job_id)
        assert job.state is JobState.PENDING and job.last_status == 503
        delays.append(job.next_attempt_at - clock.now)
        assert await worker.run_until_idle() == 0  # not due yet: nothing runs early
        clock.now = job.next_attempt_at
    # 10, 20, 40, 80, then capped at 100 — each times the jitter factor 1 + 0.2 * 0.5
    assert delays == pytest.approx([11, 22, 44, 88, 110])
    assert await worker.run_until_idle() == 1
    assert (await get(storage, job_id)).state is JobState.DONE
    assert [attempt for _, attempt in rec.calls] == [1, 2, 3, 4, 5, 6]


async def test_jitter_spreads_retries(storage: Storage) -> None:
    backoff = Backoff(base=10, cap=1000, jitter=0.5)
    assert backoff.delay(3, 0.0) == 40
    assert backoff.delay(3, 0.999) == pytest.approx(59.98)
    assert backoff.delay(30, 0.0) == 1000
    # The defaults retry for about two days over 16 attempts.
    default = Backoff()
    total = sum(default.delay(n, 0.0) for n in range(1, 16))
    assert 36 * 3600 < total < 60 * 3600


async def test_retry_after_is_honoured_within_the_cap(storage: Storage) -> None:
    clock, rec = Clock(), Recorder()
    rec.outcomes = [RetryLater("429", status=429, retry_after=120),
                    RetryLater("429", status=429, retry_after=10**9)]
    job_id = await put(storage, clock)
    worker = make_worker(storage, clock, rec, backoff=Backoff(base=1, cap=3600))
    await worker.run_until_idle()
    assert (await get(storage, job_id)).next_attempt_at == clock.now + 120
    clock.now += 120
    await worker.run_until_idle()
    assert (await get(storage, job_id)).next_attempt_at == clock.now + 3600


async def test_final_failures_and_exhausted_retries_are_dead(storage: Storage) -> None:
    clock, rec = Clock(), Recorder()
    rec.outcomes = [GiveUp("410 Gone", status=410)]
    gone = await put(storage, clock)
    worker = make_worker(storage, clock, rec, backoff=Backoff(base=1, cap=1, jitter=0))
    await worker.run_until_idle()
    job = await get(storage, gone)
    assert job.state is JobState.DEAD and job.last_status == 410 and "Gone" in (job.last_error
                                                                                 or "")
    rec.outcomes = [ValueError("bug"), ValueError("bug"), ValueError("bug")]
    flaky = await put(storage, clock, max_attempts=3)
    for _ in range(3):
        await worker.run_until_idle()
        clock.now += 2
    job = await get(storage, flaky)
    assert job.state is JobState.DEAD and job.attempts == 3
    assert job.last_error == "ValueError: bug"
    assert await worker.run_until_idle() == 0


async def test_unknown_kind_is_dead_not_retried(storage: Storage) -> None:
    clock, rec = Clock(), Recorder()
    job_id = await put(storage, clock, kind="nobody.handles.this")
    await make_worker(storage, clock, rec).run_until_idle()
    job = await get(storage, job_id)
    assert job.state is JobState.DEAD and "no handler" in (job.last_error or "")
    assert rec.calls == []


async def test_expired_lease_makes_a_job_claimable_again(storage: Storage) -> None:
    clock = Clock()
    job_id = await put(storage, clock)
    # A worker claims the job, then "crashes" (never reports back).
    claimed = await storage.write(job_store.claim_due_jobs, now=clock(), lease_seconds=60,
                                  limit=10, token="crashed:1")
    assert [job.id for job in claimed] == [job_id]
    rec = Recorder()
    other = make_worker(storage, clock, rec, lease_seconds=60)
    assert await other.run_until_idle() == 0  # leased: not claimable yet
    clock.now += 61
    assert await other.run_until_idle() == 1
    job = await get(storage, job_id)
    assert job.state is JobState.DONE and job.attempts == 2
    # The crashed worker coming back cannot overwrite the outcome any more.
    assert not await storage.write(job_store.retry_job, job_id, token="crashed:1",
                                   now=clock(), run_at=clock(), status=500, error="late")
    assert (await get(storage, job_id)).state is JobState.DONE


async def test_dedup_key_keeps_one_pending_job(storage: Storage) -> None:
    clock = Clock()
    first = await storage.write(job_store.put_job, "test", {}, now=clock(), dedup_key="k")
    second = await storage.write(job_store.put_job, "test", {}, now=clock(), dedup_key="k")
    assert first is not None and second is None
    await make_worker(storage, clock, Recorder()).run_until_idle()
    third = await storage.write(job_store.put_job, "test", {}, now=clock(), dedup_key="k")
    assert third is not None  # the first one is done: a new one may be queued


async def test_jobs_queued_by_jobs_run_in_the_same_idle_pass(storage: Storage) -> None:
    clock = Clock()
    seen: list[int] = []

    async def chain(job: Job) -> None:
        seen.append(job.payload["n"])
        if job.payload["n"] < 5:
            await storage.write(job_store.put_job, "chain", {"n": job.payload["n"] + 1},
                                now=clock())

    await storage.write(job_store.put_job, "chain", {"n": 1}, now=clock())
    worker = Worker(storage, {"chain": chain}, clock=clock)
    assert await worker.run_until_idle() == 5
    assert seen == [1, 2, 3, 4, 5]


async def test_background_loop_wakes_on_notify_and_stops_gracefully(storage: Storage) -> None:
    clock = Clock()
    ran = asyncio.Event()

    async def quick(job: Job) -> None:
        ran.set()

    worker = Worker(storage, {"test": quick}, clock=clock, poll_interval=3600)
    worker.start()
    try:
        job_id = await put(storage, clock)
        worker.notify()
        await asyncio.wait_for(ran.wait(), timeout=5)
    finally:
        await worker.stop(grace=5)  # waits for the in-flight job to record its outcome
    assert (await get(storage, job_id)).state is JobState.DONE


async def test_shutdown_releases_jobs_still_running(storage: Storage) -> None:
    clock = Clock()
    started = asyncio.Event()
    never = asyncio.Event()

    async def stuck(job: Job) -> None:
        started.set()
        await never.wait()

    job_id = await put(storage, clock)
    worker = Worker(storage, {"test": stuck}, clock=clock, lease_seconds=600)
    worker.start()
    worker.notify()
    await asyncio.wait_for(started.wait(), timeout=5)
    assert (await get(storage, job_id)).locked_until is not None
    await worker.stop(grace=0.05)
    job = await get(storage, job_id)
    assert job.state is JobState.PENDING and job.locked_until is None
    assert job.attempts == 0  # a release is not a failed attempt
    # A new worker picks it up at once, no lease to wait for.
    rec = Recorder()
    assert await make_worker(storage, clock, rec).run_until_idle() == 1


async def test_finished_jobs_are_pruned_dead_ones_kept(storage: Storage) -> None:
    clock = Clock()
    rec = Recorder()
    rec.outcomes = [200, GiveUp("no")]
    done_id = await put(storage, clock)
    dead_id = await put(storage, clock)
    await make_worker(storage, clock, rec).run_until_idle()
    removed = await storage.write(job_store.delete_finished_jobs, before=clock.now + 1)
    assert removed == 1
    assert await storage.read(job_store.get_job, done_id) is None
    assert (await get(storage, dead_id)).state is JobState.DEAD
    counts = await storage.read(job_store.count_jobs_by_state)
    assert counts == {"pending": 0, "done": 0, "dead": 1}
