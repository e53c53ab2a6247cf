"""Filters on live streams, with raw WebSocket and server-sent-events clients: ``update`` and
``status.update`` carry ``filtered`` for each subscriber; what a ``hide`` filter matches is
not sent on the streams of its context (``user`` and lists: home; public and hashtag
streams: public; notifications: notifications) while the next unfiltered event is; a change
of filters applies at once on an open stream and sends ``filters_changed``; expired filters
never apply; filters are read once, not for every event. Messages are awaited, never slept
for: timeouts only guard against a hang."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from fediverse_mu.appkeys import services_key
from fediverse_mu.services.context import Services
from fediverse_mu.web.mastodon.streaming import hub_key
from tests.conftest import FakeClock, auth, make_token, ok, post
from tests.web.test_filters_applied import count_filter_reads, new_filter
from tests.web.test_streaming import event, sse_event, synced


def status_of(message: dict[str, Any]) -> dict[str, Any]:
    entity: dict[str, Any] = json.loads(message["payload"])
    return entity


def filter_ids(entity: dict[str, Any]) -> list[str]:
    return [r["filter"]["id"] for r in entity["filtered"]]


async def follower_and_author(client: TestClient, svc: Services) -> tuple[str, str, str]:
    """Alice follows Bob; returns their tokens and Alice's account id."""
    alice, bob = await make_token(svc, "alice"), await make_token(svc, "bob")
    ids = [(await ok(await client.get("/api/v1/accounts/verify_credentials",
                                      headers=auth(t))))["id"] for t in (alice, bob)]
    await ok(await client.post(f"/api/v1/accounts/{ids[1]}/follow", headers=auth(alice)))
    return alice, bob, ids[0]


async def test_updates_carry_filtered_and_hide_by_stream(client: TestClient,
                                                        svc: Services) -> None:
    alice, bob, _ = await follower_and_author(client, svc)
    lst = await ok(await client.post("/api/v1/lists", json={"title": "Bob"},
                                     headers=auth(alice)))
    bob_id = (await ok(await client.get("/api/v1/accounts/verify_credentials",
                                        headers=auth(bob))))["id"]
    await ok(await client.post(f"/api/v1/lists/{lst['id']}/accounts",
                               json={"account_ids": [bob_id]}, headers=auth(alice)))
    warn = await new_filter(client, alice, title="Météo", context=["home"],
                            keywords_attributes=[{"keyword": "pluie"}])
    hide_home = await new_filter(client, alice, title="Foot", context=["home"],
                                 filter_action="hide",
                                 keywords_attributes=[{"keyword": "football"}])
    hide_public = await new_filter(client, alice, title="Cuisine", context=["public"],
                                   filter_action="hide",
                                   keywords_attributes=[{"keyword": "recette"}])
    home = await client.ws_connect("/api/v1/streaming?stream=user", headers=auth(alice))
    await home.send_json({"type": "subscribe", "stream": "list", "list": lst["id"]})
    public = await client.ws_connect("/api/v1/streaming?stream=public", headers=auth(alice))
    await public.send_json({"type": "subscribe", "stream": "hashtag", "tag": "jour"})
    anonymous = await client.ws_connect("/api/v1/streaming?stream=public")
    for ws in (home, public):
        await synced(ws)

    # A warned status reaches every stream, with the filter listed for alice only.
    rainy = await post(client, bob, status="De la pluie #jour")
    got = [await event(home), await event(home)]
    assert sorted(m["stream"][0] for m in got) == ["list", "user"]
    assert all(filter_ids(status_of(m)) == [warn["id"]] for m in got)
    got = [await event(public), await event(public)]
    assert sorted(m["stream"][0] for m in got) == ["hashtag", "public"]
    assert all(status_of(m)["id"] == rainy["id"] for m in got)
    assert all(filter_ids(status_of(m)) == [warn["id"]] for m in got)
    assert status_of(await event(anonymous))["filtered"] == []

    # Hidden at home (user and list streams), shown on public ones with the match listed;
    # the next status, unfiltered, is what home gets next.
    football = await post(client, bob, status="Le football ce soir #jour")
    plain = await post(client, bob, status="Rien de spécial #jour")
    for _ in range(2):
        message = await event(home)
        assert status_of(message)["id"] == plain["id"] and status_of(message)["filtered"] == []
    got = [await event(public) for _ in range(4)]
    assert [status_of(m)["id"] for m in got] == [football["id"]] * 2 + [plain["id"]] * 2
    assert filter_ids(status_of(got[0])) == [hide_home["id"]]

    # The other way round for a public-only hide filter.
    recipe = await post(client, bob, status="Une recette #jour")
    last = await post(client, bob, status="Dernier mot #jour")
    got = [await event(home) for _ in range(4)]
    assert [status_of(m)["id"] for m in got] == [recipe["id"]] * 2 + [last["id"]] * 2
    assert filter_ids(status_of(got[0])) == [hide_public["id"]]
    assert [status_of(await event(public))["id"] for _ in range(2)] == [last["id"]] * 2
    for message in [await event(anonymous) for _ in range(4)]:
        assert message["event"] == "update"  # nothing is hidden from anyone else

    # Edits: status.update is filtered the same way.
    await ok(await client.put(f"/api/v1/statuses/{plain['id']}", headers=auth(bob),
                              json={"status": "Finalement, du football #jour"}))
    await ok(await client.put(f"/api/v1/statuses/{last['id']}", headers=auth(bob),
                              json={"status": "Encore de la pluie #jour"}))
    for _ in range(2):
        message = await event(home)
        assert message["event"] == "status.update"
        assert status_of(message)["id"] == last["id"]
        assert filter_ids(status_of(message)) == [warn["id"]]
    for ws in (home, public, anonymous):
        await ws.close()


