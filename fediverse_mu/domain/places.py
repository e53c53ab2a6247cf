"""Places and ressentis, without I/O: the place's settings (kind, address, coarse coordinates,
territory, named spots, the feelings vocabulary), a ressenti (a feeling about the territory,
located at the place or one of its spots), other places this instance knows, and the pure rules
around them: how a feeling or a spot is recognised in what a resident typed (hashtag or leading
emoji, accents and case ignored), coarse coordinates, distances, and the barometer's weeks."""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import TypeGuard

COORDINATE_DECIMALS = 3  # ≈ 110 m: a street, never a doorstep
MAX_SPOTS = 100
MAX_FEELINGS = 40
MAX_COMMUNES = 50
MAX_POLYGON_VERTICES = 64
MAX_RADIUS_KM = 200.0
MAX_NAME = 200
MAX_ADDRESS = 300
DEFAULT_MIN_GROUP_SIZE = 5
DEFAULT_NEARBY_KM = 10.0
MAX_NEARBY_KM = 200.0
TERM_RE = re.compile(r"^[a-z][a-z0-9-]{0,31}$")
HASHTAG_RE = re.compile(r"^\w{1,100}$")
_VARIATION = dict.fromkeys((0xFE0E, 0xFE0F), None)


@dataclass(frozen=True, slots=True)
class Feeling:
    """One entry of the feelings vocabulary: a stable ASCII ``term`` (what federates), its
    emoji, the hashtag residents type (accents allowed) and its labels."""

    term: str
    emoji: str
    hashtag: str
    label_fr: str
    label_en: str
    position: int = 0

    def label(self, lang: str) -> str:
        """The label in ``lang`` (French by default)."""
        return self.label_en if lang == "en" else self.label_fr


DEFAULT_FEELINGS: tuple[Feeling, ...] = (
    Feeling("joie", "😊", "joie", "joie", "joy", 1),
    Feeling("calme", "😌", "calme", "calme", "calm", 2),
    Feeling("gratitude", "🙏", "gratitude", "gratitude", "gratitude", 3),
    Feeling("espoir", "🌱", "espoir", "espoir", "hope", 4),
    Feeling("fierte", "✊", "fierté", "fierté", "pride", 5),
    Feeling("curiosite", "🤔", "curiosité", "curiosité", "curiosity", 6),
    Feeling("inquietude", "😟", "inquiétude", "inquiétude", "worry", 7),
    Feeling("tristesse", "😢", "tristesse", "tristesse", "sadness", 8),
    Feeling("colere", "😠", "colère", "colère", "anger", 9),
    Feeling("peur", "😨", "peur", "peur", "fear", 10),
)
DEFAULT_TERMS = frozenset(f.term for f in DEFAULT_FEELINGS)


@dataclass(frozen=True, slots=True)
class Spot:
    """A named spot of the territory (``le marché couvert``) with coarse coordinates."""

    id: int
    name: str
    hashtag: str
    latitude: float
    longitude: float


@dataclass(frozen=True, slots=True)
class Territory:
    """The area a place serves: a name, communes, and a radius or a simple polygon."""

    name: str = ""
    communes: tuple[str, ...] = ()
    radius_km: float | None = None
    polygon: tuple[tuple[float, float], ...] = ()  # (latitude, longitude) vertices


@dataclass(frozen=True, slots=True)
class PlaceSettings:
    """The place this instance is (editable by the admin; first taken from config.toml)."""

    name: str
    kind: str
    description: str = ""
    address: str = ""
    latitude: float | None = None
    longitude: float | None = None
    territory: Territory = field(default_factory=Territory)
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE

    @property
    def located(self) -> bool:
        """True when the place has coordinates."""
        return self.latitude is not None and self.longitude is not None


@dataclass(frozen=True, slots=True)
class Ressenti:
    """A status's feeling and coarse location. ``spot`` is a local spot's hashtag (None at the
    place itself or for remote ressentis); ``place_uri`` is the origin place actor, if known."""

    feeling: str
    emoji: str = ""
    label: str = ""
    location_name: str = ""
    latitude: float | None = None
    longitude: float | None = None
    spot: str | None = None
    place_uri: str | None = None


@dataclass(frozen=True, slots=True)
class KnownPlace:
    """A place actor this instance has seen (its own included), for the directory."""

    actor_uri: str
    name: str
    kind: str = ""
    territory: str = ""
    address: str = ""
    latitude: float | None = None
    longitude: float | None = None
    radius_km: float | None = None
    url: str | None = None
    allied: bool = False
    local: bool = False
    account_id: int | None = None
    seen_at: datetime | None = None
    distance_km: float | None = None


