"""Periodic tidying for small disks: uploads that were never posted (or whose post was
deleted) are removed after a day, and once a day the remote statuses older than the retention
that nobody here interacted with are pruned (``services.retention``). The composition root
runs ``run_forever``: ``tidy`` every hour, the prune when a day has passed since the last one
(remembered in the database, so restarts and several processes do not repeat it)."""

from __future__ import annotations

import asyncio
import logging

from fediverse_mu.services import media, retention
from fediverse_mu.services.context import Services

log = logging.getLogger(__name__)

INTERVAL = 3600.0  # seconds between two rounds


async def tidy(svc: Services) -> dict[str, int]:
    """One round of housekeeping; returns what was removed."""
    return {"unattached_media": await media.purge_unattached(svc)}


async def run_forever(svc: Services, interval: float = INTERVAL) -> None:
    """Tidy now and then every ``interval`` seconds until cancelled, pruning when it is due
    from the second round on (not while the server starts); errors are logged."""
    first = True
    while True:
        try:
            removed = await tidy(svc)
            pruned = None if first else await retention.prune_if_due(svc)
            if pruned is not None:
                removed["remote_statuses"] = pruned.removed.statuses
            if any(removed.values()):
                log.info("housekeeping removed %s", removed)
        except Exception:
            log.exception("housekeeping failed")
        first = False
        await asyncio.sleep(interval)
