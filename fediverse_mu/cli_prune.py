"""Storage hygiene from the command line: ``fediverse-mu prune --data DIR [--older-than DAYS]
[--dry-run]`` removes the remote statuses older than the retention (or ``DAYS``) that no
resident interacted with, the incoming activities processed before then and the uploads never
posted, and prints what it removed (or would remove). Safe while the server runs: it works in
short batches."""

from __future__ import annotations

import argparse
from typing import Any

from fediverse_mu import cli
from fediverse_mu.domain.retention import PruneReport
from fediverse_mu.services import retention
from fediverse_mu.services.context import Services

LABELS = {
    "statuses": "remote statuses (and boosts of them)",
    "feed_rows": "home and list feed entries",
    "notifications": "notifications about them",
    "mentions": "mentions",
    "tags": "hashtag links",
    "edits": "edit history entries",
    "media": "remote media rows (their files live on their servers)",
    "polls": "polls",
    "favourites": "remote favourites",
    "inbox_items": "incoming activities processed",
    "unattached_media": "uploads never posted (files removed)",
}


def _size(count: int) -> str:
    size = float(count)
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{count} bytes"


def describe(report: PruneReport, *, retention_off: bool = False) -> list[str]:
    """The lines ``prune`` prints."""
    verb = "Would remove" if report.dry_run else "Removed"
    lines = []
    if retention_off:
        lines.append("The retention is 0 (keep forever): no status pruned. "
                     "Pass --older-than DAYS to prune anyway.")
    else:
        lines.append(f"{verb} what is older than {report.older_than_days} day(s) and "
                     "nobody here interacted with" + (" (dry run: nothing changed):"
                                                      if report.dry_run else ":"))
    for name, count in report.removed.items():
        lines.append(f"  {count:>8}  {LABELS[name]}")
    if not report.dry_run:
        lines.append(f"{_size(report.freed_bytes)} freed in the database (reused by new "
                     "rows; 'sqlite3 fediverse-mu.db VACUUM' with the server stopped gives "
                     "them back to the disk)")
    return lines


def cmd_prune(args: argparse.Namespace) -> int:
    """Prune old remote statuses, processed activities and stale uploads."""
    days = None if args.older_than is None else \
        retention.parse_days(args.older_than, allow_zero=False)
    config = cli._load(args)
    cli._require_current_schema(config)

    async def work(svc: Services) -> tuple[PruneReport, bool]:
        off = days is None and await retention.retention_days(svc) == 0
        return await retention.prune(svc, days, dry_run=args.dry_run), off

    report, off = cli._with_services(config, work)
    print("\n".join(describe(report, retention_off=off)))
    return 0


def register(commands: Any, user_commands: Any) -> None:
    """Add ``prune`` to the parser."""
    prune = commands.add_parser(
        "prune", help="remove old remote statuses nobody here interacted with, processed "
                      "activities and uploads never posted")
    cli._data_arg(prune)
    prune.add_argument("--older-than", metavar="DAYS",
                       help="age in days (default: the retention set in the web admin, 30)")
    prune.add_argument("--dry-run", action="store_true",
                       help="only count what would be removed")
    prune.set_defaults(func=cmd_prune)