async def test_notifications_stream_is_filtered(client: TestClient, svc: Services) -> None:
    alice, _, alice_id = await follower_and_author(client, svc)
    carol = await make_token(svc, "carol")
    await new_filter(client, alice, title="Spoilers", context=["notifications"],
                     filter_action="hide", keywords_attributes=[{"keyword": "spoiler"}])
    warn = await new_filter(client, alice, title="Fin", context=["home"],
                            keywords_attributes=[{"keyword": "fin"}])
    notes = await client.ws_connect("/api/v1/streaming?stream=user:notification",
                                    headers=auth(alice))
    user = await client.ws_connect("/api/v1/streaming?stream=user", headers=auth(alice))
    spoiler = await post(client, carol, status="@alice spoiler : tout le monde meurt")
    kept = await post(client, carol, status="@alice la fin est belle")
    # The user stream has both statuses (mentions reach the home feed; the hide filter is
    # not for home) and one notification, like the notification stream.
    on_user = [await event(user) for _ in range(3)]
    assert sorted((m["event"], status_of(m)["id"]) for m in on_user
                  if m["event"] == "update") == [("update", spoiler["id"]),
                                                 ("update", kept["id"])]
    for message in [await event(notes), *(m for m in on_user if m["event"] != "update")]:
        assert message["event"] == "notification"
        notification = json.loads(message["payload"])
        assert notification["status"]["id"] == kept["id"]
        assert filter_ids(notification["status"]) == [warn["id"]]
    # A notification without a status is never hidden.
    await ok(await client.post(f"/api/v1/accounts/{alice_id}/follow", headers=auth(carol)))
    for ws in (notes, user):
        assert json.loads((await event(ws))["payload"])["type"] == "follow"
    for ws in (notes, user):
        await ws.close()


