"""A page request over a list ordered by id, newest first, as Mastodon clients ask for one:
``max_id`` (older than), ``since_id`` (newer than, newest first), ``min_id`` (the page just
newer than, oldest first then returned newest first) and ``limit``."""

from __future__ import annotations

from typing import NamedTuple


class Page(NamedTuple):
    """Which slice of an id-ordered list to return (unpacks as a plain tuple too)."""

    max_id: int | None = None
    since_id: int | None = None
    min_id: int | None = None
    limit: int = 40
