"""The place: its settings (first taken from config.toml, then edited by the admin), named
spots and feelings vocabulary, the place actor (an ``Organization``, ``@lieu@domain``), the
directory of places this instance has seen, the allied places that form the network of
places, residents' local-only default and their server-managed lists."""

from __future__ import annotations

import asyncio
import math
import re
from dataclasses import replace
from datetime import datetime
from typing import Any

from fediverse_mu.activitypub import iri
from fediverse_mu.activitypub.ressentis import parse_place_actor, render_place_fields
from fediverse_mu.config import PLACE_KINDS, Config
from fediverse_mu.domain import Account, Invalid, NotFound, User
from fediverse_mu.domain.lists import RepliesPolicy
from fediverse_mu.domain.places import (
    MAX_ADDRESS,
    MAX_COMMUNES,
    MAX_FEELINGS,
    MAX_NAME,
    MAX_POLYGON_VERTICES,
    MAX_RADIUS_KM,
    MAX_SPOTS,
    TERM_RE,
    Feeling,
    KnownPlace,
    PlaceSettings,
    Spot,
    Territory,
    check_hashtag,
    coarse,
    distance_km,
    fold,
    valid_latitude,
    valid_longitude,
)
from fediverse_mu.services import following
from fediverse_mu.services.context import Services, forgets
from fediverse_mu.services.keys import generate_key_pair
from fediverse_mu.storage import Database
from fediverse_mu.storage import accounts as account_store
from fediverse_mu.storage import lists as list_store
from fediverse_mu.storage import places as store
from fediverse_mu.storage import settings as settings_store

PLACE_USERNAME = "lieu"
PLACE_PATH = "/lieu"
NETWORK_LIST = "network"
NEARBY_LIST = "nearby"
LIST_RADIUS_KM = 10.0
LIST_BACKFILL = 200
_LIST_TITLES = {
    NETWORK_LIST: {"fr": "Réseau des lieux", "en": "Network of places"},
    NEARBY_LIST: {"fr": "Autour de nous — {km} km", "en": "Around us — {km} km"},
}


def default_settings(config: Config) -> PlaceSettings:
    """The settings an instance starts with, from its config.toml."""
    return PlaceSettings(name=config.place_name, kind=config.place_kind,
                         description=config.place_description,
                         territory=Territory(name=config.place_territory))


def load_settings(db: Database, config: Config) -> PlaceSettings:
    """The place's settings (from config.toml until first saved)."""
    return store.get_settings(db) or default_settings(config)


async def get_settings(svc: Services) -> PlaceSettings:
    """The place's current settings."""
    return await svc.storage.read(load_settings, svc.config)


# -- parsing admin input --------------------------------------------------------------------------


def parse_coordinates(text: str) -> tuple[float, float] | None:
    """``"45.188, 5.724"`` → (45.188, 5.724) rounded to ~110 m; empty → None; else Invalid."""
    text = text.strip()
    if not text:
        return None
    parts = [p for p in re.split(r"[,;\s]+", text) if p]
    try:
        lat, lon = (float(p) for p in parts) if len(parts) == 2 else (math.nan, math.nan)
    except ValueError:
        lat = lon = math.nan
    if not valid_latitude(lat) or not valid_longitude(lon):
        raise Invalid("coordinates must be 'latitude, longitude' in degrees, e.g. "
                      "'45.188, 5.724' (latitude -90…90, longitude -180…180)")
    return coarse(lat), coarse(lon)


def parse_polygon(text: str) -> tuple[tuple[float, float], ...]:
    """Vertices ``"lat lon; lat lon; …"`` (3 to 64), or Invalid; empty → no polygon."""
    pieces = [p for p in text.split(";") if p.strip()]
    if not pieces:
        return ()
    if not 3 <= len(pieces) <= MAX_POLYGON_VERTICES:
        raise Invalid(f"a territory polygon has 3 to {MAX_POLYGON_VERTICES} vertices")
    vertices = []
    for piece in pieces:
        point = parse_coordinates(piece)
        assert point is not None
        vertices.append(point)
    return tuple(vertices)


def parse_communes(text: str) -> tuple[str, ...]:
    """Communes separated by commas or new lines."""
    return tuple(c.strip() for c in re.split(r"[,\n]", text) if c.strip())


