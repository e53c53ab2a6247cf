"""Storage hygiene for small disks: the retention of remote statuses (a ``settings`` row,
edited in the web admin; 0 keeps them forever) and the prune itself, run by
``fediverse-mu prune`` and once a day by ``services.housekeeping``.

A prune removes the remote statuses older than the retention that no local account
interacted with (``storage.retention`` says exactly which are kept), the incoming activities
processed before the same cutoff, and the uploads never posted after a day
(``services.media.purge_unattached``). Remote media are referenced by URL and never
downloaded, so there is no remote media cache to prune: only their rows go. It works 500
statuses per write transaction, so posting and federation wait at most one batch."""

from __future__ import annotations

import logging
from datetime import timedelta

from fediverse_mu.domain import Account, Invalid, Media
from fediverse_mu.domain.retention import (
    DEFAULT_RETENTION_DAYS,
    MAX_RETENTION_DAYS,
    PRUNE_BATCH,
    PruneCounts,
    PruneReport,
)
from fediverse_mu.domain.statuses import min_id_for
from fediverse_mu.services import audit, media
from fediverse_mu.services.context import Services
from fediverse_mu.storage import Database
from fediverse_mu.storage import retention as store
from fediverse_mu.storage import settings as settings_store

log = logging.getLogger(__name__)

RETENTION_SETTING = "remote_status_retention_days"
LAST_PRUNE_SETTING = "remote_statuses_pruned_at"  # UNIX seconds of the last automatic prune
PRUNE_INTERVAL = 86_400.0  # the automatic prune runs once a day


def parse_days(value: str | int | None, *, allow_zero: bool) -> int:
    """A number of days from a form, the CLI or the API; Invalid for anything else."""
    text = str(value if value is not None else "").strip()
    if not text.isdigit() or len(text) > 6:
        raise Invalid("The number of days must be a whole number"
                      + (" (0 keeps them forever)" if allow_zero else ""))
    days = int(text)
    if days > MAX_RETENTION_DAYS or (days == 0 and not allow_zero):
        low = 0 if allow_zero else 1
        raise Invalid(f"The number of days must be between {low} and {MAX_RETENTION_DAYS}")
    return days


async def retention_days(svc: Services) -> int:
    """How many days remote statuses nobody interacted with are kept (0: forever)."""
    value = await svc.storage.read(settings_store.get_setting, RETENTION_SETTING)
    return value if isinstance(value, int) and 0 <= value <= MAX_RETENTION_DAYS \
        else DEFAULT_RETENTION_DAYS


async def set_retention_days(svc: Services, actor: Account | None, value: str | int) -> int:
    """Change the retention (admins, from the web admin; ``actor`` None: the CLI), audited;
    bad input changes nothing."""
    days = parse_days(value, allow_zero=True)

    def write(db: Database) -> None:
        settings_store.put_setting(db, RETENTION_SETTING, days)
        audit.record_in(db, actor, "settings.retention", "remote statuses",
                        "kept forever" if days == 0 else f"{days} days", svc.now())

    await svc.storage.write(write)
    return days


async def _statuses(svc: Services, before_id: int, dry_run: bool) -> PruneCounts:
    total, after = PruneCounts(), 0
    while True:
        if dry_run:
            ids = await svc.storage.read(store.prunable_status_ids, before_id=before_id,
                                         after_id=after, limit=PRUNE_BATCH)
            if ids:
                total += await svc.storage.read(store.count_status_rows, ids)
        else:
            def batch(db: Database, after_id: int) -> tuple[list[int], PruneCounts,
                                                            list[Media]]:
                found = store.prunable_status_ids(db, before_id=before_id, after_id=after_id,
                                                  limit=PRUNE_BATCH)
                counts, rows = store.delete_statuses(db, found)
                return found, counts, rows

            ids, counts, rows = await svc.storage.write(batch, after)
            total += counts
            await media.remove_files(svc, rows)  # remote media have no file: usually nothing
        if len(ids) < PRUNE_BATCH:
            return total
        after = ids[-1]


async def _inbox_items(svc: Services, days: int, dry_run: bool) -> int:
    cutoff = svc.now() - timedelta(days=days)
    removed, after = 0, 0
    while True:
        ids = await svc.storage.read(store.prunable_inbox_item_ids, received_before=cutoff,
                                     after_id=after, limit=PRUNE_BATCH)
        if ids and not dry_run:
            removed += await svc.storage.write(store.delete_inbox_items, ids)
        elif ids:
            removed += len(ids)
        if len(ids) < PRUNE_BATCH:
            return removed
        after = ids[-1]


async def prune(svc: Services, older_than_days: int | None = None, *,
                dry_run: bool = False) -> PruneReport:
    """Remove (or, with ``dry_run``, count) the remote statuses older than
    ``older_than_days`` (default: the retention) that nobody here needs, the incoming
    activities processed before then, and the stale unattached uploads. A retention of 0
    prunes no statuses (uploads are still tidied)."""
    days = await retention_days(svc) if older_than_days is None else older_than_days
    if days < 0 or days > MAX_RETENTION_DAYS:
        raise Invalid(f"The number of days must be between 1 and {MAX_RETENTION_DAYS}")
    freed_before = 0 if dry_run else await svc.storage.write(store.free_bytes)
    counts = PruneCounts()
    if days > 0:
        before_id = min_id_for(svc.now() - timedelta(days=days))
        counts += await _statuses(svc, before_id, dry_run)
        counts += PruneCounts(inbox_items=await _inbox_items(svc, days, dry_run))
    if dry_run:
        stale = await svc.storage.read(store.count_unattached_media,
                                       svc.now() - media.UNATTACHED_LIFETIME)
    else:
        stale = await media.purge_unattached(svc)
    counts += PruneCounts(unattached_media=stale)
    freed = 0 if dry_run else max(0, await svc.storage.write(store.free_bytes) - freed_before)
    return PruneReport(older_than_days=days, dry_run=dry_run, removed=counts,
                       freed_bytes=freed)


def _claim_daily_prune(db: Database, now: float, interval: float) -> bool:
    last = settings_store.get_setting(db, LAST_PRUNE_SETTING)
    if isinstance(last, int | float) and 0 <= now - last < interval:
        return False
    settings_store.put_setting(db, LAST_PRUNE_SETTING, now)
    return True


async def prune_if_due(svc: Services, interval: float = PRUNE_INTERVAL) -> PruneReport | None:
    """The automatic prune: at most once per ``interval`` across restarts and processes (the
    time of the last one is a setting, claimed in a write), none while the retention is 0.
    None when it did not run."""
    if await retention_days(svc) == 0:
        return None
    if not await svc.storage.write(_claim_daily_prune, svc.clock(), interval):
        return None
    report = await prune(svc)
    if report.removed.total:
        log.info("pruned %s (%d bytes freed in the database)",
                 dict(report.removed.items()), report.freed_bytes)
    return report
