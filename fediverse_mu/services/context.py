"""What every service needs: the config, the storage, the event bus and a clock."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from fediverse_mu.config import Config
from fediverse_mu.events import EventBus
from fediverse_mu.storage import Storage


@dataclass(frozen=True)
class Services:
    """The dependencies handed to service functions (built once by the composition root)."""

    config: Config
    storage: Storage
    events: EventBus = field(default_factory=EventBus)
    clock: Callable[[], float] = time.time
