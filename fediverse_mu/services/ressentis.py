"""Ressentis: recognising a feeling and a spot in what a resident typed, storing a status's
ressenti (local, or received from another fediverse-mu place and checked against the
vocabulary), the place actor's boost of public ressentis (its followers — other places,
residents anywhere — hear the territory), filling the server-managed lists, the ressenti
timelines (per feeling, per spot, nearby, network of places) and the territory's barometer.

The sync ``*_in`` functions run inside ``services.posting``'s write transactions."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from fediverse_mu.activitypub import notes as ap
from fediverse_mu.config import Config
from fediverse_mu.domain import Account, Invalid
from fediverse_mu.domain.pagination import Page
from fediverse_mu.domain.places import (
    DEFAULT_FEELINGS,
    DEFAULT_NEARBY_KM,
    MAX_NEARBY_KM,
    Feeling,
    Lexicon,
    PlaceSettings,
    Ressenti,
    Spot,
    bounding_box,
    detect_in,
    distance_km,
    fold,
    iso_week,
    lexicon,
)
from fediverse_mu.domain.statuses import IncomingNote, Status, StatusView, Visibility
from fediverse_mu.services import formatting
from fediverse_mu.services.context import Services
from fediverse_mu.services.delivery import queue_deliveries
from fediverse_mu.services.places import (
    NEARBY_LIST,
    NETWORK_LIST,
    VOCABULARY_MEMO,
    VOCABULARY_TTL,
    load_settings,
    place_actor_in,
)
from fediverse_mu.storage import Database
from fediverse_mu.storage import follows as follow_store
from fediverse_mu.storage import lists as list_store
from fediverse_mu.storage import places as place_store
from fediverse_mu.storage import relationships as relationship_store
from fediverse_mu.storage import ressentis as store
from fediverse_mu.storage import statuses as status_store
from fediverse_mu.storage.statuses import NewStatus

MAX_BAROMETER_WEEKS = 104
DEFAULT_BAROMETER_WEEKS = 12


@dataclass(frozen=True)
class Vocabulary:
    """What a post is read against: the place, its feelings and spots, its actor."""

    settings: PlaceSettings
    feelings: tuple[Feeling, ...]
    spots: tuple[Spot, ...]
    place_uri: str | None
    lexicon: Lexicon


def _vocabulary(db: Database, config: Config) -> Vocabulary:
    actor = place_actor_in(db)
    feelings, spots = place_store.list_feelings(db), place_store.list_spots(db)
    return Vocabulary(load_settings(db, config), feelings, spots,
                      None if actor is None else actor.actor_uri, lexicon(feelings, spots))


async def vocabulary(svc: Services) -> Vocabulary:
    """The place, its feelings vocabulary and its spots (read against every post: cached
    for ``VOCABULARY_TTL`` seconds, forgotten when this process changes them)."""
    cached = svc.memo.get(VOCABULARY_MEMO)
    now = time.monotonic()
    if isinstance(cached, tuple) and cached[0] > now:
        found: Vocabulary = cached[1]
        return found
    vocab = await svc.storage.read(_vocabulary, svc.config)
    svc.memo[VOCABULARY_MEMO] = (now + VOCABULARY_TTL, vocab)
    return vocab


async def recognise(svc: Services, text: str,
                    tags: tuple[str, ...]) -> tuple[Ressenti | None, tuple[str, ...]]:
    """The ressenti a resident wrote (a feeling's hashtag, or its emoji at the start; a
    spot's hashtag) and the post's hashtags with the feeling's own added (so Mastodon users
    see it even when only the emoji was typed)."""
    vocab = await vocabulary(svc)
    feeling, spot = detect_in(vocab.lexicon, text, tags)
    if feeling is None:
        return None, tags
    settings = vocab.settings
    lang = svc.config.languages[0]
    name, lat, lon = settings.name, settings.latitude, settings.longitude
    if spot is not None:
        name, lat, lon = spot.name, spot.latitude, spot.longitude
    ressenti = Ressenti(feeling=feeling.term, emoji=feeling.emoji, label=feeling.label(lang),
                        location_name=name, latitude=lat, longitude=lon,
                        spot=None if spot is None else formatting.normalize_tag(spot.hashtag),
                        place_uri=vocab.place_uri)
    tag = formatting.normalize_tag(feeling.hashtag)
    folded = {fold(t) for t in tags}
    return ressenti, tags if fold(tag) in folded else (*tags, tag)


def _public(status: Status, network: bool = False) -> bool:
    return status.visibility is Visibility.PUBLIC and not status.local_only and not network


def store_local_in(db: Database, status: Status, ressenti: Ressenti, *,
                   network: bool = False) -> None:
    """Store a resident's ressenti with its status (inside the posting transaction)."""
    store.put_ressenti(db, status.id, ressenti, local=True, public=_public(status, network),
                       local_only=status.local_only, created_at=status.created_at)


