"""One place, through its faces: ressentis posted from a stock Mastodon client (the
``ressenti`` object and tags of the Status entity), local-only in every client dialect and the
resident's default, the barometer's minimum group size in the page, JSON, CSV and Atom outputs,
the server-managed lists, the place API and the admin and settings pages."""

from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from typing import Any

from aiohttp.test_utils import TestClient

from fediverse_mu.domain import Role
from fediverse_mu.services import accounts, places
from fediverse_mu.services.context import Services
from tests.conftest import PASSWORD, auth, count, make_token, make_user, ok, post
from tests.web.test_session import hidden, login_form

ATOM = "{http://www.w3.org/2005/Atom}"


async def _located(svc: Services) -> None:
    await places.update_settings(svc, {"coordinates": "45.1885, 5.7245",
                                       "address": "2 place du Marché", "radius_km": "5"})
    await places.add_spot(svc, "Le marché couvert", "MarchéCouvert", "45.190, 5.726")


async def test_a_ressenti_from_a_stock_client(client: TestClient, svc: Services,
                                              assert_schema: Callable[[Any, str], None]
                                              ) -> None:
    await _located(svc)
    token = await make_token(svc, "alice")
    entity = await post(client, token, status="😊 belle matinée au #marchecouvert")
    assert_schema(entity, "Status")
    assert entity["ressenti"] == {
        "feeling": "joie", "emoji": "😊", "label": "joie", "spot": "marchécouvert",
        "location": {"name": "Le marché couvert", "latitude": 45.19, "longitude": 5.726},
        "place": f"{svc.config.base_url}/users/lieu"}
    # The feeling's hashtag is added for Mastodon users even when only the emoji was typed.
    assert {t["name"] for t in entity["tags"]} == {"marchecouvert", "joie"}
    plain = await post(client, token, status="Rien de spécial #concert")
    assert "ressenti" not in plain
    at_place = await post(client, token, status="#Inquiétude pour la ligne de bus")
    assert at_place["ressenti"]["feeling"] == "inquietude"
    assert at_place["ressenti"]["location"]["latitude"] == 45.188  # coarse: ~110 m
    fetched = await ok(await client.get(f"/api/v1/statuses/{entity['id']}"))
    assert fetched["ressenti"]["feeling"] == "joie"

    edited = await ok(await client.put(f"/api/v1/statuses/{entity['id']}", headers=auth(token),
                                       json={"status": "finalement #colère"}))
    assert edited["ressenti"]["feeling"] == "colere"
    assert await count(svc, "SELECT count(*) FROM ressentis WHERE feeling = 'joie'") == 0


async def test_vocabulary_changes_apply_to_the_next_post(client: TestClient,
                                                         svc: Services) -> None:
    """The vocabulary is cached per process; a change made here is seen at once."""
    token = await make_token(svc, "alice")
    before = await post(client, token, status="Quel #bonheur ce jardin")
    assert "ressenti" not in before  # not a feeling yet (and now cached)
    await places.add_feeling(svc, "bonheur", "🌻", "bonheur", "bonheur", "happiness")
    after = await post(client, token, status="Quel #bonheur ce jardin")
    assert after["ressenti"]["feeling"] == "bonheur"
    await places.add_spot(svc, "Le jardin partagé", "JardinPartagé", "45.19, 5.72")
    spotted = await post(client, token, status="🌻 au #jardinpartagé")
    assert spotted["ressenti"]["spot"] == "jardinpartagé"
    await places.remove_feeling(svc, "bonheur")
    assert "ressenti" not in await post(client, token, status="Quel #bonheur ce jardin")


async def test_local_only_in_every_dialect(client: TestClient, svc: Services) -> None:
    token = await make_token(svc, "alice")
    for params in ({"local_only": "true"}, {"federated": "false"}, {"visibility": "local"}):
        entity = await post(client, token, status="juste ici", **params)
        assert entity["local_only"] is True, params
    marked = await post(client, token, status="entre nous 👁")
    assert marked["local_only"] is True
    assert (await post(client, token, status="pour tous"))["local_only"] is False
    bad = await client.post("/api/v1/statuses", headers=auth(token),
                            json={"status": "x", "federated": "peut-être"})
    assert bad.status == 422
    before = await count(svc, "SELECT count(*) FROM statuses")

    me = await accounts.get_local_account(svc, "alice")
    assert me is not None
    await places.set_local_only_default(svc, me, True)
    assert (await post(client, token, status="par défaut"))["local_only"] is True
    assert (await post(client, token, status="sauf si", federated="true"))["local_only"] \
        is False
    assert await count(svc, "SELECT count(*) FROM statuses") == before + 2