async def test_a_filter_change_applies_on_an_open_stream(client: TestClient,
                                                         svc: Services) -> None:
    alice, bob, _ = await follower_and_author(client, svc)
    ws = await client.ws_connect("/api/v1/streaming?stream=user", headers=auth(alice))
    sse = await client.get("/api/v1/streaming/user", headers=auth(alice))
    public = await client.ws_connect("/api/v1/streaming?stream=public", headers=auth(alice))
    await synced(ws)
    await synced(public)

    hide = await new_filter(client, alice, title="Chats", context=["home"],
                            filter_action="hide", keywords_attributes=[{"keyword": "chat"}])
    # Clients are told (WebSocket: no payload; server-sent events: "undefined", as Mastodon).
    assert await event(ws) == {"stream": ["user"], "event": "filters_changed"}
    assert await sse_event(sse) == ("filters_changed", "undefined")
    cat = await post(client, bob, status="Mon chat dort")
    dog = await post(client, bob, status="Mon chien aussi")
    assert status_of(await event(ws))["id"] == dog["id"]
    name, data = await sse_event(sse)
    assert name == "update" and json.loads(data)["id"] == dog["id"]
    # Only user streams are told; the public one gets the statuses.
    assert [status_of(await event(public))["id"] for _ in range(2)] == [cat["id"], dog["id"]]

    await ok(await client.delete(f"/api/v2/filters/{hide['id']}", headers=auth(alice)))
    assert (await event(ws))["event"] == "filters_changed"
    assert (await sse_event(sse))[0] == "filters_changed"
    again = await post(client, bob, status="Un autre chat")
    got = status_of(await event(ws))
    assert got["id"] == again["id"] and got["filtered"] == []
    assert json.loads((await sse_event(sse))[1])["id"] == again["id"]
    # Another resident's change says nothing to alice.
    await new_filter(client, bob, title="x", context=["home"],
                     keywords_attributes=[{"keyword": "x"}])
    last = await post(client, bob, status="fin")
    assert status_of(await event(ws))["id"] == last["id"]
    sse.close()
    for socket_ in (ws, public):
        await socket_.close()


async def test_expired_filters_never_apply(clocked: TestClient, clock: FakeClock) -> None:
    svc: Services = clocked.server.app[services_key]
    alice, bob, _ = await follower_and_author(clocked, svc)
    await new_filter(clocked, alice, title="Chats", context=["home"], filter_action="hide",
                     expires_in=60, keywords_attributes=[{"keyword": "chat"}])
    ws = await clocked.ws_connect("/api/v1/streaming?stream=user", headers=auth(alice))
    await synced(ws)
    await post(clocked, bob, status="chat caché")
    shown = await post(clocked, bob, status="chien montré")
    assert status_of(await event(ws))["id"] == shown["id"]
    clock.advance(61)
    back = await post(clocked, bob, status="chat revenu")
    got = status_of(await event(ws))
    assert got["id"] == back["id"] and got["filtered"] == []
    await ws.close()


async def test_filters_are_read_once_not_per_event(client: TestClient, svc: Services,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    alice, bob, _ = await follower_and_author(client, svc)
    carol = await make_token(svc, "carol")
    await new_filter(client, alice, title="Chats", context=["public"], filter_action="hide",
                     keywords_attributes=[{"keyword": "chat"}])
    reads = count_filter_reads(monkeypatch)
    sockets = [await client.ws_connect("/api/v1/streaming?stream=public", headers=auth(t))
               for t in (alice, alice, carol)]
    home = await client.ws_connect("/api/v1/streaming?stream=user", headers=auth(alice))
    for ws in (*sockets, home):
        await synced(ws)
    texts = ["un chat", "deux chiens", "trois chats", "quatre poissons"]
    posted = [await post(client, bob, status=text) for text in texts]
    await client.server.app[hub_key].idle()
    for ws, wanted in zip(sockets, ([1, 3], [1, 3], [0, 1, 2, 3]), strict=True):
        assert [status_of(await event(ws))["id"] for _ in wanted] == [
            posted[i]["id"] for i in wanted]
    assert [status_of(await event(home))["id"] for _ in texts] == [p["id"] for p in posted]
    # One read for the viewers not yet in memory (alice, carol), none for each event after.
    assert len(reads) == 1 and len(reads[0]) == 2
    for ws in (*sockets, home):
        await ws.close()