def replace_local_in(db: Database, status: Status, ressenti: Ressenti | None) -> None:
    """After an edit: the status's ressenti as the new text says (or none any more)."""
    if ressenti is None:
        store.delete_ressenti(db, status.id)
    else:
        store_local_in(db, status, ressenti, network=place_store.is_network(db, status.id))


def _known_feeling(db: Database, term: str) -> Feeling | None:
    found = place_store.get_feeling(db, term)
    if found is not None:
        return found
    return next((f for f in DEFAULT_FEELINGS if f.term == term), None)


def store_remote_in(db: Database, status: Status, ressenti: Ressenti, lang: str = "fr") -> bool:
    """Store a ressenti received from another place, if its feeling is a known term (this
    place's vocabulary or the default set); False when ignored."""
    feeling = _known_feeling(db, ressenti.feeling)
    if feeling is None:
        return False
    store.put_ressenti(db, status.id, replace(ressenti, emoji=feeling.emoji,
                                              label=feeling.label(lang), spot=None),
                       local=False, public=_public(status), local_only=False,
                       created_at=status.created_at)
    return True


def _near_place(db: Database, ressenti: Ressenti | None, radius_km: float) -> bool:
    settings = place_store.get_settings(db)
    if ressenti is None or ressenti.latitude is None or ressenti.longitude is None or \
            settings is None or settings.latitude is None or settings.longitude is None:
        return False
    return distance_km(settings.latitude, settings.longitude, ressenti.latitude,
                       ressenti.longitude) <= radius_km


def _fill_lists(db: Database, status: Status, ressenti: Ressenti | None, network: bool) -> None:
    pairs: list[tuple[int, int]] = []
    if ressenti is not None and status.visibility is Visibility.PUBLIC:
        pairs += [(list_id, status.id) for list_id, radius in place_store.place_lists(
            db, NEARBY_LIST) if _near_place(db, ressenti, radius or DEFAULT_NEARBY_KM)]
    if network:
        pairs += [(list_id, status.id) for list_id, _ in place_store.place_lists(
            db, NETWORK_LIST)]
    if pairs:
        place_store.fill_list_feeds(db, pairs)


def _from_network(db: Database, author: Account) -> bool:
    if author.is_local:
        return False
    return author.id in place_store.allied_account_ids(db) or (
        author.domain is not None and place_store.is_allied_domain(db, author.domain))


def after_remote_in(db: Database, status: Status, author: Account,
                    ressenti: Ressenti | None) -> None:
    """A remote status was stored: put it in the residents' server-managed lists."""
    network = _from_network(db, author) and (
        status.visibility is Visibility.PUBLIC or place_store.is_network(db, status.id))
    _fill_lists(db, status, ressenti if ressenti is not None and
                store.get_ressenti(db, status.id) is not None else None, network)


