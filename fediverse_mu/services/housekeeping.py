"""Periodic tidying for small disks: uploads that were never posted (or whose post was
deleted) are removed after a day. The composition root runs ``tidy`` every hour."""

from __future__ import annotations

import asyncio
import logging

from fediverse_mu.services import media
from fediverse_mu.services.context import Services

log = logging.getLogger(__name__)

INTERVAL = 3600.0  # seconds between two rounds


async def tidy(svc: Services) -> dict[str, int]:
    """One round of housekeeping; returns what was removed."""
    return {"unattached_media": await media.purge_unattached(svc)}


async def run_forever(svc: Services, interval: float = INTERVAL) -> None:
    """Tidy now and then every ``interval`` seconds until cancelled; errors are logged."""
    while True:
        try:
            removed = await tidy(svc)
            if any(removed.values()):
                log.info("housekeeping removed %s", removed)
        except Exception:
            log.exception("housekeeping failed")
        await asyncio.sleep(interval)
