"""Coalescing concurrent storage calls: while one call is in a storage thread, the calls that
arrive meanwhile queue up and go together in the next one. The inbox uses it for its group
commit (many accepted activities, one transaction) and its key lookups (one read snapshot),
the worker for recording finished jobs. Each caller still gets its own result, and only once
the combined call is over: for a write, once the transaction holding its item is committed."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

A = TypeVar("A")
R = TypeVar("R")


class Coalesced(Generic[A, R]):
    """``await coalesced(arg)`` runs ``many([arg, …])`` for every call made meanwhile. If a
    combined call fails, its items are retried one by one through ``one``, so that each
    caller gets its own outcome (one bad item never fails the others)."""

    def __init__(self, many: Callable[[list[A]], Awaitable[list[R]]],
                 one: Callable[[A], Awaitable[R]]) -> None:
        self._many = many
        self._one = one
        self._queue: list[tuple[A, asyncio.Future[R]]] = []
        self._task: asyncio.Task[None] | None = None

    async def __call__(self, arg: A) -> R:
        """The result of ``one(arg)``, computed together with the concurrent calls."""
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._queue.append((arg, future))
        if self._task is None:
            self._task = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        batch: list[tuple[A, asyncio.Future[R]]] = []
        try:
            while self._queue:
                batch, self._queue = self._queue, []
                try:
                    results = await self._many([arg for arg, _ in batch])
                except Exception:
                    for arg, future in batch:
                        try:
                            result = await self._one(arg)
                        except Exception as exc:
                            _settle(future, exc)
                        else:
                            _settle(future, result)
                else:
                    for (_, future), result in zip(batch, results, strict=True):
                        _settle(future, result)
        finally:
            self._task = None
            for _, future in batch + self._queue:  # cancelled (shutdown): nobody waits forever
                if not future.done():
                    future.cancel()


def _settle(future: asyncio.Future[R], outcome: R | Exception) -> None:
    if future.done():  # its caller was cancelled meanwhile
        return
    if isinstance(outcome, Exception):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)
