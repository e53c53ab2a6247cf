"""The ``filters``, ``filter_keywords`` and ``filter_statuses`` tables: a resident's filters
loaded whole (keywords and statuses included, three queries for all of an account's filters),
and the rows of each changed one by one."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime

from fediverse_mu.domain.filters import (
    Filter,
    FilterAction,
    FilterContext,
    FilterKeyword,
    FilterStatus,
)
from fediverse_mu.storage.db import Database

_COLUMNS = "id, account_id, title, context, action, expires_at"


def _keyword(row: sqlite3.Row) -> FilterKeyword:
    return FilterKeyword(id=row["id"], filter_id=row["filter_id"], keyword=row["keyword"],
                         whole_word=bool(row["whole_word"]))


def _status(row: sqlite3.Row) -> FilterStatus:
    return FilterStatus(id=row["id"], filter_id=row["filter_id"], status_id=row["status_id"])


def _load(db: Database, rows: Sequence[sqlite3.Row]) -> list[Filter]:
    if not rows:
        return []
    ids = [r["id"] for r in rows]
    marks = ",".join("?" * len(ids))
    keywords: dict[int, list[FilterKeyword]] = {}
    statuses: dict[int, list[FilterStatus]] = {}
    for r in db.execute(f"SELECT id, filter_id, keyword, whole_word FROM filter_keywords"
                        f" WHERE filter_id IN ({marks}) ORDER BY id", ids):
        keywords.setdefault(r["filter_id"], []).append(_keyword(r))
    for r in db.execute(f"SELECT id, filter_id, status_id FROM filter_statuses"
                        f" WHERE filter_id IN ({marks}) ORDER BY id", ids):
        statuses.setdefault(r["filter_id"], []).append(_status(r))
    return [Filter(
        id=r["id"], account_id=r["account_id"], title=r["title"],
        context=tuple(FilterContext(c) for c in r["context"].split(",") if c),
        action=FilterAction(r["action"]),
        expires_at=None if r["expires_at"] is None else datetime.fromisoformat(r["expires_at"]),
        keywords=tuple(keywords.get(r["id"], ())), statuses=tuple(statuses.get(r["id"], ())),
    ) for r in rows]


# -- filters -----------------------------------------------------------------------------------


def list_filters(db: Database, account_id: int) -> list[Filter]:
    """Every filter of an account (expired ones too), oldest first."""
    return list_filters_of(db, [account_id])[account_id]


def list_filters_of(db: Database, account_ids: Sequence[int]) -> dict[int, list[Filter]]:
    """Every filter of each of these accounts (expired ones too), oldest first; an account
    without any maps to an empty list."""
    found: dict[int, list[Filter]] = {a: [] for a in account_ids}
    if not account_ids:
        return found
    marks = ",".join("?" * len(found))
    for item in _load(db, db.execute(f"SELECT {_COLUMNS} FROM filters WHERE account_id IN"
                                     f" ({marks}) ORDER BY id", list(found)).fetchall()):
        found[item.account_id].append(item)
    return found


def get_filter(db: Database, filter_id: int) -> Filter | None:
    """A filter by id."""
    found = _load(db, db.execute(f"SELECT {_COLUMNS} FROM filters WHERE id = ?",
                                 [filter_id]).fetchall())
    return found[0] if found else None


def count_filters(db: Database, account_id: int) -> int:
    """How many filters an account has."""
    return int(db.execute("SELECT count(*) FROM filters WHERE account_id = ?",
                          [account_id]).fetchone()[0])


def _context(context: Sequence[FilterContext]) -> str:
    return ",".join(dict.fromkeys(c.value for c in context))


def put_filter(db: Database, account_id: int, *, title: str, context: Sequence[FilterContext],
               action: FilterAction, expires_at: datetime | None, now: datetime) -> int:
    """Create a filter (without keywords); returns its id."""
    row = db.execute(
        "INSERT INTO filters (account_id, title, context, action, expires_at, created_at,"
        " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
        [account_id, title, _context(context), action.value,
         None if expires_at is None else expires_at.isoformat(), now.isoformat(),
         now.isoformat()]).fetchone()
    return int(row[0])


def update_filter(db: Database, filter_id: int, *, title: str,
                  context: Sequence[FilterContext], action: FilterAction,
                  expires_at: datetime | None, now: datetime) -> None:
    """Replace a filter's own attributes."""
    db.execute("UPDATE filters SET title = ?, context = ?, action = ?, expires_at = ?,"
               " updated_at = ? WHERE id = ?",
               [title, _context(context), action.value,
                None if expires_at is None else expires_at.isoformat(), now.isoformat(),
                filter_id])


