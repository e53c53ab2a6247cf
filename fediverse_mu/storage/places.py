"""The place tables: ``place_settings`` (one row), ``place_spots``, ``place_feelings`` (the
vocabulary), ``known_places`` (the directory and the allied places), ``place_prefs`` (a
resident's local-only default) and ``network_statuses`` (posts for the network of places)."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime

from fediverse_mu.domain.places import Feeling, KnownPlace, PlaceSettings, Spot, Territory, fold
from fediverse_mu.storage.db import Database

PLACE_ACTOR_SETTING = "place_actor_id"


def _settings(row: sqlite3.Row) -> PlaceSettings:
    return PlaceSettings(
        name=row["name"], kind=row["kind"], description=row["description"],
        address=row["address"], latitude=row["latitude"], longitude=row["longitude"],
        territory=Territory(
            name=row["territory_name"], communes=tuple(json.loads(row["communes"])),
            radius_km=row["radius_km"],
            polygon=tuple((float(a), float(b)) for a, b in json.loads(row["polygon"]))),
        min_group_size=row["min_group_size"])


def get_settings(db: Database) -> PlaceSettings | None:
    """The place's settings (None before they are first saved)."""
    row = db.execute("SELECT * FROM place_settings WHERE id = 1").fetchone()
    return None if row is None else _settings(row)


def put_settings(db: Database, settings: PlaceSettings, now: datetime) -> PlaceSettings:
    """Create or replace the place's settings."""
    t = settings.territory
    db.execute(
        "INSERT INTO place_settings (id, name, kind, description, address, latitude, longitude,"
        " territory_name, communes, radius_km, polygon, min_group_size, updated_at)"
        " VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET"
        " name = excluded.name, kind = excluded.kind, description = excluded.description,"
        " address = excluded.address, latitude = excluded.latitude,"
        " longitude = excluded.longitude, territory_name = excluded.territory_name,"
        " communes = excluded.communes, radius_km = excluded.radius_km,"
        " polygon = excluded.polygon, min_group_size = excluded.min_group_size,"
        " updated_at = excluded.updated_at",
        [settings.name, settings.kind, settings.description, settings.address,
         settings.latitude, settings.longitude, t.name, json.dumps(list(t.communes)),
         t.radius_km, json.dumps([list(v) for v in t.polygon]), settings.min_group_size,
         now.isoformat()])
    return settings


# -- spots and feelings ---------------------------------------------------------------------------


def _spot(row: sqlite3.Row) -> Spot:
    return Spot(id=row["id"], name=row["name"], hashtag=row["hashtag"],
                latitude=row["latitude"], longitude=row["longitude"])


def list_spots(db: Database) -> tuple[Spot, ...]:
    """The named spots, by name."""
    return tuple(_spot(r) for r in db.execute("SELECT * FROM place_spots ORDER BY name, id"))


def count_spots(db: Database) -> int:
    """How many spots there are."""
    return int(db.execute("SELECT count(*) FROM place_spots").fetchone()[0])


def spot_hashtag_taken(db: Database, hashtag: str, except_id: int | None = None) -> bool:
    """True when another spot already uses this hashtag (accents and case ignored)."""
    return db.execute("SELECT 1 FROM place_spots WHERE folded = ? AND id IS NOT ?",
                      [fold(hashtag), except_id]).fetchone() is not None


def put_spot(db: Database, name: str, hashtag: str, latitude: float, longitude: float,
             now: datetime) -> Spot:
    """Add a spot."""
    row = db.execute(
        "INSERT INTO place_spots (name, hashtag, folded, latitude, longitude, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?) RETURNING *",
        [name, hashtag, fold(hashtag), latitude, longitude, now.isoformat()]).fetchone()
    return _spot(row)


def delete_spot(db: Database, spot_id: int) -> bool:
    """Remove a spot (its past ressentis keep their location); False when unknown."""
    return db.execute("DELETE FROM place_spots WHERE id = ?", [spot_id]).rowcount > 0


def _feeling(row: sqlite3.Row) -> Feeling:
    return Feeling(term=row["term"], emoji=row["emoji"], hashtag=row["hashtag"],
                   label_fr=row["label_fr"], label_en=row["label_en"], position=row["position"])