async def _login(client: TestClient, svc: Services, name: str, role: Role) -> None:
    await make_user(svc, name, role=role)
    form = await login_form(client)
    response = await client.post("/login", data={**form, "username": name,
                                                  "password": PASSWORD},
                                 allow_redirects=False)
    assert response.status == 303


async def test_resident_sets_the_local_only_default_on_the_web(client: TestClient,
                                                               svc: Services) -> None:
    response = await client.get("/settings/place", allow_redirects=False)
    assert response.status == 303 and response.headers["Location"].startswith("/login")
    await _login(client, svc, "alice", Role.RESIDENT)
    page = await (await client.get("/settings/place")).text()
    form = hidden(page)
    done = await client.post("/settings/place", data={**form, "local_only": "on"},
                             allow_redirects=False)
    assert done.status == 303
    token = await make_token(svc, "alice")
    assert (await post(client, token, status="chez nous"))["local_only"] is True
    forged = await client.post("/settings/place", data={"local_only": ""})
    assert forged.status == 403  # no CSRF token: refused, nothing changed
    assert (await post(client, token, status="encore"))["local_only"] is True


async def _ressentis(client: TestClient, token: str, feeling: str, n: int) -> None:
    for i in range(n):
        await post(client, token, status=f"#{feeling} numéro {i}")


async def test_barometer_hides_small_counts_everywhere(client: TestClient,
                                                       svc: Services) -> None:
    await _located(svc)
    token = await make_token(svc, "alice")
    await _ressentis(client, token, "joie", 5)
    await _ressentis(client, token, "calme", 4)
    await post(client, token, status="#peur mais local", local_only="true")  # never counted

    data = await ok(await client.get("/lieu/barometre.json"))
    cells = {(c["week"], c["feeling"]): c["count"] for c in data["counts"]}
    week = data["weeks"][-1]
    assert data["min_group_size"] == 5
    assert cells[(week, "joie")] == 5
    assert cells[(week, "calme")] is None and cells[(week, "peur")] is None
    assert all(v is None or v >= 5 for v in cells.values())

    response = await client.get("/lieu/barometre.csv")
    assert response.status == 200 and response.content_type == "text/csv"
    rows = list(csv.DictReader(io.StringIO(await response.text())))
    by_key = {(r["week"], r["feeling"]): r["count"] for r in rows}
    assert by_key[(week, "joie")] == "5" and by_key[(week, "calme")] == ""

    page = await (await client.get("/lieu")).text()
    assert "<svg" in page and "<script" not in page
    assert not re.search(r'(src|href)="https?://(?!a\.test)', page.split("<footer")[0]
                         .split("<main>")[1])  # no third-party request
    assert ">4<" not in page.split('class="barometer"')[1].split("</svg>")[0]
    assert ">5<" in page

    atom = await client.get("/lieu/ressentis.atom")
    assert atom.content_type == "application/atom+xml"
    feed = ET.fromstring(await atom.text())
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == 9  # the local-only one is not public
    assert {e.find(f"{ATOM}category").get("term") for e in entries} == {"joie", "calme"}

    # An admin raising the threshold hides the rest; the page follows at once.
    await places.update_settings(svc, {"min_group_size": "6"})
    data = await ok(await client.get("/api/v1/place/barometer"))
    assert all(c["count"] is None for c in data["counts"])


async def test_deleting_a_ressenti_takes_it_out_of_the_barometer(client: TestClient,
                                                                svc: Services) -> None:
    token = await make_token(svc, "alice")
    await _ressentis(client, token, "espoir", 5)
    first = await post(client, token, status="#espoir encore")
    await ok(await client.delete(f"/api/v1/statuses/{first['id']}", headers=auth(token)))
    data = await ok(await client.get("/lieu/barometre.json"))
    assert [c["count"] for c in data["counts"] if c["feeling"] == "espoir"][-1] == 5
    assert await count(svc, "SELECT count(*) FROM ressentis") == 5


