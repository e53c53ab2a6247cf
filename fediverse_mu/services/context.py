"""What every service needs: the config, the storage, the event bus, a clock and the
in-memory login throttle."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

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