@dataclass(frozen=True, slots=True)
class BarometerCell:
    """How many public ressentis of a feeling a week had; None below the minimum group size."""

    week: str  # ISO week, e.g. 2026-W05
    feeling: str
    count: int | None


# -- pure rules ---------------------------------------------------------------------------------


@lru_cache(maxsize=4096)  # the vocabulary's ~40 names are folded again for every post
def fold(text: str) -> str:
    """Text compared without accents, case or emoji variation selectors (Fierté → fierte)."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_VARIATION))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def coarse(value: float) -> float:
    """A coordinate rounded to about 110 m."""
    return round(float(value), COORDINATE_DECIMALS)


def valid_latitude(value: object) -> TypeGuard[float]:
    """True for a finite number between -90 and 90 (booleans refused)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and \
        math.isfinite(value) and -90.0 <= value <= 90.0


def valid_longitude(value: object) -> TypeGuard[float]:
    """True for a finite number between -180 and 180 (booleans refused)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and \
        math.isfinite(value) and -180.0 <= value <= 180.0


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine) in kilometres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 6371.0088 * 2 * math.asin(min(1.0, math.sqrt(a)))


def bounding_box(lat: float, lon: float, km: float) -> tuple[float, float, float, float]:
    """(min lat, max lat, min lon, max lon) of a square holding the circle of ``km``."""
    dlat = km / 111.0
    dlon = km / max(0.01, 111.0 * math.cos(math.radians(lat)))
    return lat - dlat, lat + dlat, max(-180.0, lon - dlon), min(180.0, lon + dlon)


def iso_week(moment: datetime) -> str:
    """The ISO week of a moment, e.g. ``2026-W05``."""
    year, week, _ = moment.isocalendar()
    return f"{year}-W{week:02d}"


def feeling_keys(feeling: Feeling) -> set[str]:
    """Every folded hashtag that names this feeling (its hashtag, term and both labels)."""
    return {fold(k) for k in (feeling.hashtag, feeling.term, feeling.label_fr, feeling.label_en)
            if k}


@dataclass(frozen=True)
class Lexicon:
    """A vocabulary made ready for reading posts: every folded name of each feeling, the
    emojis longest first, the folded hashtag of each spot (built once per vocabulary)."""

    by_key: Mapping[str, Feeling]
    by_emoji: tuple[tuple[str, Feeling], ...]
    spots: Mapping[str, Spot]


def lexicon(feelings: tuple[Feeling, ...], spots: tuple[Spot, ...]) -> Lexicon:
    """The :class:`Lexicon` of a vocabulary."""
    by_key: dict[str, Feeling] = {}
    for feeling in feelings:
        for key in feeling_keys(feeling):
            by_key.setdefault(key, feeling)
    by_emoji = tuple((f.emoji.translate(_VARIATION), f)
                     for f in sorted(feelings, key=lambda f: -len(f.emoji)))
    return Lexicon(by_key, tuple((e, f) for e, f in by_emoji if e),
                   {fold(s.hashtag): s for s in spots})


def detect(text: str, tags: tuple[str, ...] | list[str], feelings: tuple[Feeling, ...],
           spots: tuple[Spot, ...]) -> tuple[Feeling | None, Spot | None]:
    """The feeling and spot a resident wrote: the first hashtag naming a feeling, else an
    emoji of the vocabulary at the very start of the post; the first hashtag naming a spot.
    Unknown hashtags are ignored."""
    return detect_in(lexicon(feelings, spots), text, tags)


def detect_in(lex: Lexicon, text: str,
              tags: tuple[str, ...] | list[str]) -> tuple[Feeling | None, Spot | None]:
    """:func:`detect` with a lexicon built beforehand."""
    folded_tags = [fold(t) for t in tags]
    found = next((lex.by_key[t] for t in folded_tags if t in lex.by_key), None)
    if found is None:
        start = text.lstrip().translate(_VARIATION)
        found = next((f for emoji, f in lex.by_emoji if start.startswith(emoji)), None)
    spot = next((lex.spots[t] for t in folded_tags if t in lex.spots), None)
    return found, spot


def check_hashtag(value: str) -> str:
    """A hashtag without ``#`` (letters, digits, underscores), or ValueError."""
    tag = unicodedata.normalize("NFC", value.strip().lstrip("#"))
    if not HASHTAG_RE.match(tag) or tag.isdigit():
        raise ValueError("a hashtag is 1 to 100 letters, digits or underscores")
    return tag
