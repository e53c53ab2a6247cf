"""Streaming, with raw aiohttp WebSocket and server-sent-events clients against the test
server, and Mastodon.py over a real socket: updates on ``user``, ``public``, ``public:local``
and ``hashtag``, rendered for each recipient; notifications; deletes; edits; what must not
leak (direct messages, local-only statuses to anonymous readers); tokens, scopes and bad
subscriptions; heartbeats; and a stalled client dropped without holding anyone up.
Messages are awaited, never slept for: timeouts only guard against a hang."""

from __future__ import annotations

import asyncio
import contextlib
import json
import queue
import threading
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient
from mastodon import Mastodon, StreamListener

from fediverse_mu.appkeys import federation_key
from fediverse_mu.services import accounts, following
from fediverse_mu.services.context import Services
from fediverse_mu.services.streaming import Message, parse_stream
from fediverse_mu.web.mastodon import streaming as streaming_face
from fediverse_mu.web.mastodon.streaming import hub_key
from tests.conftest import Instance, RealServer, auth, make_token, make_user, ok, post, settle

Schema = Callable[[Any, str], None]
GUARD = 10  # seconds: only a guard against a hang


async def account_id(svc: Services, username: str) -> str:
    account = await accounts.get_local_account(svc, username)
    assert account is not None
    return str(account.id)


