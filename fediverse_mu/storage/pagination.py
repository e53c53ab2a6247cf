"""Keyset pagination in SQL for :class:`~fediverse_mu.domain.pagination.Page`: the WHERE
fragment and ORDER BY direction for one id column, and putting a ``min_id`` page (fetched
oldest first, so it starts right after ``min_id``) back into newest-first order."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from fediverse_mu.domain.pagination import Page

T = TypeVar("T")


def page_clause(column: str, page: Page) -> tuple[str, list[int], str]:
    """``(where, args, direction)`` for ``column``; ``where`` is ``1`` when unbounded. Use as
    ``… WHERE <yours> AND {where} ORDER BY {column} {direction} LIMIT ?``."""
    clauses: list[str] = []
    args: list[int] = []
    if page.max_id is not None:
        clauses.append(f"{column} < ?")
        args.append(page.max_id)
    for lower in (page.since_id, page.min_id):
        if lower is not None:
            clauses.append(f"{column} > ?")
            args.append(lower)
    direction = "ASC" if page.min_id is not None else "DESC"
    return " AND ".join(clauses) or "1", args, direction


def newest_first(rows: Sequence[T], page: Page) -> list[T]:
    """Rows fetched with :func:`page_clause`'s direction, newest first."""
    return list(reversed(rows)) if page.min_id is not None else list(rows)
