"""Places and ressentis across in-process instances over real HTTP: a ressenti keeps its
feeling and location from one place to another (and carries its hashtag for Mastodon users),
local-only posts never leave, network-of-places posts reach allied places only, the nearby
timeline gathers ressentis from every place known, by distance, and hostile ressenti data from
another server is ignored without storing anything wrong."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from fediverse_mu.activitypub.notes import parse_note
from fediverse_mu.appkeys import federation_key
from fediverse_mu.domain import Account
from fediverse_mu.domain.statuses import StatusView, Visibility
from fediverse_mu.services import following, places, posting, ressentis
from fediverse_mu.services.delivery import queue_deliveries
from tests.conftest import Instance, auth, count, make_token, make_user, settle

Start = Callable[..., Awaitable[list[Instance]]]


async def _post(inst: Instance, author: Account, text: str, **options: Any) -> StatusView:
    draft = await posting.prepare(inst.svc, author, text=text, **options)
    return await posting.create_status(inst.svc, author, draft)


async def _follow(inst: Instance, follower: Account, handle: str) -> Account:
    remote = await inst.app[federation_key].resolve_handle(handle)
    await following.follow(inst.svc, follower, remote)
    return remote


async def _locate(inst: Instance, lat: float, lon: float) -> None:
    await places.update_settings(inst.svc, {"coordinates": f"{lat}, {lon}"})


async def _ally(inst: Instance, other: Instance) -> None:
    target = await inst.app[federation_key].resolve_handle(f"lieu@{other.name}")
    await places.ally(inst.svc, target)


async def _created(inst: Instance) -> list[tuple[str, dict[str, Any]]]:
    rows = await inst.svc.storage.read(lambda db: db.execute(
        "SELECT host, payload FROM jobs WHERE kind = 'deliver'").fetchall())
    found = []
    for row in rows:
        activity = json.loads(row["payload"])["activity"]
        if activity["type"] == "Create":
            found.append((row["host"], activity))
    return found


async def test_a_ressenti_arrives_with_feeling_and_location(instances: Start) -> None:
    a, b = await instances("a.test", "b.test")
    await _locate(a, 45.1885, 5.7245)
    await places.add_spot(a.svc, "La halle", "halle", "45.19, 5.73")
    alice = (await make_user(a.svc, "alice")).account
    bob = (await make_user(b.svc, "bob")).account
    await _follow(b, bob, "alice@a.test")
    await settle(a, b)

    sent = await _post(a, alice, "😟 la #halle ferme le dimanche")
    [(host, create)] = await _created(a)
    note = create["object"]
    assert host == "b.test"
    assert note["feeling"] == "inquietude"
    assert note["location"] == {"type": "Place", "name": "La halle", "latitude": 45.19,
                                "longitude": 5.73}
    assert note["placeActor"] == "http://a.test/users/lieu"
    # A plain Mastodon-like peer ignores the extension and sees the hashtags.
    assert {"#inquiétude", "#halle"} <= {t["name"] for t in note["tag"]}
    assert any(isinstance(c, dict) and c.get("feeling") == "mu:feeling"
               for c in create["@context"])

    await settle(a, b)
    copy = await posting.get_view_by_uri(b.svc, sent.status.uri, bob)
    assert copy is not None and copy.ressenti is not None
    assert (copy.ressenti.feeling, copy.ressenti.emoji, copy.ressenti.location_name) == (
        "inquietude", "😟", "La halle")
    assert (copy.ressenti.latitude, copy.ressenti.longitude) == (45.19, 5.73)
    assert copy.ressenti.place_uri == "http://a.test/users/lieu"
    # B learnt about A's place on the way: it is in B's directory, with its distance.
    await b.app[federation_key].resolve_handle("lieu@a.test")
    token = await make_token(b.svc, "bob")
    async with b.http.get(f"{b.base_url}/api/v1/statuses/{copy.status.id}",
                          headers=auth(token)) as response:
        entity = await response.json()
    assert entity["ressenti"]["feeling"] == "inquietude"


async def test_local_only_never_leaves(instances: Start) -> None:
    a, b = await instances("a.test", "b.test")
    alice = (await make_user(a.svc, "alice")).account
    bob = (await make_user(b.svc, "bob")).account
    await _follow(b, bob, "alice@a.test")
    await settle(a, b)
    local = await _post(a, alice, "#joie entre nous", local_only=True)
    reply = await _post(a, alice, "et la suite", in_reply_to_id=local.status.id)
    assert reply.status.local_only  # replies inherit it
    assert await _created(a) == []
    assert await count(a.svc, "SELECT count(*) FROM jobs WHERE kind = 'deliver'"
                              " AND payload LIKE '%Announce%'") == 0
    # A remote fetch of it answers 404.
    async with a.http.get(local.status.uri,
                          headers={"Accept": "application/activity+json"}) as response:
        assert response.status == 404
    await settle(a, b)
    assert await posting.get_status_by_uri(b.svc, local.status.uri) is None


async def test_network_posts_reach_allied_places_only(instances: Start) -> None:
    a, b, c = await instances("a.test", "b.test", "c.test")
    await make_user(a.svc, "alice")
    bea = (await make_user(b.svc, "bea")).account
    carol = (await make_user(c.svc, "carol")).account
    await _follow(c, carol, "alice@a.test")  # a follower, but on a place that is not allied
    await _ally(a, b)
    await _ally(b, a)
    await settle(a, b, c)

    token = await make_token(a.svc, "alice")
    async with a.http.post(f"{a.base_url}/api/v1/statuses", headers=auth(token),
                           json={"status": "Réunion des lieux jeudi",
                                 "visibility": "network"}) as response:
        assert response.status == 200, await response.text()
        entity = await response.json()
    assert entity["visibility"] == "private"
    assert [host for host, _ in await _created(a)] == ["b.test"]
    await settle(a, b, c)

    uri = entity["uri"]
    copy = await posting.get_view_by_uri(b.svc, uri, bea)
    assert copy is not None and copy.status.visibility is Visibility.PRIVATE
    network = await ressentis.network_timeline(b.svc, bea, posting.Page())
    assert uri in [v.status.uri for v in network]
    assert await posting.get_view_by_uri(b.svc, uri, None) is None  # not for anonymous
    assert await posting.get_status_by_uri(c.svc, uri) is None
    async with c.http.get(uri, headers={"Accept": "application/activity+json"}) as response:
        assert response.status == 404  # refused to any other fetcher
    assert carol.username == "carol"


async def test_nearby_timeline_across_three_places(instances: Start) -> None:
    a, b, c = await instances("a.test", "b.test", "c.test")
    await _locate(a, 45.0, 5.0)
    await _locate(b, 45.045, 5.0)  # ≈ 5 km north
    await _locate(c, 45.45, 5.0)  # ≈ 50 km north
    await _ally(a, b)
    await _ally(a, c)
    await settle(a, b, c)
    anna = (await make_user(a.svc, "anna")).account
    bea = (await make_user(b.svc, "bea")).account
    cy = (await make_user(c.svc, "cy")).account
    far = await _post(c, cy, "#calme au bord du lac")
    near = await _post(b, bea, "#espoir pour la ferme")
    here = await _post(a, anna, "#joie au tiers-lieu")
    await settle(a, b, c)

    found = await ressentis.nearby_timeline(a.svc, anna, 10.0, posting.Page())
    assert [v.status.uri for v, _ in found] == [here.status.uri, near.status.uri]
    assert [d for _, d in found] == [0.0, 5.0]
    wide = await ressentis.nearby_by_distance(a.svc, anna, 100.0, 10)
    assert [v.status.uri for v, _ in wide] == [here.status.uri, near.status.uri,
                                               far.status.uri]
    assert [round(d) for _, d in wide] == [0, 5, 50]
    token = await make_token(a.svc, "anna")
    async with a.http.get(f"{a.base_url}/api/v1/timelines/nearby",
                          params={"radius_km": "100", "order": "distance"},
                          headers=auth(token)) as response:
        body = await response.json()
    assert [s["ressenti"]["distance_km"] for s in body] == [0.0, 5.0, 50.0]
    directory = await places.directory(a.svc)
    assert [(p.local, round(p.distance_km or 0)) for p in directory] == [
        (True, 0), (False, 5), (False, 50)]
    # The "Autour de nous — 10 km" list of a stock client holds A's and B's ressentis.
    async with a.http.get(f"{a.base_url}/api/v1/lists", headers=auth(token)) as response:
        lists = {lst["title"]: lst["id"] for lst in await response.json()}
    async with a.http.get(f"{a.base_url}/api/v1/timelines/list/"
                          f"{lists['Autour de nous — 10 km']}", headers=auth(token)) as response:
        listed = [s["uri"] for s in await response.json()]
    assert listed == [here.status.uri, near.status.uri]
    async with a.http.get(f"{a.base_url}/api/v1/timelines/list/"
                          f"{lists['Réseau des lieux']}", headers=auth(token)) as response:
        network = [s["uri"] for s in await response.json()]
    assert set(network) == {near.status.uri, far.status.uri}


async def test_hostile_ressenti_data_is_ignored(instances: Start) -> None:
    a, b = await instances("a.test", "b.test")
    alice = (await make_user(a.svc, "alice")).account
    bob = (await make_user(b.svc, "bob")).account
    await _follow(a, alice, "bob@b.test")
    await settle(a, b)
    base = f"{bob.actor_uri}/statuses"
    bad_objects = [
        {"feeling": "bonheurextreme"},  # outside any vocabulary
        {"feeling": "joie", "location": {"type": "Place", "name": "Mars", "latitude": 912.0,
                                         "longitude": 5.0}},
        {"feeling": "joie", "location": [{"type": "Place", "name": f"p{i}", "latitude": 45.0,
                                          "longitude": 5.0} for i in range(3000)]},
        {"feeling": "joie", "location": {"type": "Place", "latitude": 45.0, "longitude": 5.0,
                                         **{f"x{i}": "y" for i in range(2000)}}},
        {"feeling": {"@id": "joie"}},
    ]
    for number, extra in enumerate(bad_objects, start=1):
        note = {"id": f"{base}/{number}", "type": "Note", "attributedTo": bob.actor_uri,
                "content": f"<p>post {number} #joie</p>", "published": "2026-01-05T10:00:00Z",
                "to": ["https://www.w3.org/ns/activitystreams#Public"], **extra}
        create = {"@context": "https://www.w3.org/ns/activitystreams",
                  "id": f"{base}/{number}/activity", "type": "Create",
                  "actor": bob.actor_uri, "to": note["to"], "object": note}
        await b.svc.storage.write(queue_deliveries, create, ["http://a.test/inbox"],
                                  signer_id=bob.id, now=b.svc.clock())
    await settle(a, b)
    kept = await count(a.svc, "SELECT count(*) FROM statuses WHERE uri LIKE ?", f"{base}/%")
    # The posts themselves are ordinary posts, except the one with thousands of locations,
    # which the inbox refuses outright (400: over its limits).
    assert kept == len(bad_objects) - 1
    assert await posting.get_status_by_uri(a.svc, f"{base}/3") is None
    assert await count(a.svc, "SELECT count(*) FROM ressentis") == 0
    assert await count(a.svc, "SELECT count(*) FROM ressenti_locations") == 0
    assert parse_note(bad_objects[0] | {
        "id": f"{base}/9", "type": "Note", "attributedTo": bob.actor_uri, "content": "x",
        "published": "2026-01-05T10:00:00Z"}).ressenti is not None  # shape fine, term unknown
