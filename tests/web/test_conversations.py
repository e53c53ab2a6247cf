"""Direct conversations: filled by direct statuses (local and received from another instance
over real HTTP), unread flags, reading and removing one, pagination by last message, someone
else's ids refused with nothing changed, the ``direct`` stream (WebSocket and server-sent
events) with ``conversation`` events, revoked tokens ending their streams, and Mastodon.py.
The recipients here accept private mentions from strangers (the default policy holds them
back until accepted: tests/api/test_filtered_conversations.py)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
from aiohttp.test_utils import TestClient

from fediverse_mu.appkeys import federation_key
from fediverse_mu.services import accounts, notification_groups, posting
from fediverse_mu.services.context import Services
from tests.conftest import (
    PASSWORD,
    RealServer,
    auth,
    count,
    login,
    make_token,
    make_user,
    ok,
    post,
    settle,
)
from tests.web.test_streaming import GUARD, event, sse_event, synced


async def _list(client: TestClient, token: str, query: str = "") -> Any:
    return await ok(await client.get(f"/api/v1/conversations{query}", headers=auth(token)))


async def _open(svc: Services, *usernames: str) -> None:
    """These residents accept private mentions from people they do not follow."""
    for username in usernames:
        account = await accounts.get_local_account(svc, username)
        assert account is not None
        await notification_groups.update_policy(svc, account,
                                                {"for_private_mentions": "accept"})


async def test_direct_messages_make_conversations(client: TestClient, svc: Services,
                                                  assert_schema: Any) -> None:
    alice, bob, carol, dave = [await make_token(svc, n) for n in ("alice", "bob", "carol",
                                                                  "dave")]
    await _open(svc, "alice", "bob", "carol", "dave")
    await post(client, alice, status="Un message public @bob")  # not a conversation
    first = await post(client, alice, status="@bob @carol on se voit samedi ?",
                       visibility="direct")
    for token in (bob, carol):
        listed = await _list(client, token)
        assert len(listed) == 1
        assert_schema(listed[0], "Conversation")
        assert listed[0]["unread"] is True
        assert listed[0]["last_status"]["id"] == first["id"]
    bob_view = (await _list(client, bob))[0]
    assert sorted(a["username"] for a in bob_view["accounts"]) == ["alice", "carol"]
    mine = (await _list(client, alice))[0]
    assert mine["unread"] is False
    assert sorted(a["username"] for a in mine["accounts"]) == ["bob", "carol"]
    assert await _list(client, dave) == []

    # bob answers: the same conversation, newer last message, unread for alice again.
    reply = await post(client, bob, status="@alice @carol oui !", visibility="direct",
                       in_reply_to_id=first["id"])
    mine = await _list(client, alice)
    assert len(mine) == 1 and mine[0]["id"] == (await _list(client, alice))[0]["id"]
    assert mine[0]["unread"] is True and mine[0]["last_status"]["id"] == reply["id"]
    assert (await _list(client, bob))[0]["unread"] is False

    # Reading and removing.
    read = await ok(await client.post(f"/api/v1/conversations/{mine[0]['id']}/read",
                                      headers=auth(alice)))
    assert_schema(read, "Conversation")
    assert read["unread"] is False and (await _list(client, alice))[0]["unread"] is False
    carol_id = (await _list(client, carol))[0]["id"]
    await ok(await client.delete(f"/api/v1/conversations/{carol_id}", headers=auth(carol)))
    assert await _list(client, carol) == []
    assert await count(svc, "SELECT count(*) FROM statuses WHERE deleted_at IS NULL") == 3

    # Deleting the last message: the conversation shows the one before.
    await ok(await client.delete(f"/api/v1/statuses/{reply['id']}", headers=auth(bob)))
    assert (await _list(client, alice))[0]["last_status"]["id"] == first["id"]


async def test_someone_elses_conversation_is_not_found(client: TestClient,
                                                       svc: Services) -> None:
    alice, bob, eve = [await make_token(svc, n) for n in ("alice", "bob", "eve")]
    await _open(svc, "bob")
    await post(client, alice, status="@bob secret", visibility="direct")
    bobs = (await _list(client, bob))[0]["id"]
    for method, path in (("POST", f"/api/v1/conversations/{bobs}/read"),
                         ("DELETE", f"/api/v1/conversations/{bobs}"),
                         ("POST", "/api/v1/conversations/99999999/read"),
                         ("DELETE", "/api/v1/conversations/abc")):
        response = await client.request(method, path, headers=auth(eve))
        assert response.status == 404, path
        assert "error" in await response.json()
    assert (await _list(client, bob))[0]["unread"] is True  # unchanged
    assert (await client.get("/api/v1/conversations")).status == 401
    read_only = await make_token(svc, "bob", "read")
    response = await client.post(f"/api/v1/conversations/{bobs}/read", headers=auth(read_only))
    assert response.status == 403
    assert (await _list(client, bob))[0]["unread"] is True


async def test_conversations_paginate_by_last_message(client: TestClient,
                                                      svc: Services) -> None:
    alice = await make_token(svc, "alice")
    names = ["bob", "carol", "dave"]
    for name in names:
        await make_token(svc, name)
        await post(client, alice, status=f"@{name} coucou", visibility="direct")
    response = await client.get("/api/v1/conversations?limit=2", headers=auth(alice))
    page = await ok(response)
    assert [c["accounts"][0]["username"] for c in page] == ["dave", "carol"]
    link = response.headers["Link"]
    assert f"max_id={page[1]['last_status']['id']}" in link
    rest = await _list(client, alice, f"?max_id={page[1]['last_status']['id']}")
    assert [c["accounts"][0]["username"] for c in rest] == ["bob"]


async def test_direct_stream_and_revoked_tokens(client: TestClient, svc: Services,
                                                assert_schema: Any) -> None:
    alice = await make_token(svc, "alice")
    app = await ok(await client.post("/api/v1/apps", json={
        "client_name": "t", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
        "scopes": "read write"}))
    await make_user(svc, "bob")
    issued = await ok(await client.post("/oauth/token", data={
        "grant_type": "password", "username": "bob", "password": PASSWORD,
        "client_id": app["client_id"], "client_secret": app["client_secret"],
        "scope": "read write"}))
    bob = issued["access_token"]
    await _open(svc, "bob")
    ws = await client.ws_connect(f"/api/v1/streaming?access_token={bob}")
    await ws.send_json({"type": "subscribe", "stream": "direct"})
    await synced(ws)
    sse = await client.get("/api/v1/streaming/direct", headers=auth(bob))
    assert sse.status == 200
    anonymous = await client.get("/api/v1/streaming/direct")
    assert anonymous.status == 401

    status = await post(client, alice, status="@bob psst", visibility="direct")
    got = await event(ws)
    assert got["stream"] == ["direct"] and got["event"] == "conversation"
    entity = json.loads(got["payload"])
    assert_schema(entity, "Conversation")
    assert entity["last_status"]["id"] == status["id"] and entity["unread"] is True
    name, data = await sse_event(sse)
    assert name == "conversation" and json.loads(data)["id"] == entity["id"]

    # Revoking the token ends both streams at once.
    await ok(await client.post("/oauth/revoke", data={
        "client_id": app["client_id"], "client_secret": app["client_secret"], "token": bob}))
    closing = await asyncio.wait_for(ws.receive(), GUARD)
    assert closing.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
    rest = await asyncio.wait_for(sse.content.read(), GUARD)
    assert b"event:" not in rest
    assert (await client.get("/api/v1/conversations", headers=auth(bob))).status == 401


async def test_conversations_across_instances(instances: Any) -> None:
    a, b = await instances("a.test", "b.test")
    await make_user(a.svc, "alice")
    await _open(a.svc, "alice")
    bob = (await make_user(b.svc, "bob")).account
    draft = await posting.prepare(b.svc, bob, text="@alice@a.test tu viens ?",
                                  visibility="direct",
                                  resolve=b.app[federation_key].resolve_handle)
    first = await posting.create_status(b.svc, bob, draft)
    await settle(a, b)
    token_a = await make_token(a.svc, "alice")
    status, listed = await a.get_json("/api/v1/conversations", headers=auth(token_a))
    assert status == 200 and len(listed) == 1
    assert listed[0]["unread"] is True
    assert [x["acct"] for x in listed[0]["accounts"]] == ["bob@b.test"]
    assert listed[0]["last_status"]["uri"] == first.status.uri

    # alice answers from her client: her conversation ends with it, read; bob's is unread.
    reply = await ok(await a.http.post(f"{a.base_url}/api/v1/statuses", headers=auth(token_a),
                                       json={"status": "@bob@b.test oui", "visibility": "direct",
                                             "in_reply_to_id": listed[0]["last_status"]["id"]}))
    status, mine = await a.get_json("/api/v1/conversations", headers=auth(token_a))
    assert len(mine) == 1 and mine[0]["id"] == listed[0]["id"]
    assert mine[0]["unread"] is False and mine[0]["last_status"]["id"] == reply["id"]
    await settle(a, b)
    token_b = await make_token(b.svc, "bob")
    status, theirs = await b.get_json("/api/v1/conversations", headers=auth(token_b))
    assert status == 200 and len(theirs) == 1 and theirs[0]["unread"] is True
    assert [x["acct"] for x in theirs[0]["accounts"]] == ["alice@a.test"]
    assert await count(b.svc, "SELECT count(*) FROM statuses WHERE conversation_uri = ?",
                       first.status.conversation_uri) == 2


async def test_mastodon_py_conversations(real_server: RealServer) -> None:
    await make_user(real_server.svc, "alice")
    await make_user(real_server.svc, "bob")
    await _open(real_server.svc, "bob")
    base = real_server.base_url

    def flow() -> tuple[list[Any], Any, list[Any]]:
        alice, bob = login(base, "alice"), login(base, "bob")
        alice.status_post("@bob rendez-vous à midi", visibility="direct")
        listed = bob.conversations()
        read = bob.conversations_read(listed[0])
        return listed, read, bob.conversations()

    listed, read, after = await asyncio.to_thread(flow)
    assert len(listed) == 1 and listed[0]["unread"] is True
    assert read["unread"] is False and after[0]["unread"] is False
    assert "rendez-vous" in after[0]["last_status"]["content"]