def list_feelings(db: Database) -> tuple[Feeling, ...]:
    """The feelings vocabulary, in its order."""
    return tuple(_feeling(r) for r in db.execute(
        "SELECT * FROM place_feelings ORDER BY position, term"))


def get_feeling(db: Database, term: str) -> Feeling | None:
    """One feeling of the vocabulary by term."""
    row = db.execute("SELECT * FROM place_feelings WHERE term = ?", [term]).fetchone()
    return None if row is None else _feeling(row)


def put_feeling(db: Database, feeling: Feeling) -> Feeling:
    """Add or replace a feeling of the vocabulary."""
    db.execute(
        "INSERT INTO place_feelings (term, emoji, hashtag, label_fr, label_en, position)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (term) DO UPDATE SET emoji = excluded.emoji,"
        " hashtag = excluded.hashtag, label_fr = excluded.label_fr,"
        " label_en = excluded.label_en, position = excluded.position",
        [feeling.term, feeling.emoji, feeling.hashtag, feeling.label_fr, feeling.label_en,
         feeling.position])
    return feeling


def delete_feeling(db: Database, term: str) -> bool:
    """Remove a feeling from the vocabulary (past ressentis keep it); False when unknown."""
    return db.execute("DELETE FROM place_feelings WHERE term = ?", [term]).rowcount > 0


# -- known places ---------------------------------------------------------------------------------


def _known(row: sqlite3.Row) -> KnownPlace:
    return KnownPlace(
        actor_uri=row["actor_uri"], name=row["name"], kind=row["kind"],
        territory=row["territory"], address=row["address"], latitude=row["latitude"],
        longitude=row["longitude"], radius_km=row["radius_km"], url=row["url"],
        allied=bool(row["allied"]), local=bool(row["local"]), account_id=row["account_id"],
        seen_at=datetime.fromisoformat(row["seen_at"]))


def put_known_place(db: Database, place: KnownPlace, now: datetime) -> KnownPlace:
    """Record (or refresh) a place actor; the allied flag is kept as it was."""
    row = db.execute(
        "INSERT INTO known_places (actor_uri, account_id, name, kind, territory, address,"
        " latitude, longitude, radius_km, url, allied, local, seen_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (actor_uri) DO UPDATE SET"
        " account_id = coalesce(excluded.account_id, account_id), name = excluded.name,"
        " kind = excluded.kind, territory = excluded.territory, address = excluded.address,"
        " latitude = excluded.latitude, longitude = excluded.longitude,"
        " radius_km = excluded.radius_km, url = excluded.url, local = excluded.local,"
        " seen_at = excluded.seen_at RETURNING *",
        [place.actor_uri, place.account_id, place.name, place.kind, place.territory,
         place.address, place.latitude, place.longitude, place.radius_km, place.url,
         int(place.allied), int(place.local), now.isoformat()]).fetchone()
    return _known(row)


def list_known_places(db: Database, *, allied_only: bool = False) -> list[KnownPlace]:
    """Every known place (the local one first), by name."""
    sql = "SELECT * FROM known_places"
    if allied_only:
        sql += " WHERE allied = 1"
    return [_known(r) for r in db.execute(sql + " ORDER BY local DESC, name, actor_uri")]


def get_known_place(db: Database, actor_uri: str) -> KnownPlace | None:
    """A known place by actor id."""
    row = db.execute("SELECT * FROM known_places WHERE actor_uri = ?", [actor_uri]).fetchone()
    return None if row is None else _known(row)


def set_allied(db: Database, actor_uri: str, allied: bool) -> bool:
    """Mark a known place as allied (or not); False when unknown."""
    return db.execute("UPDATE known_places SET allied = ? WHERE actor_uri = ? AND local = 0",
                      [int(allied), actor_uri]).rowcount > 0


def allied_account_ids(db: Database) -> list[int]:
    """The accounts of allied places."""
    return [r[0] for r in db.execute(
        "SELECT account_id FROM known_places WHERE allied = 1 AND account_id IS NOT NULL")]