def after_local_in(db: Database, base_url: str, status: Status, ressenti: Ressenti,
                   now: datetime, now_ts: float) -> tuple[list[tuple[Status, list[int]]], int]:
    """A resident posted a ressenti: the place actor boosts it when it is public (to its
    followers here and elsewhere); returns ([(the boost, home feeds filled)] to publish once
    committed, delivery jobs)."""
    _fill_lists(db, status, ressenti, False)
    actor = place_actor_in(db)
    if actor is None or not _public(status) or place_store.is_network(db, status.id):
        return [], 0
    boost_id = status_store.new_status_id(db, now)
    boost = status_store.put_status(db, NewStatus(
        id=boost_id, uri=f"{actor.actor_uri}/statuses/{boost_id}/activity",
        url=f"{base_url}/@{actor.username}/{boost_id}", account_id=actor.id, local=True,
        content="", visibility=Visibility.PUBLIC, created_at=now, reblog_of_id=status.id))
    home = list_store.fan_out(db, boost, status_store.local_follower_ids(db, actor.id))
    status_store.add_to_home_feeds(db, boost.id, home)
    inboxes = follow_store.list_follower_inboxes(db, actor.id)
    jobs = 0
    if inboxes:
        to, cc = ap.addressing(Visibility.PUBLIC, f"{actor.actor_uri}/followers", [])
        activity = ap.build_announce(boost.uri, actor.actor_uri, status.uri, now, to, cc)
        jobs = queue_deliveries(db, activity, inboxes, signer_id=actor.id, now=now_ts)
    return [(boost, home)], jobs


def place_follower_inboxes_in(db: Database) -> list[str]:
    """The inboxes of the place actor's followers (a deleted ressenti's Delete goes there)."""
    actor = place_actor_in(db)
    return [] if actor is None else follow_store.list_follower_inboxes(db, actor.id)


# -- the network of places ------------------------------------------------------------------------


def mark_network_in(db: Database, status_id: int) -> None:
    """Record that a status is for the network of places only."""
    place_store.mark_network(db, status_id)


def network_delivery_in(db: Database, note: dict[str, Any],
                        mentions: Sequence[Account]) -> tuple[dict[str, Any], list[str]]:
    """A network-of-places Note addressed to the allied place actors (no public, no other
    server's followers), and the allied places' inboxes: nobody else receives it."""
    allied = [p.actor_uri for p in place_store.list_known_places(db, allied_only=True)]
    addressed = dict(note)
    addressed["to"] = allied
    addressed["cc"] = [m.actor_uri for m in mentions if m.is_local]
    addressed["audienceScope"] = "network"
    return addressed, place_store.allied_inboxes(db)


def for_our_network_in(db: Database, author: Account, note: IncomingNote) -> bool:
    """True when a remote Note is a network-of-places post from an allied place, addressed
    to this place's actor (its residents may then read it)."""
    actor = place_actor_in(db)
    return actor is not None and actor.actor_uri in note.recipients and \
        note.visibility in (Visibility.PRIVATE, Visibility.DIRECT) and _from_network(db, author)


# -- timelines ------------------------------------------------------------------------------------


def _views(db: Database, ids: list[int], viewer_id: int | None,
           now: datetime) -> list[StatusView]:
    views = status_store.load_views(db, ids, viewer_id)
    if viewer_id is None or not views:
        return views
    excluded = relationship_store.excluded_account_ids(db, viewer_id, now)
    return [v for v in views if v.account.id not in excluded]


def _is_resident(viewer: Account | None) -> bool:
    return viewer is not None and viewer.is_local


def _viewer_id(viewer: Account | None) -> int | None:
    return None if viewer is None else viewer.id


def _feeling(db: Database, term: str, viewer_id: int | None, page: Page, residents: bool,
             now: datetime) -> list[StatusView]:
    found = place_store.get_feeling(db, term) or next(
        (f for f in DEFAULT_FEELINGS if f.term == term), None)
    if found is None:  # a hashtag or label names it too
        found = next((f for f in place_store.list_feelings(db)
                      if fold(term) in {fold(f.hashtag), fold(f.label_fr), fold(f.label_en)}),
                     None)
    if found is None:
        return []
    ids = store.feeling_timeline_ids(db, found.term, page, include_local_only=residents)
    return _views(db, ids, viewer_id, now)


async def feeling_timeline(svc: Services, viewer: Account | None, term: str,
                           page: Page) -> list[StatusView]:
    """Ressentis with one feeling (by term, hashtag or label), newest first."""
    return await svc.storage.read(_feeling, term.strip(), _viewer_id(viewer), page,
                                  _is_resident(viewer), svc.now())


