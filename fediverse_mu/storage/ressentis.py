"""The ``ressentis`` table (a status's feeling and coarse location), the distinct locations
ressentis were made at, and the ``barometer`` (weekly counts per feeling of the place's public
ressentis, kept by triggers); the ressenti timelines: per feeling, per spot, nearby, and the
latest public local ones."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime

from fediverse_mu.domain.pagination import Page
from fediverse_mu.domain.places import Ressenti, iso_week
from fediverse_mu.storage.db import Database
from fediverse_mu.storage.pagination import page_clause

MAX_PAGE = 40


def _ressenti(row: sqlite3.Row) -> Ressenti:
    return Ressenti(feeling=row["feeling"], emoji=row["emoji"], label=row["label"],
                    location_name=row["location_name"], latitude=row["latitude"],
                    longitude=row["longitude"], spot=row["spot"], place_uri=row["place_uri"])


def put_ressenti(db: Database, status_id: int, ressenti: Ressenti, *, local: bool,
                 public: bool, local_only: bool, created_at: datetime) -> None:
    """Store (or replace) a status's ressenti and remember its location."""
    db.execute("DELETE FROM ressentis WHERE status_id = ?", [status_id])
    db.execute(
        "INSERT INTO ressentis (status_id, feeling, emoji, label, location_name, latitude,"
        " longitude, spot, place_uri, local, public, local_only, week)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [status_id, ressenti.feeling, ressenti.emoji, ressenti.label, ressenti.location_name,
         ressenti.latitude, ressenti.longitude, ressenti.spot, ressenti.place_uri, int(local),
         int(public), int(local_only), iso_week(created_at)])
    if ressenti.latitude is not None and ressenti.longitude is not None:
        db.execute("INSERT OR IGNORE INTO ressenti_locations (latitude, longitude)"
                   " VALUES (?, ?)", [ressenti.latitude, ressenti.longitude])


def delete_ressenti(db: Database, status_id: int) -> None:
    """Remove a status's ressenti (an edit that took the feeling away)."""
    db.execute("DELETE FROM ressentis WHERE status_id = ?", [status_id])


def ressentis_for(db: Database, status_ids: Sequence[int]) -> dict[int, Ressenti]:
    """The ressentis of several statuses, by status id."""
    found: dict[int, Ressenti] = {}
    unique = list(dict.fromkeys(status_ids))
    for start in range(0, len(unique), 500):
        chunk = unique[start:start + 500]
        marks = ",".join("?" * len(chunk))
        for row in db.execute(f"SELECT * FROM ressentis WHERE status_id IN ({marks})", chunk):
            found[row["status_id"]] = _ressenti(row)
    return found


def get_ressenti(db: Database, status_id: int) -> Ressenti | None:
    """One status's ressenti."""
    row = db.execute("SELECT * FROM ressentis WHERE status_id = ?", [status_id]).fetchone()
    return None if row is None else _ressenti(row)


# -- timelines ------------------------------------------------------------------------------------


def _visible_clause(include_local_only: bool) -> str:
    # Public statuses of any origin; local-only ones only for residents.
    base = "(r.public = 1"
    if include_local_only:
        base += " OR (r.local = 1 AND r.local_only = 1 AND s.visibility = 'public')"
    return base + ")"


def _page_ids(db: Database, where: str, params: list[object], page: Page,
              include_local_only: bool) -> list[int]:
    clause, extra, order = page_clause("r.status_id", page)
    rows = db.execute(
        f"SELECT r.status_id FROM ressentis r JOIN statuses s ON s.id = r.status_id"
        f" WHERE {where} AND {_visible_clause(include_local_only)} AND s.deleted_at IS NULL"
        f" AND {clause} ORDER BY r.status_id {order} LIMIT ?",
        [*params, *extra, min(page.limit, MAX_PAGE)]).fetchall()
    return sorted((r[0] for r in rows), reverse=True)


def feeling_timeline_ids(db: Database, feeling: str, page: Page, *,
                         include_local_only: bool) -> list[int]:
    """A page of ressentis with this feeling, newest first."""
    return _page_ids(db, "r.feeling = ?", [feeling], page, include_local_only)


def spot_timeline_ids(db: Database, spot: str, page: Page, *,
                      include_local_only: bool) -> list[int]:
    """A page of ressentis at this local spot (by hashtag), newest first."""
    return _page_ids(db, "r.spot = ?", [spot], page, include_local_only)


