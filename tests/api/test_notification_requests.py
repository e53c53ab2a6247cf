"""Notification requests (Mastodon 4.3) through the API: the filtered mentions of each sender
as a request (paged with a Link header, counted in the policy's summary), one request,
accepting one (the notifications join the list, later ones get through), dismissing one
(they go; a later one opens a new request), accepting and dismissing several with ``id[]``,
``include_filtered`` and one sender's listing; unknown, malformed and other people's ids
refused with nothing changed. Also: filtered notifications are not streamed, a silenced
sender's notifications follow ``for_limited_accounts``, a direct message from a remote
server is filtered too, the v2 groups carry their ``moderation_warning``, and v1 listings
and streaming give the same ``group_key`` as the v2 groups."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp.test_utils import TestClient

from fediverse_mu.appkeys import federation_key
from fediverse_mu.domain import Role
from fediverse_mu.services import accounts, moderation, posting
from fediverse_mu.services.context import Services
from tests.conftest import Instance, auth, count, make_token, make_user, ok, post, settle
from tests.web.test_admin_web import fingerprint
from tests.web.test_streaming import event, synced

Schema = Callable[[Any, str], None]
Start = Callable[..., Awaitable[list[Instance]]]
REQUESTS = "/api/v1/notifications/requests"


async def account_id(svc: Services, username: str) -> str:
    """The id of a local account, as the API writes it."""
    account = await accounts.get_local_account(svc, username)
    assert account is not None
    return str(account.id)


async def dm(client: TestClient, token: str, who: str, text: str = "psst") -> str:
    """A direct message to ``who``; returns its id."""
    return str((await post(client, token, status=f"@{who} {text}", visibility="direct"))["id"])


async def requests_of(client: TestClient, token: str,
                      query: str = "") -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = await ok(await client.get(f"{REQUESTS}{query}",
                                                            headers=auth(token)))
    return found


async def senders(client: TestClient, token: str, query: str = "") -> list[tuple[str, str]]:
    """(type, sender) of a resident's notifications, newest first."""
    found = await ok(await client.get(f"/api/v1/notifications{query}", headers=auth(token)))
    return [(n["type"], n["account"]["acct"]) for n in found]


async def summary(client: TestClient, token: str) -> tuple[int, int]:
    body = await ok(await client.get("/api/v2/notifications/policy", headers=auth(token)))
    return (body["summary"]["pending_requests_count"],
            body["summary"]["pending_notifications_count"])


