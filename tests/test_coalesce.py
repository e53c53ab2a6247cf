"""Coalesced storage calls: concurrent callers share one combined call, each gets its own
result, and a failing combined call is retried item by item so that errors stay personal."""

from __future__ import annotations

import asyncio

import pytest

from fediverse_mu.coalesce import Coalesced


class Recorder:
    """A fake storage call that records how it was called."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.singles: list[int] = []

    async def many(self, items: list[int]) -> list[int]:
        self.batches.append(items)
        await asyncio.sleep(0)  # like a trip to the storage thread
        if any(item < 0 for item in items):
            raise ValueError("a negative item spoils the batch")
        return [item * 10 for item in items]

    async def one(self, item: int) -> int:
        self.singles.append(item)
        if item < 0:
            raise ValueError(f"negative: {item}")
        return item * 10


async def test_concurrent_calls_share_one_call_and_get_their_own_results() -> None:
    recorder = Recorder()
    coalesced = Coalesced(recorder.many, recorder.one)
    results = await asyncio.gather(*(coalesced(i) for i in range(1, 21)))
    assert results == [i * 10 for i in range(1, 21)]
    assert sum(len(batch) for batch in recorder.batches) == 20
    assert len(recorder.batches) < 20  # combined, not one call each
    assert recorder.singles == []


async def test_calls_arriving_during_a_call_go_in_the_next_one() -> None:
    recorder = Recorder()
    coalesced = Coalesced(recorder.many, recorder.one)
    first = asyncio.ensure_future(coalesced(1))
    await asyncio.sleep(0)
    await asyncio.sleep(0)  # the first call is now "in the storage thread"
    later = await asyncio.gather(coalesced(2), coalesced(3))
    assert await first == 10 and later == [20, 30]
    assert recorder.batches == [[1], [2, 3]]


async def test_a_failing_batch_is_retried_one_by_one() -> None:
    recorder = Recorder()
    coalesced = Coalesced(recorder.many, recorder.one)
    outcomes = await asyncio.gather(coalesced(1), coalesced(-2), coalesced(3),
                                    return_exceptions=True)
    assert outcomes[0] == 10 and outcomes[2] == 30
    assert isinstance(outcomes[1], ValueError) and str(outcomes[1]) == "negative: -2"
    assert recorder.singles == [1, -2, 3]


async def test_a_cancelled_caller_does_not_break_the_others() -> None:
    recorder = Recorder()
    coalesced = Coalesced(recorder.many, recorder.one)
    doomed = asyncio.ensure_future(coalesced(1))
    kept = asyncio.ensure_future(coalesced(2))
    await asyncio.sleep(0)
    doomed.cancel()
    assert await kept == 20
    with pytest.raises(asyncio.CancelledError):
        await doomed
    assert await coalesced(3) == 30  # and it still works afterwards