async def test_server_managed_lists(client: TestClient, svc: Services) -> None:
    await _located(svc)
    token = await make_token(svc, "alice")
    before = await post(client, token, status="#gratitude pour l'accueil")
    found = await ok(await client.get("/api/v1/lists", headers=auth(token)))
    titles = {lst["title"]: lst["id"] for lst in found}
    # "Réseau des lieux" comes with the first allied place (tests/federation).
    assert set(titles) == {"Autour de nous — 10 km"}
    again = await ok(await client.get("/api/v1/lists", headers=auth(token)))
    assert len(again) == 1  # created once
    nearby = titles["Autour de nous — 10 km"]
    after = await post(client, token, status="😌 au #MarcheCouvert")
    timeline = await ok(await client.get(f"/api/v1/timelines/list/{nearby}",
                                         headers=auth(token)))
    assert [s["id"] for s in timeline] == [after["id"], before["id"]]  # backfilled + on write


async def test_place_api_and_actor(client: TestClient, svc: Services) -> None:
    await _located(svc)
    place = await ok(await client.get("/api/v1/place"))
    assert place["acct"] == "lieu@a.test" and place["latitude"] == 45.188
    assert [f["term"] for f in place["feelings"]][:3] == ["joie", "calme", "gratitude"]
    assert place["spots"][0]["hashtag"] == "MarchéCouvert"
    finger = await ok(await client.get("/.well-known/webfinger",
                                       params={"resource": "acct:lieu@a.test"}))
    assert finger["links"][0]["href"] == "http://a.test/users/lieu"
    actor = await ok(await client.get("/users/lieu",
                                      headers={"Accept": "application/activity+json"}))
    assert actor["type"] == "Organization"
    assert actor["location"] == {"type": "Place", "name": "Mon tiers-lieu",
                                 "address": "2 place du Marché", "latitude": 45.188,
                                 "longitude": 5.724, "radius": 5.0, "units": "km"}
    directory = await ok(await client.get("/lieu/annuaire.json"))
    assert directory[0]["local"] is True and directory[0]["distance_km"] == 0.0
    assert (await client.get("/lieu/annuaire")).status == 200
    context = await ok(await client.get("/ns/mu"))
    assert context["@context"]["feeling"] == "mu:feeling"


async def test_admin_edits_the_place(client: TestClient, svc: Services) -> None:
    await _login(client, svc, "rosa", Role.RESIDENT)
    assert (await client.get("/admin/place")).status == 403
    client.session.cookie_jar.clear()
    await _login(client, svc, "ada", Role.ADMIN)
    page = await (await client.get("/admin/place")).text()
    token = hidden(page)["csrf_token"]
    before = await places.get_settings(svc)
    bad = await client.post("/admin/place", data={
        "csrf_token": token, "action": "settings", "name": "Le Lieu", "kind": "fablab",
        "coordinates": "145, 5"})
    assert bad.status == 422 and "latitude" in await bad.text()
    assert await places.get_settings(svc) == before  # nothing changed
    good = await client.post("/admin/place", data={
        "csrf_token": token, "action": "settings", "name": "Le Lieu", "kind": "fablab",
        "coordinates": "45.1, 5.7", "communes": "Grenoble\nÉchirolles", "radius_km": "8",
        "min_group_size": "5"}, allow_redirects=False)
    assert good.status == 303
    changed = await places.get_settings(svc)
    assert (changed.name, changed.kind, changed.territory.communes) == (
        "Le Lieu", "fablab", ("Grenoble", "Échirolles"))
    assert (await places.place_actor(svc)).display_name == "Le Lieu"
    duplicate = await client.post("/admin/place", data={
        "csrf_token": token, "action": "add_feeling", "term": "bonheur", "emoji": "😊",
        "hashtag": "bonheur"})
    assert duplicate.status == 422  # 😊 already stands for joie
    assert all(f.term != "bonheur" for f in await places.list_feelings(svc))
    added = await client.post("/admin/place", data={
        "csrf_token": token, "action": "add_feeling", "term": "lassitude", "emoji": "😩",
        "hashtag": "lassitude", "label_en": "weariness"}, allow_redirects=False)
    assert added.status == 303
    assert any(f.term == "lassitude" for f in await places.list_feelings(svc))
    spot = await client.post("/admin/place", data={
        "csrf_token": token, "action": "add_spot", "spot_name": "La gare",
        "spot_hashtag": "#gare", "spot_coordinates": "45.19, 5.71"}, allow_redirects=False)
    assert spot.status == 303
    assert [s.hashtag for s in await places.list_spots(svc)] == ["gare"]