def _number(value: Any, what: str) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise Invalid(f"{what} must be a number") from None
    if not math.isfinite(number):
        raise Invalid(f"{what} must be a number")
    return number


def check_settings(settings: PlaceSettings) -> PlaceSettings:
    """Validate settings (one clear message per rule) and round the coordinates."""
    if not 1 <= len(settings.name.strip()) <= 100:
        raise Invalid("the place's name must be 1 to 100 characters long")
    if settings.kind not in PLACE_KINDS:
        raise Invalid("the kind of place must be one of " + ", ".join(PLACE_KINDS))
    if len(settings.description) > 2000:
        raise Invalid("the description must be at most 2000 characters long")
    if len(settings.address) > MAX_ADDRESS:
        raise Invalid(f"the address must be at most {MAX_ADDRESS} characters long")
    if (settings.latitude is None) != (settings.longitude is None):
        raise Invalid("give both latitude and longitude, or neither")
    if settings.latitude is not None and not (valid_latitude(settings.latitude) and
                                              valid_longitude(settings.longitude)):
        raise Invalid("latitude must be within -90…90 and longitude within -180…180")
    t = settings.territory
    if len(t.name) > MAX_NAME:
        raise Invalid(f"the territory's name must be at most {MAX_NAME} characters long")
    if len(t.communes) > MAX_COMMUNES or any(len(c) > 100 for c in t.communes):
        raise Invalid(f"at most {MAX_COMMUNES} communes of at most 100 characters each")
    if t.radius_km is not None and not 0 < t.radius_km <= MAX_RADIUS_KM:
        raise Invalid(f"the territory's radius must be between 0 and {MAX_RADIUS_KM:g} km")
    if t.polygon and not 3 <= len(t.polygon) <= MAX_POLYGON_VERTICES:
        raise Invalid(f"a territory polygon has 3 to {MAX_POLYGON_VERTICES} vertices")
    if not 2 <= settings.min_group_size <= 1000:
        raise Invalid("the minimum group size must be between 2 and 1000")
    lat = None if settings.latitude is None else coarse(settings.latitude)
    lon = None if settings.longitude is None else coarse(settings.longitude)
    return replace(settings, name=settings.name.strip(), latitude=lat, longitude=lon,
                   territory=replace(t, radius_km=None if t.radius_km is None
                                     else round(t.radius_km, 3)))


def settings_from_form(current: PlaceSettings, form: dict[str, str]) -> PlaceSettings:
    """New settings from text fields (admin page or CLI); missing fields keep their value."""
    changed = replace(
        current, name=form.get("name", current.name).strip(),
        kind=form.get("kind", current.kind).strip(),
        description=form.get("description", current.description).strip(),
        address=form.get("address", current.address).strip())
    if "coordinates" in form:
        point = parse_coordinates(form["coordinates"])
        changed = replace(changed, latitude=None if point is None else point[0],
                          longitude=None if point is None else point[1])
    territory = changed.territory
    if "territory_name" in form:
        territory = replace(territory, name=form["territory_name"].strip())
    if "communes" in form:
        territory = replace(territory, communes=parse_communes(form["communes"]))
    if "radius_km" in form:
        territory = replace(territory, radius_km=_number(form["radius_km"], "the radius"))
    if "polygon" in form:
        territory = replace(territory, polygon=parse_polygon(form["polygon"]))
    changed = replace(changed, territory=territory)
    if "min_group_size" in form and form["min_group_size"].strip():
        size = _number(form["min_group_size"], "the minimum group size")
        if size is None or size != int(size):
            raise Invalid("the minimum group size must be a whole number")
        changed = replace(changed, min_group_size=int(size))
    return check_settings(changed)


# -- the place actor ------------------------------------------------------------------------------


def _place_actor(db: Database) -> Account | None:
    account_id = settings_store.get_setting(db, store.PLACE_ACTOR_SETTING)
    return None if account_id is None else account_store.get_account_by_id(db, account_id)


def _local_known(base_url: str, actor: Account, settings: PlaceSettings) -> KnownPlace:
    return KnownPlace(actor_uri=actor.actor_uri, name=settings.name, kind=settings.kind,
                      territory=settings.territory.name, address=settings.address,
                      latitude=settings.latitude, longitude=settings.longitude,
                      radius_km=settings.territory.radius_km, url=base_url + PLACE_PATH,
                      local=True, account_id=actor.id)


