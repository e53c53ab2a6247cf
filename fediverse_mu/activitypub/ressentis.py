"""Ressentis and places on the wire, both ways, without I/O.

A ressenti federates as an AS2 ``location`` (a ``Place``: name, latitude, longitude) plus the
fediverse-mu extension terms ``feeling`` (a term of the feelings vocabulary, e.g. ``joie``) and
``placeActor`` (the place actor of the author's place), defined inline in the Note's
``@context`` and served as a context document at ``/ns/mu`` by every instance
(docs/places.md). The feeling's hashtag stays in ``tag`` so Mastodon users see it.

A place actor (``Organization``) carries its ``location`` (name, address, latitude, longitude,
radius in km) and the extension terms ``placeKind`` and ``territory``.

Everything received is validated: an unknown shape, absurd coordinates or an oversized
``location`` make the ressenti (or the place) be ignored, never stored half-right."""

from __future__ import annotations

from typing import Any

from fediverse_mu.activitypub.validate import host_of
from fediverse_mu.domain.places import (
    MAX_NAME,
    TERM_RE,
    KnownPlace,
    PlaceSettings,
    Ressenti,
    coarse,
    valid_latitude,
    valid_longitude,
)

RawObject = dict[str, Any]

MU_NAMESPACE = "https://fediverse-mu.org/ns#"
CONTEXT_PATH = "/ns/mu"
MU_TERMS: RawObject = {
    "mu": MU_NAMESPACE,
    "feeling": "mu:feeling",
    "placeActor": {"@id": "mu:placeActor", "@type": "@id"},
    "placeKind": "mu:placeKind",
    "territory": "mu:territory",
    "audienceScope": "mu:audienceScope",
}
MAX_PLACE_KEYS = 32  # a Place with more properties than this is not a place we read
MAX_LOCATIONS = 4  # a list of more locations is refused outright
MAX_TEXT = 300


def context_document() -> RawObject:
    """The JSON-LD context served at ``/ns/mu``."""
    return {"@context": MU_TERMS}


def render_location(ressenti: Ressenti) -> RawObject | None:
    """The AS2 ``Place`` of a ressenti (None when it has no coordinates)."""
    if ressenti.latitude is None or ressenti.longitude is None:
        return None
    return {"type": "Place", "name": ressenti.location_name,
            "latitude": ressenti.latitude, "longitude": ressenti.longitude}


def add_ressenti(note: RawObject, ressenti: Ressenti) -> RawObject:
    """The Note with the ressenti's ``feeling``, ``placeActor`` and ``location``."""
    out = dict(note)
    out["feeling"] = ressenti.feeling
    if ressenti.place_uri:
        out["placeActor"] = ressenti.place_uri
    location = render_location(ressenti)
    if location is not None:
        out["location"] = location
    return out


def _text(value: Any, limit: int = MAX_TEXT) -> str | None:
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > limit:
        return None
    return value.strip()


def _is_place(value: Any) -> bool:
    kind = value.get("type")
    return kind == "Place" or (isinstance(kind, list) and "Place" in kind[:4])


def parse_place(value: Any) -> tuple[str, float, float, RawObject] | None:
    """(name, latitude, longitude, raw) of a ``location`` that is one sane ``Place``, else
    None: a list of more than a few locations, a Place with too many properties, absurd or
    missing coordinates, an oversized name are all refused."""
    if isinstance(value, list):
        if not 0 < len(value) <= MAX_LOCATIONS:
            return None
        value = next((v for v in value if isinstance(v, dict) and _is_place(v)), None)
    if not isinstance(value, dict) or len(value) > MAX_PLACE_KEYS or not _is_place(value):
        return None
    name = _text(value.get("name"), MAX_NAME)
    lat, lon = value.get("latitude"), value.get("longitude")
    if name is None or not valid_latitude(lat) or not valid_longitude(lon):
        return None
    return name, coarse(lat), coarse(lon), value


def parse_ressenti(raw: RawObject) -> Ressenti | None:
    """The ressenti a remote Note carries, or None (absent or invalid: ignored as a whole).
    The feeling term is checked for shape here; the vocabulary check happens on storing."""
    feeling = raw.get("feeling")
    if feeling is None:
        return None
    if not isinstance(feeling, str) or not TERM_RE.match(feeling):
        return None
    name, lat, lon = "", None, None
    if raw.get("location") is not None:
        place = parse_place(raw.get("location"))
        if place is None:
            return None
        name, lat, lon, _ = place
    place_uri = raw.get("placeActor")
    note_id = raw.get("id")
    if not (isinstance(place_uri, str) and place_uri.startswith(("https://", "http://"))
            and len(place_uri) <= 2048 and isinstance(note_id, str)
            and host_of(place_uri) == host_of(note_id)):
        place_uri = None  # a place actor elsewhere than the note is not believed
    return Ressenti(feeling=feeling, location_name=name, latitude=lat, longitude=lon,
                    place_uri=place_uri)


# -- the place actor ------------------------------------------------------------------------------


def render_place_fields(doc: RawObject, settings: PlaceSettings) -> RawObject:
    """A place actor document with its ``location``, ``placeKind`` and ``territory``."""
    out = dict(doc)
    context = out.get("@context")
    if isinstance(context, list):
        out["@context"] = [*context, MU_TERMS]
    out["placeKind"] = settings.kind
    if settings.territory.name:
        out["territory"] = settings.territory.name
    location: RawObject = {"type": "Place", "name": settings.name}
    if settings.address:
        location["address"] = settings.address
    if settings.located:
        location["latitude"] = settings.latitude
        location["longitude"] = settings.longitude
    if settings.territory.radius_km:
        location["radius"] = settings.territory.radius_km
        location["units"] = "km"
    out["location"] = location
    return out


def parse_place_actor(raw: RawObject) -> KnownPlace | None:
    """A remote place actor (``Organization`` with a valid ``location``), or None."""
    if raw.get("type") != "Organization" or not isinstance(raw.get("id"), str):
        return None
    place = parse_place(raw.get("location"))
    if place is None:
        return None
    name, lat, lon, location = place
    radius = location.get("radius")
    units = location.get("units", "m")
    radius_km: float | None = None
    if isinstance(radius, int | float) and not isinstance(radius, bool) and \
            0 < radius <= 1_000_000 and units in ("m", "km"):
        radius_km = round(float(radius) / (1000.0 if units == "m" else 1.0), 3)
        if radius_km > 1000:
            radius_km = None
    address = _text(location.get("address")) or ""
    kind = _text(raw.get("placeKind"), 64) or ""
    territory = _text(raw.get("territory"), MAX_NAME) or ""
    url = raw.get("url")
    return KnownPlace(
        actor_uri=str(raw["id"]), name=name or (_text(raw.get("name"), MAX_NAME) or ""),
        kind=kind, territory=territory, address=address, latitude=lat, longitude=lon,
        radius_km=radius_km,
        url=url if isinstance(url, str) and url.startswith(("https://", "http://")) else None)