async def event(ws: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
    """The next message of a WebSocket."""
    message: dict[str, Any] = await asyncio.wait_for(ws.receive_json(), GUARD)
    return message


async def synced(ws: aiohttp.ClientWebSocketResponse) -> None:
    """Wait until the server has handled everything sent so far: messages are handled in
    order, and an unknown stream is answered with an error."""
    await ws.send_json({"type": "subscribe", "stream": "nowhere"})
    answer = await event(ws)
    assert answer["status"] == 422 and "nowhere" in answer["error"], answer


async def sse_event(response: aiohttp.ClientResponse) -> tuple[str, str]:
    """The next event of a server-sent-events stream, comments skipped."""
    fields: dict[str, str] = {}
    while True:
        line = (await asyncio.wait_for(response.content.readline(), GUARD)).decode()
        assert line, "stream ended"
        line = line.rstrip("\n")
        if line.startswith(":"):
            continue
        if not line:
            if fields:
                return fields["event"], fields["data"]
            continue
        key, _, value = line.partition(": ")
        fields[key] = value


async def test_health(client: TestClient) -> None:
    response = await client.get("/api/v1/streaming/health")
    assert response.status == 200 and await response.text() == "OK"


async def test_websocket_user_public_and_hashtag(client: TestClient, svc: Services,
                                                 assert_schema: Schema) -> None:
    alice = await make_token(svc, "alice")
    bob = await make_token(svc, "bob")
    carol = await make_token(svc, "carol")
    await ok(await client.post(f"/api/v1/accounts/{await account_id(svc, 'alice')}/follow",
                               headers=auth(bob)))
    home = await client.ws_connect("/api/v1/streaming?stream=user", headers=auth(bob))
    anonymous = await client.ws_connect("/api/v1/streaming?stream=public")
    tagged = await client.ws_connect(f"/api/v1/streaming?access_token={carol}")
    await tagged.send_json({"type": "subscribe", "stream": "hashtag", "tag": "Marché"})
    await tagged.send_json({"type": "subscribe", "stream": "public:local"})
    await tagged.send_json({"type": "subscribe", "stream": "public:remote"})
    await tagged.send_json({"type": "subscribe", "stream": "public", "only_media": True})
    await synced(tagged)  # (remote and media-only streams get none of what follows)

    status = await post(client, alice, status="Le #marché ouvre à 8 h")
    got = await event(home)
    assert got["stream"] == ["user"] and got["event"] == "update"
    assert isinstance(got["payload"], str)
    entity = json.loads(got["payload"])
    assert_schema(entity, "Status")
    assert entity["id"] == status["id"] and entity["account"]["statuses_count"] == 1
    got = await event(anonymous)
    assert got["stream"] == ["public"] and json.loads(got["payload"])["id"] == status["id"]
    both = [await event(tagged), await event(tagged)]
    assert sorted(tuple(m["stream"]) for m in both) == [("hashtag", "Marché"),
                                                       ("public:local",)]

    # Edits arrive as status.update, rendered for each reader: bob's shows his favourite.
    await ok(await client.post(f"/api/v1/statuses/{status['id']}/favourite",
                               headers=auth(bob)))
    mine = await client.ws_connect("/api/v1/streaming", headers=auth(alice))
    await mine.send_json({"type": "subscribe", "stream": "user"})
    await synced(mine)
    await ok(await client.put(f"/api/v1/statuses/{status['id']}", headers=auth(alice),
                              json={"status": "Le #marché ouvre à 9 h"}))
    for ws, favourited in ((home, True), (mine, False)):
        got = await event(ws)
        assert got["event"] == "status.update" and got["stream"] == ["user"]
        edited = json.loads(got["payload"])
        assert "9 h" in edited["content"] and edited["favourited"] is favourited
    assert (await event(anonymous))["event"] == "status.update"
    assert [(await event(tagged))["event"] for _ in range(2)] == ["status.update"] * 2

    # A delete reaches everyone who had the status.
    await ok(await client.delete(f"/api/v1/statuses/{status['id']}", headers=auth(alice)))
    for ws in (home, anonymous, mine, tagged, tagged):
        got = await event(ws)
        assert got["event"] == "delete" and got["payload"] == status["id"]

    # Unsubscribing stops a stream; the others go on.
    await tagged.send_json({"type": "unsubscribe", "stream": "public:local"})
    await synced(tagged)
    second = await post(client, alice, status="#marché encore")
    got = await event(tagged)
    assert got["stream"] == ["hashtag", "Marché"]
    assert json.loads(got["payload"])["id"] == second["id"]
    for ws in (home, anonymous, tagged, mine):
        await ws.close()


async def test_nothing_leaks(client: TestClient, svc: Services) -> None:
    alice = await make_token(svc, "alice")
    bob = await make_token(svc, "bob")
    await make_token(svc, "carol")
    carol = await make_token(svc, "carol")
    anonymous = await client.ws_connect("/api/v1/streaming?stream=public")
    signed_in = await client.ws_connect("/api/v1/streaming?stream=public", headers=auth(carol))
    bobs_home = await client.ws_connect("/api/v1/streaming?stream=user", headers=auth(bob))
    carols_home = await client.ws_connect("/api/v1/streaming?stream=user",
                                          headers=auth(carol))
    # Bob accepts private mentions from people he does not follow (filtered by default).
    await ok(await client.patch("/api/v2/notifications/policy", headers=auth(bob),
                                json={"for_private_mentions": "accept"}))

    secret = await post(client, alice, status="@bob la clé est sous le pot", visibility="direct")
    got = await event(bobs_home)  # the one it is addressed to sees it at home
    assert got["event"] == "update" and json.loads(got["payload"])["id"] == secret["id"]
    got = await event(bobs_home)  # and is told of the mention
    assert got["event"] == "notification" and json.loads(got["payload"])["type"] == "mention"
    local = await post(client, alice, status="réservé aux gens d'ici", local_only=True)
    got = await event(signed_in)  # a resident sees the local-only status...
    assert json.loads(got["payload"])["id"] == local["id"]
    unlisted = await post(client, alice, status="discret", visibility="unlisted")
    public = await post(client, alice, status="pour tout le monde")
    # ...the anonymous reader's first event is the public status: nothing before it leaked.
    for ws in (anonymous, signed_in):
        got = await event(ws)
        assert json.loads(got["payload"])["id"] == public["id"], got
    # Carol follows nobody: the public status is her home stream's first event, not the DM.
    await ok(await client.post(f"/api/v1/accounts/{await account_id(svc, 'alice')}/follow",
                               headers=auth(carol)))
    after = await post(client, alice, status="après le suivi", visibility="private")
    got = await event(carols_home)
    assert json.loads(got["payload"])["id"] == after["id"]
    assert unlisted["id"] not in got["payload"]
    # Deleting the DM tells only those who could have had it.
    await ok(await client.delete(f"/api/v1/statuses/{secret['id']}", headers=auth(alice)))
    got = await event(bobs_home)
    assert got == {"stream": ["user"], "event": "delete", "payload": secret["id"]}
    last = await post(client, alice, status="dernier")
    for ws in (anonymous, carols_home):
        got = await event(ws)
        assert got["event"] == "update" and json.loads(got["payload"])["id"] == last["id"]
    for ws in (anonymous, signed_in, bobs_home, carols_home):
        await ws.close()


async def test_notifications_stream(client: TestClient, svc: Services,
                                    assert_schema: Schema) -> None:
    alice = await make_token(svc, "alice")
    bob = await make_token(svc, "bob")
    only_notifications = await make_token(svc, "alice", "read:notifications")
    notes = await client.ws_connect("/api/v1/streaming?stream=user:notification",
                                    headers=auth(only_notifications))
    home = await client.ws_connect("/api/v1/streaming?stream=user", headers=auth(alice))
    status = await post(client, alice, status="qui vient au repair café ?")
    assert (await event(home))["event"] == "update"
    await ok(await client.post(f"/api/v1/statuses/{status['id']}/favourite",
                               headers=auth(bob)))
    for ws, stream in ((notes, ["user:notification"]), (home, ["user"])):
        got = await event(ws)
        assert got["event"] == "notification" and got["stream"] == stream
        notification = json.loads(got["payload"])
        assert_schema(notification, "Notification")
        assert notification["type"] == "favourite"
        assert notification["account"]["acct"] == "bob"
        assert notification["status"]["id"] == status["id"]
        assert notification["status"]["favourited"] is False  # as alice sees it
    listed = await ok(await client.get("/api/v1/notifications", headers=auth(alice)))
    assert [n["id"] for n in listed] == [notification["id"]]
    # A follow notifies too.
    await ok(await client.post(f"/api/v1/accounts/{await account_id(svc, 'alice')}/follow",
                               headers=auth(bob)))
    got = await event(notes)
    assert json.loads(got["payload"])["type"] == "follow"
    await notes.close()
    await home.close()


async def test_list_stream(client: TestClient, svc: Services) -> None:
    alice = await make_token(svc, "alice")
    bob = await make_token(svc, "bob")
    carol = await make_token(svc, "carol")
    bob_id = await account_id(svc, "bob")
    for who in ("bob", "carol"):
        await ok(await client.post(f"/api/v1/accounts/{await account_id(svc, who)}/follow",
                                   headers=auth(alice)))
    neighbours = await ok(await client.post("/api/v1/lists", json={"title": "voisins"},
                                            headers=auth(alice)))
    await ok(await client.post(f"/api/v1/lists/{neighbours['id']}/accounts",
                               json={"account_ids": [bob_id]}, headers=auth(alice)))
    ws = await client.ws_connect("/api/v1/streaming", headers=auth(alice))
    await ws.send_json({"type": "subscribe", "stream": "list", "list": neighbours["id"]})
    await synced(ws)
    sse = await client.get(f"/api/v1/streaming/list?list={neighbours['id']}",
                           headers=auth(alice))
    assert sse.status == 200
    # Only alice may stream her list.
    other = await client.ws_connect("/api/v1/streaming", headers=auth(bob))
    await other.send_json({"type": "subscribe", "stream": "list", "list": neighbours["id"]})
    assert (await event(other))["status"] == 404
    refused = await client.get(f"/api/v1/streaming/list?list={neighbours['id']}",
                               headers=auth(bob))
    assert refused.status == 404

    await post(client, carol, status="pas dans la liste")
    from_bob = await post(client, bob, status="dans la liste")
    got = await event(ws)
    assert got["stream"] == ["list", neighbours["id"]]
    assert json.loads(got["payload"])["id"] == from_bob["id"]
    name, data = await sse_event(sse)
    assert name == "update" and json.loads(data)["id"] == from_bob["id"]
    await ok(await client.delete(f"/api/v1/statuses/{from_bob['id']}", headers=auth(bob)))
    assert await event(ws) == {"stream": ["list", neighbours["id"]], "event": "delete",
                               "payload": from_bob["id"]}
    sse.close()
    for socket_ in (ws, other):
        await socket_.close()


async def test_tokens_scopes_and_bad_subscriptions(client: TestClient, svc: Services) -> None:
    alice = await make_token(svc, "alice")
    for path in ("/api/v1/streaming?stream=public", "/api/v1/streaming"):
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await client.ws_connect(path, headers=auth("not-a-token"))
        assert refused.value.status == 401
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await client.ws_connect("/api/v1/streaming?access_token=nope")
    assert refused.value.status == 401

    # Browsers send the token as the sub-protocol; it is echoed back.
    ws = await client.ws_connect("/api/v1/streaming", protocols=(alice,))
    assert ws.protocol == alice
    await ws.send_json({"type": "subscribe", "stream": "user"})
    await synced(ws)  # accepted: the only answer is the one to the unknown stream
    await ws.close()

    anonymous = await client.ws_connect("/api/v1/streaming?stream=user")
    got = await event(anonymous)
    assert got["status"] == 401 and got["stream"] == ["user"]
    statuses_only = await make_token(svc, "alice", "read:statuses")
    narrow = await client.ws_connect("/api/v1/streaming", headers=auth(statuses_only))
    await narrow.send_json({"type": "subscribe", "stream": "user:notification"})
    assert (await event(narrow))["status"] == 403
    for message, status in (
            ({"type": "subscribe", "stream": "list", "list": "1"}, 404),
            ({"type": "subscribe", "stream": "list", "list": "abc"}, 404),
            ({"type": "subscribe", "stream": "list"}, 422),
            ({"type": "subscribe", "stream": "hashtag"}, 422),
            ({"type": "subscribe", "stream": "hashtag", "tag": "x" * 101}, 422),
            ({"type": "subscribe"}, 400), ({"type": "dance", "stream": "public"}, 400),
            ([1, 2], 400)):
        await narrow.send_json(message)
        got = await event(narrow)
        assert got["status"] == status and got["error"], (message, got)
    await narrow.send_str("{not json")
    assert (await event(narrow))["status"] == 400
    await narrow.send_bytes(b"\x00")
    assert (await event(narrow))["status"] == 400
    # None of it subscribed to anything: the first event is the public one asked for now.
    await narrow.send_json({"type": "subscribe", "stream": "public"})
    await synced(narrow)
    last = await post(client, alice, status="fin des essais")
    got = await event(narrow)
    assert got["stream"] == ["public"] and json.loads(got["payload"])["id"] == last["id"]
    for ws in (anonymous, narrow):
        await ws.close()

    # Server-sent events refuse before streaming.
    for path, headers, expected in (
            ("/api/v1/streaming/user", {}, 401),
            ("/api/v1/streaming/public", auth("not-a-token"), 401),
            ("/api/v1/streaming/user/notification", auth(statuses_only), 403),
            ("/api/v1/streaming/hashtag", {}, 422),
            ("/api/v1/streaming/list?list=3", auth(alice), 404),
            ("/api/v1/streaming/public?only_media=perhaps", {}, 422),
            ("/api/v1/streaming", {}, 422)):
        response = await client.get(path, headers=headers)
        assert response.status == expected, path
        assert "error" in await response.json()
    hub = client.server.app[hub_key]
    assert not hub.connections  # every refused or closed stream is forgotten


async def test_server_sent_events(client: TestClient, svc: Services,
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    alice = await make_token(svc, "alice")
    bob = await make_token(svc, "bob")
    tagged = await client.get("/api/v1/streaming/hashtag/local?tag=vélo")
    assert tagged.status == 200 and tagged.content_type == "text/event-stream"
    user = await client.get("/api/v1/streaming/user", headers=auth(alice))
    assert (await asyncio.wait_for(user.content.readline(), GUARD)) == b":)\n"
    await post(client, alice, status="sans étiquette")
    status = await post(client, alice, status="atelier #Vélo jeudi")
    name, data = await sse_event(tagged)
    assert name == "update" and json.loads(data)["id"] == status["id"]
    assert [json.loads((await sse_event(user))[1])["content"] for _ in range(2)] == [
        "<p>sans étiquette</p>", json.loads(data)["content"]]
    await ok(await client.post(f"/api/v1/statuses/{status['id']}/favourite",
                               headers=auth(bob)))
    name, data = await sse_event(user)
    assert name == "notification" and json.loads(data)["type"] == "favourite"
    await ok(await client.delete(f"/api/v1/statuses/{status['id']}", headers=auth(alice)))
    assert await sse_event(tagged) == ("delete", status["id"])
    tagged.close()
    user.close()

    # A quiet stream gets heartbeat comments.
    monkeypatch.setattr(streaming_face, "HEARTBEAT_SECONDS", 0.01)
    quiet = await client.get("/api/v1/streaming/public/remote")
    assert await asyncio.wait_for(quiet.content.readline(), GUARD) == b":)\n"
    assert await asyncio.wait_for(quiet.content.readline(), GUARD) == b":thump\n"
    quiet.close()
    # The WebSocket path serves server-sent events too when asked without an upgrade.
    plain = await client.get("/api/v1/streaming?stream=public:local")
    assert plain.status == 200 and plain.content_type == "text/event-stream"
    plain.close()


async def test_a_stalled_client_is_dropped(client: TestClient, svc: Services) -> None:
    alice = await make_token(svc, "alice")
    hub = client.server.app[hub_key]
    hub.queue_size = 3
    cut: list[bool] = []
    stalled = hub.connect(None, on_drop=lambda: cut.append(True))
    await hub.subscribe(stalled, parse_stream("public"))
    reader = await client.ws_connect("/api/v1/streaming?stream=public")
    posted = [await post(client, alice, status=f"message {i}") for i in range(5)]
    for status in posted:  # the reader keeps up, whatever the stalled client does
        got = await event(reader)
        assert json.loads(got["payload"])["id"] == status["id"]
    await hub.idle()
    assert stalled.dropped and cut == [True]
    assert stalled not in hub.connections or stalled.closed
    assert await stalled.next() is None  # its writer is told to stop, not fed stale messages
    hub.disconnect(stalled)
    await reader.close()

    # Over HTTP: a stream whose queue overflows before its writer gets a turn is cut.
    sse = await client.get("/api/v1/streaming/public")
    assert await asyncio.wait_for(sse.content.readline(), GUARD) == b":)\n"
    (conn,) = hub.connections
    for _ in range(hub.queue_size + 1):
        conn.push(Message(("public",), "update", "{}"))
    assert conn.dropped
    rest: list[bytes] = []
    with contextlib.suppress(aiohttp.ClientPayloadError, aiohttp.ClientConnectionError):
        while line := await asyncio.wait_for(sse.content.readline(), GUARD):
            rest.append(line)
    assert not any(line.startswith(b"event:") for line in rest)  # the backlog was discarded
    sse.close()


async def test_the_hub_ignores_a_repeated_create(client: TestClient, svc: Services) -> None:
    alice = await make_token(svc, "alice")
    hub = client.server.app[hub_key]
    listener = hub.connect(None)
    await hub.subscribe(listener, parse_stream("public"))
    headers = {**auth(alice), "Idempotency-Key": "once"}
    first = await ok(await client.post("/api/v1/statuses", json={"status": "une fois"},
                                       headers=headers))
    again = await ok(await client.post("/api/v1/statuses", json={"status": "une fois"},
                                       headers=headers))
    assert again["id"] == first["id"]
    await hub.idle()
    got = await listener.next()
    assert isinstance(got, Message) and json.loads(got.payload)["id"] == first["id"]
    assert listener.pending() == 0
    hub.disconnect(listener)


async def test_remote_statuses_stream_on_remote_and_hashtag(
        instances: Callable[..., Awaitable[list[Instance]]]) -> None:
    a, b = await instances("a.test", "b.test")
    alice = (await make_user(a.svc, "alice")).account
    await make_user(b.svc, "bob")
    bob_token = await make_token(b.svc, "bob")
    await following.follow(a.svc, alice, await a.app[federation_key].resolve_handle("bob@b.test"))
    await settle(a, b)
    remote = await a.http.ws_connect("http://a.test/api/v1/streaming?stream=public:remote")
    local = await a.http.ws_connect("http://a.test/api/v1/streaming?stream=public:local")
    tagged = await a.http.ws_connect("http://a.test/api/v1/streaming?stream=hashtag&tag=Pain")
    home = await a.http.ws_connect("http://a.test/api/v1/streaming?stream=user",
                                   headers=auth(await make_token(a.svc, "alice")))
    async with a.http.post("http://b.test/api/v1/statuses", headers=auth(bob_token),
                           json={"status": "Fournée du jour #pain"}) as response:
        assert response.status == 200
        sent = await response.json()
    await settle(a, b)
    for ws, stream in ((remote, ["public:remote"]), (tagged, ["hashtag", "Pain"]),
                       (home, ["user"])):
        got = await event(ws)
        assert got["stream"] == stream and got["event"] == "update"
        entity = json.loads(got["payload"])
        assert entity["uri"] == sent["uri"] and entity["account"]["acct"] == "bob@b.test"
    async with a.http.delete(f"http://b.test/api/v1/statuses/{sent['id']}",
                             headers=auth(bob_token)) as response:
        assert response.status == 200
    await settle(a, b)
    for ws in (remote, tagged, home):
        got = await event(ws)
        assert got["event"] == "delete" and got["payload"] == entity["id"]
    # The local stream heard nothing of it: its first event is a local status.
    async with a.http.post("http://a.test/api/v1/statuses", headers=auth(
            await make_token(a.svc, "alice")), json={"status": "ici"}) as response:
        mine = await response.json()
    got = await event(local)
    assert json.loads(got["payload"])["id"] == mine["id"]
    for ws in (remote, local, tagged, home):
        await ws.close()


# -- Mastodon.py, end to end over a real socket -----------------------------------------------

class Collector(StreamListener):
    """Hands what Mastodon.py's stream thread receives to the test."""

    def __init__(self) -> None:
        self.events: queue.Queue[tuple[str, Any]] = queue.Queue()
        self.connected = threading.Event()

    def handle_heartbeat(self) -> None:
        self.connected.set()

    def on_update(self, status: Any) -> None:
        self.events.put(("update", status))

    def on_notification(self, notification: Any) -> None:
        self.events.put(("notification", notification))


async def test_mastodon_py_streams_and_reads_notifications(real_server: RealServer) -> None:
    base = real_server.base_url
    try:
        svc = real_server.svc
        alice_token = await make_token(svc, "alice", "read write")
        bob_token = await make_token(svc, "bob", "read write")
        alice = Mastodon(access_token=alice_token, api_base_url=base)
        bob = Mastodon(access_token=bob_token, api_base_url=base)
        collector = Collector()
        handle = await asyncio.to_thread(alice.stream_user, collector, run_async=True)
        assert await asyncio.to_thread(collector.connected.wait, GUARD)
        posted = await asyncio.to_thread(alice.status_post, "bonjour le quartier")
        kind, status = await asyncio.to_thread(collector.events.get, timeout=GUARD)
        assert kind == "update" and status["id"] == posted["id"]
        assert status["account"]["acct"] == "alice"
        await asyncio.to_thread(bob.status_favourite, posted["id"])
        kind, notification = await asyncio.to_thread(collector.events.get, timeout=GUARD)
        assert kind == "notification" and notification["type"] == "favourite"
        assert notification["status"]["id"] == posted["id"]

        def read_dismiss_clear() -> tuple[Any, Any, Any]:
            bob.status_post("@alice à samedi")
            listed = alice.notifications()
            alice.notifications_dismiss(listed[-1])
            after_dismiss = alice.notifications()
            alice.notifications_clear()
            return listed, after_dismiss, alice.notifications()

        listed, after_dismiss, after_clear = await asyncio.to_thread(read_dismiss_clear)
        assert [n["type"] for n in listed] == ["mention", "favourite"]
        assert [n["type"] for n in after_dismiss] == ["mention"]
        assert list(after_clear) == []
        # Bob's mention came to alice's home too, then as a notification.
        kind, status = await asyncio.to_thread(collector.events.get, timeout=GUARD)
        assert kind == "update" and status["account"]["acct"] == "bob"
        kind, notification = await asyncio.to_thread(collector.events.get, timeout=GUARD)
        assert kind == "notification" and notification["type"] == "mention"
    finally:
        # Shutting down ends open streams at once (a requests stream cannot be closed from
        # another thread until data arrives), then the client's thread stops.
        await real_server.stop()
    handle.close()
    await asyncio.to_thread(handle.join, GUARD)
    assert not handle.is_alive()