def _ensure(db: Database, config: Config, key_pair: tuple[str, str], now: datetime) -> Account:
    settings = store.get_settings(db)
    if settings is None:
        settings = store.put_settings(db, default_settings(config), now)
    actor = _place_actor(db)
    if actor is None:
        existing = account_store.get_local_account(db, PLACE_USERNAME)
        if existing is not None and existing.actor_type == "Organization":
            actor = existing
        else:
            uri = iri.actor_uri(config.base_url, PLACE_USERNAME)
            actor = account_store.put_local_account(
                db, username=PLACE_USERNAME, actor_uri=uri, actor_type="Organization",
                url=config.base_url + PLACE_PATH, inbox_uri=iri.inbox_uri(uri),
                shared_inbox_uri=iri.shared_inbox_uri(config.base_url),
                public_key_pem=key_pair[1], private_key_pem=key_pair[0], created_at=now,
                display_name=settings.name[:100], bot=True)
        settings_store.put_setting(db, store.PLACE_ACTOR_SETTING, actor.id)
    store.put_known_place(db, _local_known(config.base_url, actor, settings), now)
    return actor


# What posts are read against (settings, feelings, spots, the actor) is cached per process by
# services/ressentis.py under this key for VOCABULARY_TTL seconds, and forgotten at once when
# this process changes it (the CLI or another web process: within VOCABULARY_TTL).
VOCABULARY_MEMO = "place_vocabulary"
VOCABULARY_TTL = 5.0


@forgets(VOCABULARY_MEMO)
async def ensure_place(svc: Services) -> Account:
    """Create the place's settings row and its actor (with keys) when missing; idempotent.
    Run at startup."""
    actor = await svc.storage.read(_place_actor)
    if actor is not None:
        return actor
    key_pair = await asyncio.to_thread(generate_key_pair)  # ~0.1 s: not on the event loop
    return await svc.storage.write(_ensure, svc.config, key_pair, svc.now())


async def place_actor(svc: Services) -> Account:
    """The place actor."""
    actor = await svc.storage.read(_place_actor)
    if actor is None:
        raise NotFound("the place actor is missing (restart the server)")
    return actor


def place_actor_in(db: Database) -> Account | None:
    """The place actor, inside a transaction (None before startup created it)."""
    return _place_actor(db)


def _save(db: Database, config: Config, settings: PlaceSettings, now: datetime) -> None:
    store.put_settings(db, settings, now)
    actor = _place_actor(db)
    if actor is not None:
        store.set_actor_name(db, actor.id, settings.name[:100], now)
        store.put_known_place(db, _local_known(config.base_url, actor, settings), now)


@forgets(VOCABULARY_MEMO)
async def update_settings(svc: Services, form: dict[str, str]) -> PlaceSettings:
    """Change the place's settings from text fields (only the fields given change)."""
    current = await get_settings(svc)
    settings = settings_from_form(current, form)
    await svc.storage.write(_save, svc.config, settings, svc.now())
    return settings


# -- spots and feelings ---------------------------------------------------------------------------


async def list_spots(svc: Services) -> tuple[Spot, ...]:
    """The territory's named spots."""
    return await svc.storage.read(store.list_spots)


def _add_spot(db: Database, name: str, hashtag: str, point: tuple[float, float],
              now: datetime) -> Spot:
    if store.count_spots(db) >= MAX_SPOTS:
        raise Invalid(f"a place has at most {MAX_SPOTS} spots")
    if store.spot_hashtag_taken(db, hashtag):
        raise Invalid(f"another spot already uses #{hashtag}")
    if any(fold(hashtag) in {fold(f.hashtag), f.term} for f in store.list_feelings(db)):
        raise Invalid(f"#{hashtag} already names a feeling")
    return store.put_spot(db, name, hashtag, point[0], point[1], now)


@forgets(VOCABULARY_MEMO)
async def add_spot(svc: Services, name: str, hashtag: str, coordinates: str) -> Spot:
    """Add a named spot: a name, a hashtag and coarse coordinates."""
    name = name.strip()
    if not 1 <= len(name) <= MAX_NAME:
        raise Invalid(f"a spot's name must be 1 to {MAX_NAME} characters long")
    try:
        tag = check_hashtag(hashtag)
    except ValueError as exc:
        raise Invalid(str(exc)) from None
    point = parse_coordinates(coordinates)
    if point is None:
        raise Invalid("a spot needs coordinates ('latitude, longitude')")
    return await svc.storage.write(_add_spot, name, tag, point, svc.now())