def _spot(db: Database, hashtag: str, viewer_id: int | None, page: Page, residents: bool,
          now: datetime) -> list[StatusView]:
    spot = next((s for s in place_store.list_spots(db) if fold(s.hashtag) == fold(hashtag)),
                None)
    if spot is None:
        return []
    ids = store.spot_timeline_ids(db, formatting.normalize_tag(spot.hashtag), page,
                                  include_local_only=residents)
    return _views(db, ids, viewer_id, now)


async def spot_timeline(svc: Services, viewer: Account | None, hashtag: str,
                        page: Page) -> list[StatusView]:
    """Ressentis located at one of the place's spots, newest first."""
    return await svc.storage.read(_spot, hashtag.strip().lstrip("#"), _viewer_id(viewer), page,
                                  _is_resident(viewer), svc.now())


def check_radius(value: str | None) -> float:
    """A nearby radius in km from a query parameter (default 10, at most 200)."""
    if value is None or not value.strip():
        return DEFAULT_NEARBY_KM
    try:
        radius = float(value)
    except ValueError:
        raise Invalid("radius_km must be a number of kilometres") from None
    if not 0 < radius <= MAX_NEARBY_KM:
        raise Invalid(f"radius_km must be between 0 and {MAX_NEARBY_KM:g}")
    return radius


def _locations(db: Database, radius_km: float) -> list[tuple[float, float, float]]:
    settings = place_store.get_settings(db)
    if settings is None or settings.latitude is None or settings.longitude is None:
        return []
    lat, lon = settings.latitude, settings.longitude
    found = []
    for la, lo in store.locations_in_box(db, bounding_box(lat, lon, radius_km)):
        d = distance_km(lat, lon, la, lo)
        if d <= radius_km:
            found.append((d, la, lo))
    return sorted(found)


def _nearby(db: Database, radius_km: float, viewer_id: int | None, page: Page,
            residents: bool, now: datetime) -> list[tuple[StatusView, float]]:
    located = _locations(db, radius_km)
    ids = store.nearby_ids(db, [(la, lo) for _, la, lo in located], page,
                           include_local_only=residents)
    return _with_distances(db, ids, viewer_id, now)


def _with_distances(db: Database, ids: list[int], viewer_id: int | None,
                    now: datetime) -> list[tuple[StatusView, float]]:
    settings = place_store.get_settings(db)
    out = []
    for view in _views(db, ids, viewer_id, now):
        r = view.ressenti
        if r is None or r.latitude is None or r.longitude is None or settings is None or \
                settings.latitude is None or settings.longitude is None:
            continue
        out.append((view, round(distance_km(settings.latitude, settings.longitude,
                                            r.latitude, r.longitude), 1)))
    return out


def _nearby_by_distance(db: Database, radius_km: float, viewer_id: int | None, limit: int,
                        offset: int, residents: bool,
                        now: datetime) -> list[tuple[StatusView, float]]:
    ids: list[int] = []
    skip = offset
    for _, la, lo in _locations(db, radius_km):
        if len(ids) >= limit:
            break
        here = store.count_at(db, la, lo, include_local_only=residents)
        if skip >= here:
            skip -= here
            continue
        ids += store.ids_at(db, la, lo, limit - len(ids), skip, include_local_only=residents)
        skip = 0
    return _with_distances(db, ids, viewer_id, now)


async def nearby_timeline(svc: Services, viewer: Account | None, radius_km: float,
                          page: Page) -> list[tuple[StatusView, float]]:
    """Ressentis located within ``radius_km`` of this place, from every place known, newest
    first, each with its distance in km."""
    return await svc.storage.read(_nearby, radius_km, _viewer_id(viewer), page,
                                  _is_resident(viewer), svc.now())


