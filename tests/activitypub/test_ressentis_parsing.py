"""Recognising feelings and spots in what a resident typed, and reading the ressenti of a
remote Note strictly (pure functions: no instance needed)."""

from __future__ import annotations

from typing import Any

import pytest

from fediverse_mu.activitypub.notes import parse_note
from fediverse_mu.activitypub.ressentis import parse_place_actor, parse_ressenti
from fediverse_mu.domain.places import DEFAULT_FEELINGS, Spot, detect, fold
from fediverse_mu.services.formatting import extract_tags

SPOTS = (Spot(1, "Le marché couvert", "MarchéCouvert", 45.19, 5.72),
         Spot(2, "L'arrêt de bus de la gare", "gare", 45.191, 5.714))


def _detect(text: str) -> tuple[str | None, str | None]:
    feeling, spot = detect(text, extract_tags(text), DEFAULT_FEELINGS, SPOTS)
    return (None if feeling is None else feeling.term, None if spot is None else spot.hashtag)


@pytest.mark.parametrize("text, expected", [
    ("Le marché est plein de monde #joie", ("joie", None)),
    ("#Fierté pour les bénévoles", ("fierte", None)),
    ("#FIERTE pour les bénévoles", ("fierte", None)),
    ("#fierte sans accent", ("fierte", None)),
    ("#inquiétude au #MarcheCouvert", ("inquietude", "MarchéCouvert")),
    ("😊 belle journée au #marchécouvert", ("joie", "MarchéCouvert")),
    ("  😢 le bus n'est pas passé #gare", ("tristesse", "gare")),
    ("✊️ avec le sélecteur de variante", ("fierte", None)),
    ("#pride in English", ("fierte", None)),
    ("#worry in English", ("inquietude", None)),
    ("belle journée 😊 (emoji pas en tête)", (None, None)),
    ("#joyeux #joies #festival", (None, None)),
    ("rien du tout #gare", (None, "gare")),
    ("#colère puis #joie: the first feeling wins", ("colere", None)),
])
def test_feeling_and_spot_are_recognised(text: str, expected: tuple[str | None, str | None]
                                         ) -> None:
    assert _detect(text) == expected


def test_fold_ignores_accents_case_and_variation_selectors() -> None:
    assert fold("Fierté") == fold("FIERTE") == "fierte"
    assert fold("✊\ufe0f") == fold("✊")


def _note(**extra: Any) -> dict[str, Any]:
    return {"id": "http://b.test/users/bob/statuses/1", "type": "Note",
            "attributedTo": "http://b.test/users/bob", "content": "<p>#joie</p>",
            "published": "2026-01-05T10:00:00Z", "to": ["https://www.w3.org/ns/activitystreams#Public"],
            **extra}


def test_a_remote_ressenti_is_read() -> None:
    note = parse_note(_note(feeling="joie", placeActor="http://b.test/users/lieu",
                            location={"type": "Place", "name": "Halle", "latitude": 45.12345,
                                      "longitude": 5.6789}))
    assert note.ressenti is not None
    assert (note.ressenti.feeling, note.ressenti.location_name) == ("joie", "Halle")
    assert (note.ressenti.latitude, note.ressenti.longitude) == (45.123, 5.679)  # coarse
    assert note.ressenti.place_uri == "http://b.test/users/lieu"


@pytest.mark.parametrize("extra", [
    {"feeling": "Joie!"},  # not a term
    {"feeling": ["joie"]},
    {"feeling": "x" * 40},
    {"feeling": "joie", "location": {"type": "Place", "name": "Nowhere", "latitude": 95.0,
                                     "longitude": 5.0}},
    {"feeling": "joie", "location": {"type": "Place", "name": "Nowhere", "latitude": True,
                                     "longitude": 5.0}},
    {"feeling": "joie", "location": {"type": "Place", "latitude": float("nan"),
                                     "longitude": 5.0}},
    {"feeling": "joie", "location": {"type": "Place", "latitude": 45.0, "longitude": 500}},
    {"feeling": "joie", "location": [{"type": "Place", "latitude": 45.0, "longitude": 5.0}
                                     for _ in range(5000)]},
    {"feeling": "joie", "location": {"type": "Place", "latitude": 45.0, "longitude": 5.0,
                                     **{f"k{i}": i for i in range(3000)}}},
    {"feeling": "joie", "location": {"type": "Place", "name": "n" * 5000, "latitude": 45.0,
                                     "longitude": 5.0}},
    {"feeling": "joie", "location": {"type": "Person", "latitude": 45.0, "longitude": 5.0}},
])
def test_bad_ressenti_data_is_ignored_as_a_whole(extra: dict[str, Any]) -> None:
    note = parse_note(_note(**extra))
    assert note.ressenti is None
    assert note.content  # the post itself is still a post


def test_a_place_actor_elsewhere_is_not_believed() -> None:
    ressenti = parse_ressenti(_note(feeling="calme", placeActor="http://evil.test/users/lieu"))
    assert ressenti is not None and ressenti.place_uri is None


def test_place_actor_documents() -> None:
    place = parse_place_actor({
        "id": "http://b.test/users/lieu", "type": "Organization", "placeKind": "fablab",
        "territory": "Vallée", "location": {"type": "Place", "name": "Fablab B",
                                            "latitude": 45.2, "longitude": 5.7,
                                            "radius": 3000, "units": "m",
                                            "address": "1 rue du Four"}})
    assert place is not None
    assert (place.name, place.kind, place.radius_km, place.address) == (
        "Fablab B", "fablab", 3.0, "1 rue du Four")
    assert parse_place_actor({"id": "http://b.test/users/bob", "type": "Person",
                              "location": {"type": "Place", "latitude": 1, "longitude": 1}}) \
        is None
    assert parse_place_actor({"id": "http://b.test/users/lieu", "type": "Organization",
                              "location": {"type": "Place", "latitude": -91,
                                           "longitude": 1}}) is None
