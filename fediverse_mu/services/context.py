"""What every service needs: the config, the storage, the event bus, a clock and the
in-memory login throttle."""

from __future__ import annotations

import functools
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import ParamSpec, TypeVar

from fediverse_mu.config import Config
from fediverse_mu.events import EventBus
from fediverse_mu.services.throttle import Throttle
from fediverse_mu.storage import Storage


@dataclass(frozen=True)
class Services:
    """The dependencies handed to service functions (built once by the composition root)."""

    config: Config
    storage: Storage
    events: EventBus = field(default_factory=EventBus)
    clock: Callable[[], float] = time.time
    login_throttle: Throttle = field(default_factory=Throttle)  # failed logins per IP/name
    memo: dict[str, object] = field(default_factory=dict)  # services' in-memory caches, by name

    def now(self) -> datetime:
        """The clock's time as an aware UTC datetime (what rows are stamped with)."""
        return datetime.fromtimestamp(self.clock(), UTC)


P = ParamSpec("P")
T = TypeVar("T")


def forgets(key: str) -> Callable[[Callable[P, Awaitable[T]]], Callable[P, Awaitable[T]]]:
    """Decorate a service function (``svc`` first) that changes what ``svc.memo[key]``
    caches: the entry is dropped once it has run, so this process sees the change at once
    (other processes: when their entry expires)."""
    def decorate(fn: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
        @functools.wraps(fn)
        async def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
            try:
                return await fn(*args, **kwargs)
            finally:
                if args and isinstance(args[0], Services):
                    args[0].memo.pop(key, None)
        return wrapper
    return decorate