async def nearby_by_distance(svc: Services, viewer: Account | None, radius_km: float,
                             limit: int, offset: int = 0) -> list[tuple[StatusView, float]]:
    """Ressentis within ``radius_km``, nearest location first (newest first at each)."""
    return await svc.storage.read(_nearby_by_distance, radius_km, _viewer_id(viewer),
                                  min(max(limit, 1), 40), max(offset, 0),
                                  _is_resident(viewer), svc.now())


def _network(db: Database, viewer_id: int | None, page: Page,
             now: datetime) -> list[StatusView]:
    ids = store.network_ids(db, place_store.allied_account_ids(db), page)
    visible = status_store.get_statuses(db, ids)
    allowed = [i for i in ids if i in visible and (
        status_store.can_see(db, visible[i], viewer_id))]
    return _views(db, allowed, viewer_id, now)


async def network_timeline(svc: Services, viewer: Account | None,
                           page: Page) -> list[StatusView]:
    """Statuses of the allied places and their residents, newest first."""
    return await svc.storage.read(_network, _viewer_id(viewer), page, svc.now())


def _backfill_nearby(db: Database, limit: int) -> list[int]:
    located = _locations(db, DEFAULT_NEARBY_KM)
    return store.nearby_ids(db, [(la, lo) for _, la, lo in located], Page(limit=limit),
                            include_local_only=False)


async def nearby_list_backfill(svc: Services, limit: int) -> list[int]:
    """The latest public ressentis within 10 km (to start a new "Autour de nous" list)."""
    return await svc.storage.read(_backfill_nearby, limit)


async def network_backfill(svc: Services, limit: int) -> list[int]:
    """The latest network statuses (to start a new "Réseau des lieux" list)."""
    return await svc.storage.read(lambda db: store.network_ids(
        db, place_store.allied_account_ids(db), Page(limit=limit)))


def _latest(db: Database, limit: int) -> list[StatusView]:
    return status_store.load_views(db, store.local_public_ids(db, limit), None)


async def latest_public(svc: Services, limit: int = 10) -> list[StatusView]:
    """The latest public ressentis posted here (place page, Atom feed)."""
    return await svc.storage.read(_latest, min(max(limit, 1), 50))


# -- the barometer --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Barometer:
    """Public ressentis per feeling per week; counts below ``min_group_size`` are None."""

    weeks: tuple[str, ...]
    feelings: tuple[Feeling, ...]
    counts: dict[tuple[str, str], int | None]
    min_group_size: int

    def count(self, week: str, term: str) -> int | None:
        """The shown count of a cell (None: hidden, or nothing)."""
        return self.counts.get((week, term))

    @property
    def maximum(self) -> int:
        """The largest shown count (1 when none)."""
        return max([c for c in self.counts.values() if c is not None] or [1])


def week_keys(now: datetime, weeks: int) -> tuple[str, ...]:
    """The ISO weeks ending with the current one, oldest first."""
    keys: list[str] = []
    moment = now
    while len(keys) < weeks:
        key = iso_week(moment)
        if key not in keys:
            keys.append(key)
        moment -= timedelta(days=7)
    return tuple(reversed(keys))


def _barometer(db: Database, config: Config, weeks: int, now: datetime) -> Barometer:
    settings = load_settings(db, config)
    keys = week_keys(now, weeks)
    feelings = list(place_store.list_feelings(db))
    counts: dict[tuple[str, str], int | None] = {}
    for week, term, count in store.barometer_rows(db, keys[0]):
        if week not in keys:
            continue
        if all(f.term != term for f in feelings):
            extra = next((f for f in DEFAULT_FEELINGS if f.term == term), None)
            feelings.append(extra or Feeling(term, "", term, term, term, 999))
        counts[(week, term)] = count if count >= settings.min_group_size else None
    return Barometer(weeks=keys, feelings=tuple(feelings), counts=counts,
                     min_group_size=settings.min_group_size)


async def barometer(svc: Services, weeks: int = DEFAULT_BAROMETER_WEEKS) -> Barometer:
    """The territory's barometer over the last ``weeks`` weeks (small counts hidden)."""
    weeks = min(max(weeks, 1), MAX_BAROMETER_WEEKS)
    return await svc.storage.read(_barometer, svc.config, weeks, svc.now())
