"""The multi-instance harness itself: instances reach each other by name over real HTTP
through the fake resolver, and ``settle`` drains every worker."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from fediverse_mu.domain import Job
from fediverse_mu.services import jobs
from tests.conftest import Instance, settle


async def test_instances_answer_by_name(
        instances: Callable[..., Awaitable[list[Instance]]]) -> None:
    a, b, c = await instances("a.test", "b.test", "c.test")
    for inst in (a, b, c):
        status, doc = await inst.get_json("/api/v2/instance")
        assert status == 200 and doc["domain"] == inst.name
    assert len({a.server.port, b.server.port, c.server.port}) == 3


async def test_unknown_names_do_not_resolve(
        instances: Callable[..., Awaitable[list[Instance]]]) -> None:
    (a,) = await instances("a.test")
    with pytest.raises(OSError):
        async with a.http.get("http://nowhere.test/"):
            pass


async def test_settle_runs_jobs_that_hop_between_instances(
        instances: Callable[..., Awaitable[list[Instance]]]) -> None:
    a, b = await instances("a.test", "b.test")
    hops: list[str] = []

    def hopper(here: Instance, there: Instance) -> Callable[[Job], Awaitable[None]]:
        async def run(job: Job) -> None:
            hops.append(here.name)
            if job.payload["left"] > 0:
                await jobs.enqueue(there.svc, "hop", {"left": job.payload["left"] - 1})
        return run

    a.worker.handlers["hop"] = hopper(a, b)
    b.worker.handlers["hop"] = hopper(b, a)
    await jobs.enqueue(a.svc, "hop", {"left": 3})
    assert await settle(a, b) == 4
    assert hops == ["a.test", "b.test", "a.test", "b.test"]
    assert await jobs.queue_counts(a.svc) == {"pending": 0, "done": 2, "dead": 0}