def local_public_ids(db: Database, limit: int) -> list[int]:
    """The latest public ressentis posted here (for the place page and the Atom feed)."""
    return [r[0] for r in db.execute(
        "SELECT r.status_id FROM ressentis r WHERE r.public = 1 AND r.local = 1"
        " ORDER BY r.status_id DESC LIMIT ?", [limit])]


def locations_in_box(db: Database, box: tuple[float, float, float, float]) -> list[
        tuple[float, float]]:
    """The distinct ressenti locations inside a bounding box."""
    return [(r[0], r[1]) for r in db.execute(
        "SELECT latitude, longitude FROM ressenti_locations WHERE latitude BETWEEN ? AND ?"
        " AND longitude BETWEEN ? AND ?", list(box))]


def nearby_ids(db: Database, locations: Sequence[tuple[float, float]], page: Page, *,
               include_local_only: bool) -> list[int]:
    """A page of ressentis made at one of ``locations``, newest first."""
    if not locations:
        return []
    values = ",".join("(?, ?)" for _ in locations)
    params: list[object] = [v for pair in locations for v in pair]
    return _page_ids(db, f"(r.latitude, r.longitude) IN (VALUES {values})", params, page,
                     include_local_only)


def ids_at(db: Database, latitude: float, longitude: float, limit: int, offset: int, *,
           include_local_only: bool) -> list[int]:
    """Ressentis made at one location, newest first (the nearby timeline by distance)."""
    return [r[0] for r in db.execute(
        f"SELECT r.status_id FROM ressentis r JOIN statuses s ON s.id = r.status_id"
        f" WHERE r.latitude = ? AND r.longitude = ? AND {_visible_clause(include_local_only)}"
        f" AND s.deleted_at IS NULL ORDER BY r.status_id DESC LIMIT ? OFFSET ?",
        [latitude, longitude, limit, offset])]


def count_at(db: Database, latitude: float, longitude: float, *,
             include_local_only: bool) -> int:
    """How many visible ressentis were made at one location."""
    return int(db.execute(
        f"SELECT count(*) FROM ressentis r JOIN statuses s ON s.id = r.status_id"
        f" WHERE r.latitude = ? AND r.longitude = ? AND {_visible_clause(include_local_only)}"
        f" AND s.deleted_at IS NULL", [latitude, longitude]).fetchone()[0])


def network_ids(db: Database, account_ids: Sequence[int], page: Page) -> list[int]:
    """A page of statuses by allied places and their residents (public or addressed to the
    network of places), newest first."""
    if not account_ids:
        return []
    marks = ",".join("?" * len(account_ids))
    clause, extra, order = page_clause("s.id", page)
    rows = db.execute(
        f"SELECT s.id FROM statuses s WHERE s.deleted_at IS NULL AND s.reblog_of_id IS NULL"
        f" AND s.account_id IN (SELECT id FROM accounts WHERE id IN ({marks}) OR domain IN"
        f"  (SELECT domain FROM accounts WHERE id IN ({marks})))"
        f" AND (s.visibility = 'public' OR s.id IN (SELECT status_id FROM network_statuses))"
        f" AND {clause} ORDER BY s.id {order} LIMIT ?",
        [*account_ids, *account_ids, *extra, min(page.limit, MAX_PAGE)]).fetchall()
    return sorted((r[0] for r in rows), reverse=True)


# -- barometer ------------------------------------------------------------------------------------


def barometer_rows(db: Database, first_week: str) -> list[tuple[str, str, int]]:
    """(week, feeling, count) of the place's public ressentis since ``first_week``."""
    return [(r[0], r[1], r[2]) for r in db.execute(
        "SELECT week, feeling, count FROM barometer WHERE week >= ? AND count > 0"
        " ORDER BY week, feeling", [first_week])]


def rebuild_barometer(db: Database) -> int:
    """Recount the barometer from the ressentis (a repair tool); returns the rows written."""
    db.execute("DELETE FROM barometer")
    return db.execute(
        "INSERT INTO barometer (week, feeling, count) SELECT week, feeling, count(*)"
        " FROM ressentis WHERE local = 1 AND public = 1 GROUP BY week, feeling").rowcount
