"""Direct messages whose mention the recipient's notification policy holds back (Mastodon 4.3):
kept out of the recipient's conversations and ``direct`` stream until the sender's request is
accepted (one, or in bulk), then there, unread, and announced; never there after a dismissal
or a ``drop``; at once with an ``accept`` policy; the same for a direct message received from
another instance. The sender's own conversation is never held back."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from aiohttp.test_utils import TestClient

from fediverse_mu.appkeys import federation_key
from fediverse_mu.services import posting
from fediverse_mu.services.context import Services
from tests.api.test_notification_requests import REQUESTS, dm, requests_of
from tests.conftest import Instance, auth, count, make_token, make_user, ok, post, settle
from tests.web.test_streaming import event, synced

Start = Callable[..., Awaitable[list[Instance]]]
Schema = Callable[[Any, str], None]


async def conversations_of(client: TestClient, token: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = await ok(await client.get("/api/v1/conversations",
                                                            headers=auth(token)))
    return found


def partners(listed: list[dict[str, Any]]) -> list[list[str]]:
    """The other participants of each conversation, newest first."""
    return [sorted(a["acct"] for a in c["accounts"]) for c in listed]


async def direct_stream(client: TestClient, token: str) -> aiohttp.ClientWebSocketResponse:
    ws = await client.ws_connect("/api/v1/streaming?stream=direct", headers=auth(token))
    await synced(ws)
    return ws


async def conversation_event(ws: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
    got = await event(ws)
    assert got["stream"] == ["direct"] and got["event"] == "conversation", got
    entity: dict[str, Any] = json.loads(got["payload"])
    return entity


async def test_a_held_back_message_waits_for_the_accept(client: TestClient, svc: Services,
                                                        assert_schema: Schema) -> None:
    alice, bob = await make_token(svc, "alice"), await make_token(svc, "bob")
    await make_user(svc, "carol")
    ws = await direct_stream(client, alice)
    bobs_ws = await direct_stream(client, bob)
    # The default policy filters private mentions from strangers.
    first = await dm(client, bob, "alice", "bonjour")
    second = await post(client, bob, status="@alice tu es là ?", visibility="direct",
                        in_reply_to_id=first)
    assert await conversations_of(client, alice) == []
    # bob's own side of it is not held back.
    assert partners(await conversations_of(client, bob)) == [["alice"]]
    assert (await conversation_event(bobs_ws))["last_status"]["id"] == first
    # Nothing reached alice's direct stream: its first event is her own message to carol.
    mine = await post(client, alice, status="@carol on se voit ?", visibility="direct")
    assert (await conversation_event(ws))["last_status"]["id"] == mine["id"]

    request = (await requests_of(client, alice))[0]
    assert await ok(await client.post(f"{REQUESTS}/{request['id']}/accept",
                                      headers=auth(alice))) == {}
    entity = await conversation_event(ws)  # one event for the thread, with its last message
    assert_schema(entity, "Conversation")
    assert entity["unread"] is True and entity["last_status"]["id"] == second["id"]
    assert [a["acct"] for a in entity["accounts"]] == ["bob"]
    listed = await conversations_of(client, alice)
    assert partners(listed) == [["carol"], ["bob"]]  # by last message: hers is newer
    assert listed[1]["id"] == entity["id"] and listed[1]["unread"] is True
    # Accepted: bob's next message goes straight in, and is streamed.
    third = await post(client, bob, status="@alice super", visibility="direct",
                       in_reply_to_id=second["id"])
    entity = await conversation_event(ws)
    assert entity["last_status"]["id"] == third["id"] and entity["unread"] is True
    assert len(await conversations_of(client, alice)) == 2
    for socket_ in (ws, bobs_ws):
        await socket_.close()


async def test_bulk_accept_dismiss_drop_and_accept_policy(client: TestClient,
                                                          svc: Services) -> None:
    tokens = {n: await make_token(svc, n) for n in ("alice", "bob", "carol", "dave", "erin")}
    alice = tokens["alice"]
    ws = await direct_stream(client, alice)
    from_bob = await dm(client, tokens["bob"], "alice", "un")
    from_carol = await dm(client, tokens["carol"], "alice", "deux")
    from_dave = await dm(client, tokens["dave"], "alice", "trois")
    assert await conversations_of(client, alice) == []

    # dave's request is dismissed: his message never enters the conversations.
    by_sender = {r["account"]["acct"]: r["id"] for r in await requests_of(client, alice)}
    await ok(await client.post(f"{REQUESTS}/{by_sender['dave']}/dismiss", headers=auth(alice)))
    assert await conversations_of(client, alice) == []
    # bob's and carol's are accepted with one call: both conversations, each announced once.
    await ok(await client.post(f"{REQUESTS}/accept", headers=auth(alice),
                               data=[("id[]", by_sender["bob"]),
                                     ("id[]", by_sender["carol"])]))
    streamed = {(await conversation_event(ws))["last_status"]["id"] for _ in range(2)}
    assert streamed == {from_bob, from_carol}
    listed = await conversations_of(client, alice)
    assert partners(listed) == [["carol"], ["bob"]]
    assert all(c["unread"] for c in listed)
    assert from_dave not in {c["last_status"]["id"] for c in listed}

    # drop: nothing is kept, no conversation either.
    await ok(await client.patch("/api/v2/notifications/policy", headers=auth(alice),
                                json={"for_private_mentions": "drop"}))
    await dm(client, tokens["erin"], "alice", "quatre")
    assert len(await conversations_of(client, alice)) == 2
    assert await requests_of(client, alice) == []
    # accept: as before the policy, straight in and streamed.
    await ok(await client.patch("/api/v2/notifications/policy", headers=auth(alice),
                                json={"for_private_mentions": "accept"}))
    from_erin = await dm(client, tokens["erin"], "alice", "cinq")
    entity = await conversation_event(ws)  # the dropped one was never streamed
    assert entity["last_status"]["id"] == from_erin and entity["unread"] is True
    assert partners(await conversations_of(client, alice))[0] == ["erin"]
    await ws.close()


async def test_bad_accepts_change_no_conversation(client: TestClient, svc: Services) -> None:
    alice, bob, eve = [await make_token(svc, n) for n in ("alice", "bob", "eve")]
    await dm(client, bob, "alice")
    request = (await requests_of(client, alice))[0]
    # eve may not accept alice's request: 404, and alice's conversations stay empty.
    response = await client.post(f"{REQUESTS}/{request['id']}/accept", headers=auth(eve))
    assert response.status == 404
    response = await client.post(f"{REQUESTS}/accept", headers=auth(alice), json={})
    assert response.status == 422
    # In bulk, someone else's id is ignored (as on Mastodon): still nothing.
    assert await ok(await client.post(f"{REQUESTS}/accept", headers=auth(eve),
                                      json={"id": [request["id"]]})) == {}
    assert await conversations_of(client, alice) == []
    assert await conversations_of(client, eve) == []
    assert await count(svc, "SELECT count(*) FROM conversations WHERE account_id IN"
                       " (SELECT id FROM accounts WHERE username IN ('alice', 'eve'))") == 0
    assert [r["id"] for r in await requests_of(client, alice)] == [request["id"]]


async def test_a_held_back_remote_message(instances: Start) -> None:
    a, b = await instances("a.test", "b.test")
    alice = await make_token(a.svc, "alice")
    bob = (await make_user(b.svc, "bob")).account
    draft = await posting.prepare(b.svc, bob, text="@alice@a.test un secret",
                                  visibility="direct",
                                  resolve=b.app[federation_key].resolve_handle)
    sent = await posting.create_status(b.svc, bob, draft)
    await settle(a, b)
    status, listed = await a.get_json("/api/v1/conversations", headers=auth(alice))
    assert status == 200 and listed == []
    status, found = await a.get_json(REQUESTS, headers=auth(alice))
    assert [r["account"]["acct"] for r in found] == ["bob@b.test"]
    await ok(await a.http.post(f"{a.base_url}{REQUESTS}/{found[0]['id']}/accept",
                               headers=auth(alice)))
    status, listed = await a.get_json("/api/v1/conversations", headers=auth(alice))
    assert [[x["acct"] for x in c["accounts"]] for c in listed] == [["bob@b.test"]]
    assert listed[0]["unread"] is True and listed[0]["last_status"]["uri"] == sent.status.uri