async def test_requests_accept_and_dismiss(client: TestClient, svc: Services,
                                          assert_schema: Schema) -> None:
    tokens = {n: await make_token(svc, n) for n in ("alice", "bob", "carol", "dave", "erin")}
    alice = tokens["alice"]
    first = await dm(client, tokens["bob"], "alice", "bonjour")
    last = await dm(client, tokens["bob"], "alice", "tu es là ?")
    await dm(client, tokens["carol"], "alice")
    await post(client, tokens["dave"], status="@alice en public")  # not filtered

    assert await senders(client, alice) == [("mention", "dave")]
    assert await senders(client, alice, "?include_filtered=true") == [
        ("mention", "dave"), ("mention", "carol"), ("mention", "bob"), ("mention", "bob")]
    bob_id = await account_id(svc, "bob")
    assert await senders(client, alice, f"?account_id={bob_id}") == [("mention", "bob")] * 2
    assert (await ok(await client.get("/api/v1/notifications/unread_count",
                                      headers=auth(alice))))["count"] == 1
    filtered = await ok(await client.get("/api/v1/notifications?include_filtered=true&limit=1"
                                         "&max_id=999999999999999999", headers=auth(alice)))
    assert filtered[0]["account"]["acct"] == "dave" and "filtered" not in filtered[0]
    one = await ok(await client.get(f"/api/v1/notifications?account_id={bob_id}",
                                    headers=auth(alice)))
    assert one[0]["filtered"] is True
    assert_schema(one[0], "Notification")

    found = await requests_of(client, alice)
    assert [(r["account"]["acct"], r["notifications_count"]) for r in found] == [
        ("carol", "1"), ("bob", "2")]
    for request in found:
        assert_schema(request, "NotificationRequest")
    bobs = found[1]
    assert bobs["last_status"]["id"] == last and bobs["last_status"]["id"] != first
    assert await summary(client, alice) == (2, 3)
    # Paging: newest first, with a Link header.
    page = await client.get(f"{REQUESTS}?limit=1", headers=auth(alice))
    assert [r["id"] for r in await page.json()] == [found[0]["id"]]
    next_url = re.search(r'<([^>]+)>; rel="next"', page.headers["Link"])
    assert next_url is not None and f"max_id={found[0]['id']}" in next_url.group(1)
    older = await requests_of(client, alice, f"?max_id={found[0]['id']}")
    assert [r["id"] for r in older] == [bobs["id"]]
    assert await ok(await client.get(f"{REQUESTS}/{bobs['id']}",
                                     headers=auth(alice))) == bobs

    # Accepting bob's: his mentions join the list, the request is gone, later ones pass.
    assert await ok(await client.post(f"{REQUESTS}/{bobs['id']}/accept",
                                      headers=auth(alice))) == {}
    assert await ok(await client.get(f"{REQUESTS}/merged", headers=auth(alice))) == {
        "merged": True}
    assert await senders(client, alice) == [("mention", "dave"), ("mention", "bob"),
                                            ("mention", "bob")]
    assert (await client.get(f"{REQUESTS}/{bobs['id']}", headers=auth(alice))).status == 404
    await dm(client, tokens["bob"], "alice", "merci")
    assert (await senders(client, alice))[0] == ("mention", "bob")
    assert await summary(client, alice) == (1, 1)

    # Dismissing carol's: her filtered mention goes; a later one opens a new request.
    carols = (await requests_of(client, alice))[0]
    assert await ok(await client.post(f"{REQUESTS}/{carols['id']}/dismiss",
                                      headers=auth(alice))) == {}
    assert await requests_of(client, alice) == []
    assert await count(svc, "SELECT count(*) FROM notifications WHERE from_account_id = ?",
                       await account_id(svc, "carol")) == 0
    assert ("mention", "carol") not in await senders(client, alice, "?include_filtered=true")
    await dm(client, tokens["carol"], "alice", "encore")
    again = await requests_of(client, alice)
    assert [r["account"]["acct"] for r in again] == ["carol"]
    assert int(again[0]["id"]) > int(carols["id"])  # ids are never reused

    # Several at once: carol's and erin's accepted with one call, an unknown id ignored.
    await dm(client, tokens["erin"], "alice")
    both = await requests_of(client, alice)
    assert [r["account"]["acct"] for r in both] == ["erin", "carol"]
    assert await ok(await client.post(f"{REQUESTS}/accept", headers=auth(alice),
                                      data=[("id[]", both[0]["id"]), ("id[]", both[1]["id"]),
                                            ("id[]", "987654321")])) == {}
    assert await requests_of(client, alice) == []
    assert {("mention", "erin"), ("mention", "carol")} <= set(await senders(client, alice))
    # ... and dismissed with one call (JSON body).
    for name in ("frank", "gwen"):
        await dm(client, await make_token(svc, name), "alice")
    pending = [r["id"] for r in await requests_of(client, alice)]
    assert len(pending) == 2
    assert await ok(await client.post(f"{REQUESTS}/dismiss", headers=auth(alice),
                                      json={"id": pending})) == {}
    assert await requests_of(client, alice) == [] and await summary(client, alice) == (0, 0)