@forgets(VOCABULARY_MEMO)
async def remove_spot(svc: Services, spot_id: int) -> None:
    """Remove a spot (past ressentis keep their location)."""
    if not await svc.storage.write(store.delete_spot, spot_id):
        raise NotFound("no such spot")


async def list_feelings(svc: Services) -> tuple[Feeling, ...]:
    """The feelings vocabulary."""
    return await svc.storage.read(store.list_feelings)


def _add_feeling(db: Database, feeling: Feeling) -> Feeling:
    existing = store.list_feelings(db)
    others = [f for f in existing if f.term != feeling.term]
    if len(others) >= MAX_FEELINGS:
        raise Invalid(f"the vocabulary holds at most {MAX_FEELINGS} feelings")
    for other in others:
        if fold(other.emoji) == fold(feeling.emoji):
            raise Invalid(f"{feeling.emoji} already stands for '{other.term}'")
        if fold(other.hashtag) == fold(feeling.hashtag):
            raise Invalid(f"#{feeling.hashtag} already stands for '{other.term}'")
    if store.spot_hashtag_taken(db, feeling.hashtag):
        raise Invalid(f"#{feeling.hashtag} already names a spot")
    position = feeling.position or max((f.position for f in existing), default=0) + 1
    return store.put_feeling(db, replace(feeling, position=position))


@forgets(VOCABULARY_MEMO)
async def add_feeling(svc: Services, term: str, emoji: str, hashtag: str, label_fr: str = "",
                      label_en: str = "") -> Feeling:
    """Add (or redefine) a feeling: an ASCII term (what federates), an emoji, a hashtag."""
    term = term.strip().lower()
    if not TERM_RE.match(term):
        raise Invalid("a feeling's term is 1 to 32 lower-case ASCII letters, digits or "
                      "hyphens, starting with a letter (e.g. 'joie', 'fierte')")
    emoji = emoji.strip()
    if not 1 <= len(emoji) <= 16 or any(c.isalnum() or c.isspace() for c in emoji):
        raise Invalid("a feeling's emoji is one emoji (no letters or spaces)")
    try:
        tag = check_hashtag(hashtag or term)
    except ValueError as exc:
        raise Invalid(str(exc)) from None
    label_fr, label_en = label_fr.strip() or tag, label_en.strip() or label_fr.strip() or tag
    if len(label_fr) > 50 or len(label_en) > 50:
        raise Invalid("a feeling's labels are at most 50 characters long")
    return await svc.storage.write(_add_feeling, Feeling(term, emoji, tag, label_fr, label_en))


@forgets(VOCABULARY_MEMO)
async def remove_feeling(svc: Services, term: str) -> None:
    """Take a feeling out of the vocabulary (past ressentis keep it)."""
    if not await svc.storage.write(store.delete_feeling, term):
        raise NotFound("no such feeling")


# -- other places ---------------------------------------------------------------------------------


async def remember_place_actor(svc: Services, account: Account, raw: dict[str, Any]) -> bool:
    """Record a remote place actor seen in a fetched actor document (an ``Organization`` with
    a valid ``location``); True when it was one."""
    place = parse_place_actor(raw)
    if place is None or account.is_local or place.actor_uri != account.actor_uri:
        return False
    await svc.storage.write(store.put_known_place, replace(place, account_id=account.id),
                            svc.now())
    return True


def _with_distance(settings: PlaceSettings, places: list[KnownPlace]) -> list[KnownPlace]:
    if not settings.located:
        return places
    assert settings.latitude is not None and settings.longitude is not None
    return [replace(p, distance_km=None if p.latitude is None or p.longitude is None else
                    round(distance_km(settings.latitude, settings.longitude, p.latitude,
                                      p.longitude), 1)) for p in places]


def _directory(db: Database, config: Config) -> list[KnownPlace]:
    places = _with_distance(load_settings(db, config), store.list_known_places(db))
    return sorted(places, key=lambda p: (not p.local, p.distance_km is None,
                                         p.distance_km or 0.0, p.name))


async def directory(svc: Services) -> list[KnownPlace]:
    """Every place this instance has seen (itself first), nearest first."""
    return await svc.storage.read(_directory, svc.config)