def delete_filter(db: Database, filter_id: int) -> None:
    """Delete a filter with its keywords and statuses."""
    db.execute("DELETE FROM filters WHERE id = ?", [filter_id])


# -- keywords ----------------------------------------------------------------------------------


def get_keyword(db: Database, keyword_id: int) -> FilterKeyword | None:
    """A keyword by id."""
    row = db.execute("SELECT id, filter_id, keyword, whole_word FROM filter_keywords"
                     " WHERE id = ?", [keyword_id]).fetchone()
    return None if row is None else _keyword(row)


def count_keywords(db: Database, filter_id: int) -> int:
    """How many keywords a filter has."""
    return int(db.execute("SELECT count(*) FROM filter_keywords WHERE filter_id = ?",
                          [filter_id]).fetchone()[0])


def put_keyword(db: Database, filter_id: int, keyword: str, whole_word: bool,
                now: datetime) -> FilterKeyword:
    """Add a keyword to a filter."""
    row = db.execute("INSERT INTO filter_keywords (filter_id, keyword, whole_word, created_at)"
                     " VALUES (?, ?, ?, ?) RETURNING id, filter_id, keyword, whole_word",
                     [filter_id, keyword, int(whole_word), now.isoformat()]).fetchone()
    return _keyword(row)


def update_keyword(db: Database, keyword_id: int, keyword: str,
                   whole_word: bool) -> FilterKeyword:
    """Change a keyword."""
    row = db.execute("UPDATE filter_keywords SET keyword = ?, whole_word = ? WHERE id = ?"
                     " RETURNING id, filter_id, keyword, whole_word",
                     [keyword, int(whole_word), keyword_id]).fetchone()
    return _keyword(row)


def delete_keyword(db: Database, keyword_id: int) -> None:
    """Remove a keyword."""
    db.execute("DELETE FROM filter_keywords WHERE id = ?", [keyword_id])


# -- statuses ----------------------------------------------------------------------------------


def get_filter_status(db: Database, filter_status_id: int) -> FilterStatus | None:
    """A filtered status entry by id."""
    row = db.execute("SELECT id, filter_id, status_id FROM filter_statuses WHERE id = ?",
                     [filter_status_id]).fetchone()
    return None if row is None else _status(row)


def has_filter_status(db: Database, filter_id: int, status_id: int) -> bool:
    """True when the filter already lists this status."""
    return db.execute("SELECT 1 FROM filter_statuses WHERE filter_id = ? AND status_id = ?",
                      [filter_id, status_id]).fetchone() is not None


def put_filter_status(db: Database, filter_id: int, status_id: int,
                      now: datetime) -> FilterStatus:
    """Add a status to a filter."""
    row = db.execute("INSERT INTO filter_statuses (filter_id, status_id, created_at)"
                     " VALUES (?, ?, ?) RETURNING id, filter_id, status_id",
                     [filter_id, status_id, now.isoformat()]).fetchone()
    return _status(row)


def delete_filter_status(db: Database, filter_status_id: int) -> None:
    """Remove a status from its filter."""
    db.execute("DELETE FROM filter_statuses WHERE id = ?", [filter_status_id])