async def test_bad_request_ids_change_nothing(client: TestClient, svc: Services) -> None:
    alice, bob = await make_token(svc, "alice"), await make_token(svc, "bob")
    carol = await make_token(svc, "carol")
    await dm(client, bob, "alice")
    await dm(client, alice, "carol")  # carol has a request of her own, from alice
    mine = (await requests_of(client, alice))[0]["id"]
    hers = (await requests_of(client, carol))[0]["id"]
    reader = await make_token(svc, "alice", "read:notifications")
    before = await fingerprint(svc)
    for path in (f"{REQUESTS}/987654321", f"{REQUESTS}/{hers}", f"{REQUESTS}/abc",
                 f"{REQUESTS}/{'9' * 30}"):
        response = await client.get(path, headers=auth(alice))
        assert response.status == 404, path
        for verb in ("accept", "dismiss"):
            response = await client.post(f"{path}/{verb}", headers=auth(alice))
            assert response.status == 404, (path, verb)
            assert "error" in await response.json()
    for verb in ("accept", "dismiss"):
        for body in ({}, {"id": ["abc"]}, {"id": [mine, "-1"]},
                     {"id": [str(i) for i in range(101)]}):
            response = await client.post(f"{REQUESTS}/{verb}", headers=auth(alice), json=body)
            assert response.status == 422, (verb, body)
        # Another resident's ids are ignored in bulk, as on Mastodon.
        assert await ok(await client.post(f"{REQUESTS}/{verb}", headers=auth(alice),
                                          json={"id": [hers]})) == {}
        refused = await client.post(f"{REQUESTS}/{mine}/{verb}", headers=auth(reader))
        assert refused.status == 403
    assert (await client.get(REQUESTS)).status == 401
    assert (await client.get(f"{REQUESTS}?max_id=x", headers=auth(alice))).status == 422
    assert await fingerprint(svc) == before
    assert [r["id"] for r in await requests_of(client, carol)] == [hers]


async def test_filtered_notifications_are_not_streamed(client: TestClient,
                                                       svc: Services) -> None:
    alice, bob = await make_token(svc, "alice"), await make_token(svc, "bob")
    notes = await client.ws_connect("/api/v1/streaming?stream=user:notification",
                                    headers=auth(alice))
    home = await client.ws_connect("/api/v1/streaming?stream=user", headers=auth(alice))
    await synced(notes)
    await synced(home)
    secret = await dm(client, bob, "alice")  # filtered: no notification streamed
    mine = await post(client, alice, status="qui veut des œufs ?")
    # The home stream has the statuses (the direct message is in alice's home feed).
    assert [json.loads((await event(home))["payload"])["id"] for _ in range(2)] == [
        secret, mine["id"]]
    await ok(await client.post(f"/api/v1/statuses/{mine['id']}/favourite", headers=auth(bob)))
    for ws in (notes, home):
        got = await event(ws)  # the first notification is the favourite
        assert got["event"] == "notification"
        assert json.loads(got["payload"])["type"] == "favourite"
    # After accepting, bob's next direct message is streamed.
    request_id = (await requests_of(client, alice))[0]["id"]
    await ok(await client.post(f"{REQUESTS}/{request_id}/accept", headers=auth(alice)))
    await dm(client, bob, "alice", "merci")
    got = await event(notes)
    assert json.loads(got["payload"])["type"] == "mention"
    for ws in (notes, home):
        await ws.close()


async def test_a_silenced_sender_follows_the_policy(client: TestClient,
                                                    svc: Services) -> None:
    alice, bob = await make_token(svc, "alice"), await make_token(svc, "bob")
    bob_id = int(await account_id(svc, "bob"))
    await post(client, bob, status="@alice avant")  # before bob is silenced
    await moderation.act_on_account(svc, None, bob_id, "silence")
    await post(client, bob, status="@alice après")
    # The default (filter): the earlier mention is hidden, the later one is a request.
    assert await senders(client, alice) == []
    assert [r["notifications_count"] for r in await requests_of(client, alice)] == ["1"]
    # accept: both show.
    await ok(await client.patch("/api/v2/notifications/policy", headers=auth(alice),
                                json={"for_limited_accounts": "accept"}))
    assert await senders(client, alice) == [("mention", "bob")]
    await post(client, bob, status="@alice encore")
    assert await senders(client, alice) == [("mention", "bob")] * 2
    # drop: nothing new is kept.
    await ok(await client.patch("/api/v2/notifications/policy", headers=auth(alice),
                                json={"for_limited_accounts": "drop"}))
    await post(client, bob, status="@alice toujours")
    assert await count(svc, "SELECT count(*) FROM notifications WHERE from_account_id = ?"
                       " AND type = 'mention'", bob_id) == 3


