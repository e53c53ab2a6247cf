"""Queueing durable jobs from services. A service that changes state and needs background work
writes both in one transaction (``storage.jobs.put_job`` inside its write function) and then
calls :func:`announce_jobs`; :func:`enqueue` is for a job on its own."""

from __future__ import annotations

from typing import Any

from fediverse_mu.events import JOB_QUEUED
from fediverse_mu.services.context import Services
from fediverse_mu.storage import jobs as job_store


def announce_jobs(svc: Services) -> None:
    """Wake the worker after a transaction that queued jobs committed."""
    svc.events.publish(JOB_QUEUED)


async def enqueue(svc: Services, kind: str, payload: dict[str, Any], *,
                  delay: float = 0.0, max_attempts: int = 10, host: str | None = None,
                  dedup_key: str | None = None) -> int | None:
    """Queue one job; returns its id (None when an identical pending job exists)."""
    now = svc.clock()
    job_id = await svc.storage.write(job_store.put_job, kind, payload, now=now,
                                     run_at=now + delay, max_attempts=max_attempts, host=host,
                                     dedup_key=dedup_key)
    announce_jobs(svc)
    return job_id


async def queue_counts(svc: Services) -> dict[str, int]:
    """Jobs per state (pending, done, dead)."""
    return await svc.storage.read(job_store.count_jobs_by_state)
