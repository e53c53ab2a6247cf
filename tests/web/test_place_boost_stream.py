"""The place actor's boost of a public ressenti is streamed live: an ``update`` with ``reblog``
on the ``user`` stream of each resident whose home feed got it (they follow ``@lieu``), once,
and on the stream of a list that includes ``@lieu``; never on the public streams (a boost is
not in the public timelines), nor to a resident who does not follow the place."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
from aiohttp.test_utils import TestClient

from fediverse_mu.services.context import Services
from tests.conftest import auth, make_token, ok, post
from tests.web.test_places import _located
from tests.web.test_streaming import event, synced


async def _update(ws: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
    got = await event(ws)
    assert got["event"] == "update", got
    entity: dict[str, Any] = json.loads(got["payload"])
    return entity


async def _stream(client: TestClient, token: str | None,
                  query: str) -> aiohttp.ClientWebSocketResponse:
    ws = await client.ws_connect(f"/api/v1/streaming?{query}",
                                 headers=auth(token) if token else None)
    await synced(ws)
    return ws


async def test_the_place_boost_reaches_its_followers_live(client: TestClient,
                                                          svc: Services) -> None:
    await _located(svc)
    alice, bob, carol = [await make_token(svc, n) for n in ("alice", "bob", "carol")]
    lieu = await ok(await client.get("/api/v1/accounts/lookup", params={"acct": "lieu"}))
    await ok(await client.post(f"/api/v1/accounts/{lieu['id']}/follow", headers=auth(bob)))
    territory = await ok(await client.post("/api/v1/lists", json={"title": "territoire"},
                                           headers=auth(bob)))
    await ok(await client.post(f"/api/v1/lists/{territory['id']}/accounts",
                               json={"account_ids": [lieu["id"]]}, headers=auth(bob)))
    bobs_home = await _stream(client, bob, "stream=user")
    bobs_list = await _stream(client, bob, f"stream=list&list={territory['id']}")
    carols_home = await _stream(client, carol, "stream=user")
    public = await _stream(client, None, "stream=public")
    local = await _stream(client, carol, "stream=public:local")

    ressenti = await post(client, alice, status="😊 belle matinée")
    assert ressenti["ressenti"]["feeling"] == "joie"
    for ws in (bobs_home, bobs_list):
        boost = await _update(ws)
        assert boost["account"]["acct"] == "lieu" and boost["content"] == ""
        assert boost["reblog"] is not None and boost["reblog"]["id"] == ressenti["id"]
    home = await ok(await client.get("/api/v1/timelines/home", headers=auth(bob)))
    assert [s["id"] for s in home] == [boost["id"]]  # what was streamed is what is at home
    # The public streams have the ressenti itself, not the boost.
    for ws in (public, local):
        assert (await _update(ws))["id"] == ressenti["id"]

    # Exactly once: the next event of each stream is the next status.
    marker = await post(client, bob, status="bonne journée à tous")
    for ws in (bobs_home, public, local):
        assert (await _update(ws))["id"] == marker["id"]
    # carol does not follow the place: her home stream never had the boost.
    mine = await post(client, carol, status="rien à signaler")
    assert (await _update(carols_home))["id"] == mine["id"]
    # The list stream's next event is the place's next boost, not a repeat.
    again = await post(client, alice, status="😊 le soleil revient")
    got = await _update(bobs_list)
    assert got["reblog"]["id"] == again["id"] and got["id"] != boost["id"]
    for ws in (bobs_home, bobs_list, carols_home, public, local):
        await ws.close()


async def test_no_boost_to_stream_for_a_private_ressenti(client: TestClient,
                                                         svc: Services) -> None:
    await _located(svc)
    alice, bob = await make_token(svc, "alice"), await make_token(svc, "bob")
    lieu = await ok(await client.get("/api/v1/accounts/lookup", params={"acct": "lieu"}))
    await ok(await client.post(f"/api/v1/accounts/{lieu['id']}/follow", headers=auth(bob)))
    bobs_home = await _stream(client, bob, "stream=user")
    private = await post(client, alice, status="😊 entre nous", visibility="private")
    assert private["ressenti"]["feeling"] == "joie"
    mine = await post(client, bob, status="et moi")
    assert (await _update(bobs_home))["id"] == mine["id"]  # no boost came first
    await bobs_home.close()