async def test_a_remote_direct_message_is_filtered(instances: Start) -> None:
    a, b = await instances("a.test", "b.test")
    alice = await make_token(a.svc, "alice")
    bob = (await make_user(b.svc, "bob")).account
    draft = await posting.prepare(b.svc, bob, text="@alice@a.test un secret",
                                  visibility="direct",
                                  resolve=b.app[federation_key].resolve_handle)
    await posting.create_status(b.svc, bob, draft)
    await settle(a, b)
    status, found = await a.get_json(REQUESTS, headers=auth(alice))
    assert status == 200
    assert [(r["account"]["acct"], r["notifications_count"]) for r in found] == [
        ("bob@b.test", "1")]
    assert "un secret" in found[0]["last_status"]["content"]
    assert (await a.get_json("/api/v1/notifications", headers=auth(alice)))[1] == []
    await ok(await a.http.post(f"{a.base_url}{REQUESTS}/{found[0]['id']}/accept",
                               headers=auth(alice)))
    status, listed = await a.get_json("/api/v1/notifications", headers=auth(alice))
    assert [(n["type"], n["account"]["acct"]) for n in listed] == [("mention", "bob@b.test")]


async def test_moderation_warnings_in_groups(client: TestClient, svc: Services,
                                            assert_schema: Schema) -> None:
    alice = await make_token(svc, "alice")
    modo = await make_user(svc, "modo", role=Role.MODERATOR)
    alice_id = await account_id(svc, "alice")
    await moderation.act_on_account(svc, modo.account, int(alice_id), "warn", "Doucement")
    await moderation.act_on_account(svc, None, int(alice_id), "silence", "Trop de bruit")
    for query in ("", "?expand_accounts=partial_avatars"):
        results = await ok(await client.get(f"/api/v2/notifications{query}",
                                            headers=auth(alice)))
        assert_schema(results, "GroupedNotificationsResults")
        groups = results["notification_groups"]
        assert [(g["type"], g["moderation_warning"]["action"], g["moderation_warning"]["text"])
                for g in groups] == [("moderation_warning", "silence", "Trop de bruit"),
                                     ("moderation_warning", "none", "Doucement")]
        assert {g["moderation_warning"]["target_account"]["id"] for g in groups} == {alice_id}
        assert "modo" not in json.dumps(results)
    one = await ok(await client.get(f"/api/v2/notifications/{groups[1]['group_key']}",
                                    headers=auth(alice)))
    assert one["notification_groups"][0]["moderation_warning"]["text"] == "Doucement"
    v1 = await ok(await client.get("/api/v1/notifications", headers=auth(alice)))
    assert [n["moderation_warning"]["id"] for n in v1] == [
        g["moderation_warning"]["id"] for g in groups]


async def test_group_keys_agree_between_v1_v2_and_streaming(client: TestClient,
                                                            svc: Services) -> None:
    tokens = {n: await make_token(svc, n) for n in ("alice", "bob", "carol")}
    alice = tokens["alice"]
    alice_id = await account_id(svc, "alice")
    notes = await client.ws_connect("/api/v1/streaming?stream=user:notification",
                                    headers=auth(alice))
    await synced(notes)
    mine = await post(client, alice, status="la confiture de prunes")
    streamed = []
    for name in ("bob", "carol"):
        for action in ("favourite", "reblog"):
            await ok(await client.post(f"/api/v1/statuses/{mine['id']}/{action}",
                                       headers=auth(tokens[name])))
            streamed.append(json.loads((await event(notes))["payload"]))
        await ok(await client.post(f"/api/v1/accounts/{alice_id}/follow",
                                   headers=auth(tokens[name])))
        streamed.append(json.loads((await event(notes))["payload"]))
    await post(client, tokens["bob"], status="@alice miam")
    streamed.append(json.loads((await event(notes))["payload"]))
    await notes.close()

    v1 = await ok(await client.get("/api/v1/notifications", headers=auth(alice)))
    v2 = await ok(await client.get("/api/v2/notifications", headers=auth(alice)))
    keys = {n["id"]: n["group_key"] for n in v1}
    assert {n["id"]: n["group_key"] for n in streamed} == keys
    groups = {g["group_key"]: g for g in v2["notification_groups"]}
    assert set(keys.values()) == set(groups)  # one key per v2 group, the same ones
    for key, group in groups.items():
        members = [i for i, k in keys.items() if k == key]
        assert len(members) == group["notifications_count"]
        assert str(group["most_recent_notification_id"]) == max(members, key=int)
    assert sorted(g["notifications_count"] for g in groups.values()) == [1, 2, 2, 2]
    mention = next(n for n in v1 if n["type"] == "mention")
    assert mention["group_key"] == f"ungrouped-{mention['id']}"
