"""Storage hygiene for small disks: how long old remote statuses nobody here interacted with
are kept (the retention, in days; 0 keeps them forever), and what a prune removed (or would
remove, in a dry run)."""

from __future__ import annotations

from dataclasses import dataclass, fields

DEFAULT_RETENTION_DAYS = 30
MAX_RETENTION_DAYS = 36_500  # a hundred years: "keep" without saying forever
PRUNE_BATCH = 500  # statuses per write transaction: the writer is never held long


@dataclass(frozen=True, slots=True)
class PruneCounts:
    """Rows a prune removed (or would remove): remote statuses (boosts of them included) and
    what hung off them, processed inbox items, and unattached local uploads."""

    statuses: int = 0
    feed_rows: int = 0  # home and list feed entries
    notifications: int = 0
    mentions: int = 0
    tags: int = 0
    edits: int = 0
    media: int = 0  # remote attachments: rows only, their files live on their servers
    polls: int = 0
    favourites: int = 0  # remote accounts' favourites of these statuses
    inbox_items: int = 0  # incoming activities processed long ago
    unattached_media: int = 0  # local uploads never posted (files removed too)

    def __add__(self, other: PruneCounts) -> PruneCounts:
        return PruneCounts(*(getattr(self, f.name) + getattr(other, f.name)
                             for f in fields(self)))

    def items(self) -> list[tuple[str, int]]:
        """(name, count) pairs, in declaration order."""
        return [(f.name, getattr(self, f.name)) for f in fields(self)]

    @property
    def total(self) -> int:
        """Every row counted."""
        return sum(n for _, n in self.items())


@dataclass(frozen=True, slots=True)
class PruneReport:
    """The outcome of one prune."""

    older_than_days: int
    dry_run: bool
    removed: PruneCounts
    freed_bytes: int = 0  # database pages put on the free list (VACUUM gives them back)