def allied_inboxes(db: Database) -> list[str]:
    """One inbox per allied place's server (its shared inbox when it has one)."""
    return list(dict.fromkeys(r[0] for r in db.execute(
        "SELECT coalesce(a.shared_inbox_uri, a.inbox_uri) FROM known_places k JOIN accounts a"
        " ON a.id = k.account_id WHERE k.allied = 1 AND a.domain IS NOT NULL AND"
        " coalesce(a.shared_inbox_uri, a.inbox_uri) IS NOT NULL")))


def is_allied_domain(db: Database, domain: str) -> bool:
    """True when an allied place lives on ``domain``."""
    return db.execute("SELECT 1 FROM known_places k JOIN accounts a ON a.id = k.account_id"
                      " WHERE k.allied = 1 AND a.domain = ?", [domain]).fetchone() is not None


# -- residents' preferences and network-only statuses ---------------------------------------------


def get_local_only_default(db: Database, account_id: int) -> bool:
    """A resident's local-only default for new posts."""
    row = db.execute("SELECT local_only_default FROM place_prefs WHERE account_id = ?",
                     [account_id]).fetchone()
    return row is not None and bool(row[0])


def set_local_only_default(db: Database, account_id: int, value: bool) -> None:
    """Set a resident's local-only default."""
    db.execute("INSERT INTO place_prefs (account_id, local_only_default) VALUES (?, ?)"
               " ON CONFLICT (account_id) DO UPDATE SET local_only_default ="
               " excluded.local_only_default", [account_id, int(value)])


def mark_network(db: Database, status_id: int) -> None:
    """Record that a status is for the network of places only."""
    db.execute("INSERT OR IGNORE INTO network_statuses (status_id) VALUES (?)", [status_id])


def is_network(db: Database, status_id: int) -> bool:
    """True when a status is for the network of places only."""
    return db.execute("SELECT 1 FROM network_statuses WHERE status_id = ?",
                      [status_id]).fetchone() is not None


# -- server-managed lists -------------------------------------------------------------------------


def get_place_list_id(db: Database, account_id: int, kind: str) -> int | None:
    """The id of a resident's server-managed list of this kind, if it still exists."""
    row = db.execute("SELECT p.list_id FROM place_lists p JOIN lists l ON l.id = p.list_id"
                     " WHERE p.account_id = ? AND p.kind = ?", [account_id, kind]).fetchone()
    return None if row is None else int(row[0])


def put_place_list(db: Database, list_id: int, account_id: int, kind: str,
                   radius_km: float | None) -> None:
    """Remember that a list is a server-managed one."""
    db.execute("DELETE FROM place_lists WHERE account_id = ? AND kind = ?", [account_id, kind])
    db.execute("INSERT INTO place_lists (list_id, account_id, kind, radius_km)"
               " VALUES (?, ?, ?, ?)", [list_id, account_id, kind, radius_km])


def place_lists(db: Database, kind: str) -> list[tuple[int, float | None]]:
    """(list id, radius) of every resident's server-managed list of this kind."""
    return [(r[0], r[1]) for r in db.execute(
        "SELECT p.list_id, p.radius_km FROM place_lists p JOIN lists l ON l.id = p.list_id"
        " WHERE p.kind = ?", [kind])]


def fill_list_feeds(db: Database, pairs: list[tuple[int, int]]) -> None:
    """Put statuses in list feeds: (list id, status id) pairs."""
    db.conn.executemany("INSERT OR IGNORE INTO list_feed (list_id, status_id) VALUES (?, ?)",
                        pairs)


def set_actor_name(db: Database, account_id: int, name: str, now: datetime) -> None:
    """Rename the place actor (its display name follows the place's name)."""
    db.execute("UPDATE accounts SET display_name = ?, updated_at = ? WHERE id = ?",
               [name, now.isoformat(), account_id])


def is_network_for(db: Database, status_id: int, viewer_id: int) -> bool:
    """True when a status is for the network of places and ``viewer_id`` is a resident here
    (such posts reach the residents of every allied place)."""
    return db.execute(
        "SELECT 1 FROM network_statuses n, accounts a WHERE n.status_id = ? AND a.id = ?"
        " AND a.domain IS NULL", [status_id, viewer_id]).fetchone() is not None