def _ally(db: Database, target: Account, now: datetime) -> KnownPlace:
    known = store.get_known_place(db, target.actor_uri)
    if known is None:
        known = store.put_known_place(db, KnownPlace(
            actor_uri=target.actor_uri, name=target.display_name or target.acct(),
            url=target.url, account_id=target.id), now)
    store.set_allied(db, target.actor_uri, True)
    return replace(known, allied=True)


async def ally(svc: Services, target: Account) -> KnownPlace:
    """Make a remote place (or any remote actor speaking for one) an allied place: it joins
    the network of places and the place actor follows it."""
    if target.is_local:
        raise Invalid("a place cannot ally with itself")
    known = await svc.storage.write(_ally, target, svc.now())
    actor = await place_actor(svc)
    await following.follow(svc, actor, target)
    return known


async def unally(svc: Services, actor_uri: str) -> None:
    """Take a place out of the network of places (the place actor stops following it)."""
    if not await svc.storage.write(store.set_allied, actor_uri, False):
        raise NotFound("no such allied place")
    target = await svc.storage.read(account_store.get_account_by_uri, actor_uri)
    if target is not None:
        await following.unfollow(svc, await place_actor(svc), target)


async def allied_places(svc: Services) -> list[KnownPlace]:
    """The allied places."""
    return await svc.storage.read(store.list_known_places, allied_only=True)


# -- residents ------------------------------------------------------------------------------------


async def local_only_default(svc: Services, account: Account) -> bool:
    """A resident's local-only default for new posts."""
    return await svc.storage.read(store.get_local_only_default, account.id)


async def set_local_only_default(svc: Services, account: Account, value: bool) -> None:
    """Set a resident's local-only default."""
    if not account.is_local:
        raise Invalid("only residents have posting defaults here")
    await svc.storage.write(store.set_local_only_default, account.id, value)


def _list_title(kind: str, lang: str) -> str:
    titles = _LIST_TITLES[kind]
    return titles.get(lang, titles["fr"]).format(km=f"{LIST_RADIUS_KM:g}")


def _ensure_lists(db: Database, account: Account, lang: str, now: datetime,
                  backfills: dict[str, list[int]]) -> None:
    for kind, backfill in backfills.items():
        if store.get_place_list_id(db, account.id, kind) is not None:
            continue
        lst = list_store.put_list(db, account.id, _list_title(kind, lang),
                                  RepliesPolicy.LIST, False, now)
        store.put_place_list(db, lst.id, account.id, kind,
                             LIST_RADIUS_KM if kind == NEARBY_LIST else None)
        store.fill_list_feeds(db, [(lst.id, s) for s in backfill])


def _missing_lists(db: Database, config: Config, account_id: int) -> list[str]:
    """The server-managed lists a resident should have and does not: "Autour de nous" once
    the place has coordinates, "Réseau des lieux" once it has allied places."""
    wanted = []
    if load_settings(db, config).located:
        wanted.append(NEARBY_LIST)
    if store.list_known_places(db, allied_only=True):
        wanted.append(NETWORK_LIST)
    return [k for k in wanted if store.get_place_list_id(db, account_id, k) is None]


async def ensure_lists(svc: Services, account: Account, user: User | None = None) -> None:
    """Give a resident the server-managed lists ("Réseau des lieux" once the place has
    allies, "Autour de nous — 10 km" once it has coordinates), filled with recent statuses,
    when they do not have them yet."""
    if not account.is_local or account.actor_type != "Person":
        return
    missing = await svc.storage.read(_missing_lists, svc.config, account.id)
    if not missing:
        return
    from fediverse_mu.services import ressentis  # ressentis builds on this module

    backfills = {}
    for kind in missing:
        backfills[kind] = await (ressentis.nearby_list_backfill if kind == NEARBY_LIST
                                 else ressentis.network_backfill)(svc, LIST_BACKFILL)
    lang = user.locale if user is not None else svc.config.languages[0]
    await svc.storage.write(_ensure_lists, account, lang, svc.now(), backfills)

async def actor_document(svc: Services, document: dict[str, Any]) -> dict[str, Any]:
    """The place actor's AS2 document with its ``location`` (a Place: name, address,
    coordinates, radius), kind and territory."""
    return render_place_fields(document, await get_settings(svc))
