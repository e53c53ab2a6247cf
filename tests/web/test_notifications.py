"""The Mastodon notification API: every kind this server creates (mention, favourite, boost,
edit of a boosted status, follow, follow request, from a remote follower too), filters and
pagination, reading one, dismissing one, clearing, the unread count after the marker, what
stops being shown (deleted statuses, undone follows, answered requests, blocks and muted
notifications), scopes, and the bad inputs that change nothing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp.test_utils import TestClient

from fediverse_mu.appkeys import federation_key
from fediverse_mu.services import accounts, following
from fediverse_mu.services.context import Services
from tests.conftest import Instance, auth, make_token, make_user, ok, post, settle

Schema = Callable[[Any, str], None]


async def notes(client: TestClient, token: str, query: str = "") -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = await ok(await client.get(f"/api/v1/notifications{query}",
                                                            headers=auth(token)))
    return found


async def account_id(svc: Services, username: str) -> str:
    account = await accounts.get_local_account(svc, username)
    assert account is not None
    return str(account.id)


async def test_every_kind_of_notification(client: TestClient, svc: Services,
                                          assert_schema: Schema) -> None:
    alice = await make_token(svc, "alice")
    bob = await make_token(svc, "bob")
    carol = await make_token(svc, "carol")
    mine = await post(client, alice, status="le four à pain chauffe")
    await post(client, bob, status="@alice tu as la recette ?")
    await ok(await client.post(f"/api/v1/statuses/{mine['id']}/favourite", headers=auth(bob)))
    await ok(await client.post(f"/api/v1/statuses/{mine['id']}/reblog", headers=auth(carol)))
    await ok(await client.post(f"/api/v1/accounts/{await account_id(svc, 'alice')}/follow",
                               headers=auth(bob)))
    # An edit notifies those who boosted the status.
    await ok(await client.put(f"/api/v1/statuses/{mine['id']}", headers=auth(alice),
                              json={"status": "le four est chaud"}))
    # A locked account gets a follow request instead.
    await ok(await client.patch("/api/v1/accounts/update_credentials", headers=auth(carol),
                                data={"locked": "true"}))
    await ok(await client.post(f"/api/v1/accounts/{await account_id(svc, 'carol')}/follow",
                               headers=auth(bob)))

    found = await notes(client, alice)
    assert [(n["type"], n["account"]["acct"]) for n in found] == [
        ("follow", "bob"), ("reblog", "carol"), ("favourite", "bob"), ("mention", "bob")]
    for n in found:
        assert_schema(n, "Notification")
        # The key the grouped notifications use (a mention is a group of its own).
        assert n["group_key"] == (f"ungrouped-{n['id']}" if n["type"] == "mention"
                                  else n["group_key"].split("-")[0] == n["type"]
                                  and n["group_key"])
    assert "status" not in found[0]  # a follow is about an account, as on Mastodon
    assert found[1]["status"]["id"] == found[2]["status"]["id"] == mine["id"]
    assert "four est chaud" in found[2]["status"]["content"]
    assert found[3]["status"]["content"].endswith("tu as la recette ?</p>")
    assert found[0]["account"]["statuses_count"] == 1  # accounts carry their counts
    assert found[2]["status"]["account"]["statuses_count"] == 1

    updates = await notes(client, carol)
    assert [(n["type"], n["account"]["acct"]) for n in updates] == [
        ("follow_request", "bob"), ("update", "alice")]
    for n in updates:
        assert_schema(n, "Notification")
    assert updates[1]["status"]["id"] == mine["id"]
    assert await notes(client, bob) == []

    one = await ok(await client.get(f"/api/v1/notifications/{found[3]['id']}",
                                    headers=auth(alice)))
    assert one == found[3]
    for path in (f"/api/v1/notifications/{found[3]['id']}", "/api/v1/notifications/99999",
                 "/api/v1/notifications/abc"):
        response = await client.get(path, headers=auth(bob))  # not bob's, or no such thing
        assert response.status == 404, path
        assert "error" in await response.json()


async def test_filters_and_pagination(client: TestClient, svc: Services) -> None:
    alice = await make_token(svc, "alice")
    bob = await make_token(svc, "bob")
    carol = await make_token(svc, "carol")
    mine = await post(client, alice, status="atelier vélo samedi")
    for who in (bob, carol):
        await post(client, who, status="@alice j'y serai")
        await ok(await client.post(f"/api/v1/statuses/{mine['id']}/favourite",
                                   headers=auth(who)))
    everything = await notes(client, alice)
    assert [n["type"] for n in everything] == ["favourite", "mention", "favourite", "mention"]
    ids = [n["id"] for n in everything]

    assert [n["id"] for n in await notes(client, alice, "?types[]=mention")] == [ids[1], ids[3]]
    assert [n["id"] for n in await notes(client, alice, "?exclude_types[]=mention"
                                         "&exclude_types[]=poll")] == [ids[0], ids[2]]
    bob_id = await account_id(svc, "bob")
    assert [n["id"] for n in await notes(client, alice, f"?account_id={bob_id}")] == ids[2:]
    assert [n["id"] for n in await notes(
        client, alice, f"?account_id={bob_id}&types[]=favourite")] == [ids[2]]
    # Types this server does not know are ignored; asking only for them finds nothing.
    assert len(await notes(client, alice, "?exclude_types[]=admin.sign_up")) == 4
    assert await notes(client, alice, "?types[]=poll") == []

    response = await client.get("/api/v1/notifications?limit=2", headers=auth(alice))
    assert [n["id"] for n in await ok(response)] == ids[:2]
    link = response.headers["Link"]
    assert f"max_id={ids[1]}" in link and 'rel="next"' in link
    assert f"min_id={ids[0]}" in link and 'rel="prev"' in link
    assert [n["id"] for n in await notes(client, alice, f"?max_id={ids[1]}")] == ids[2:]
    assert [n["id"] for n in await notes(client, alice, f"?since_id={ids[2]}")] == ids[:2]
    assert [n["id"] for n in await notes(client, alice,
                                         f"?min_id={ids[3]}&limit=1")] == [ids[2]]

    for query in ("?max_id=abc", "?account_id=bob", "?limit=many"):
        response = await client.get(f"/api/v1/notifications{query}", headers=auth(alice))
        assert response.status == 422, query
        assert "error" in await response.json()


async def test_dismiss_clear_and_unread_count(client: TestClient, svc: Services) -> None:
    alice = await make_token(svc, "alice")
    bob = await make_token(svc, "bob")
    for text in ("@alice un", "@alice deux", "@alice trois"):
        await post(client, bob, status=text)
    await post(client, alice, status="@bob salut")
    ids = [n["id"] for n in await notes(client, alice)]
    assert len(ids) == 3

    count = await ok(await client.get("/api/v1/notifications/unread_count",
                                      headers=auth(alice)))
    assert count == {"count": 3}  # no marker yet: everything is unread
    await ok(await client.post("/api/v1/markers", headers=auth(alice),
                               data={"notifications[last_read_id]": ids[1]}))
    assert await ok(await client.get("/api/v1/notifications/unread_count",
                                     headers=auth(alice))) == {"count": 1}
    await ok(await client.post("/api/v1/markers", headers=auth(alice),
                               data={"notifications[last_read_id]": "0"}))
    assert await ok(await client.get("/api/v1/notifications/unread_count?limit=2",
                                     headers=auth(alice))) == {"count": 2}
    assert await ok(await client.get("/api/v1/notifications/unread_count?types[]=favourite",
                                     headers=auth(alice))) == {"count": 0}
    bad = await client.get("/api/v1/notifications/unread_count?limit=-1", headers=auth(alice))
    assert bad.status == 422

    # Someone else's notification cannot be dismissed, and stays.
    refused = await client.post(f"/api/v1/notifications/{ids[0]}/dismiss", headers=auth(bob))
    assert refused.status == 404
    assert [n["id"] for n in await notes(client, alice)] == ids
    assert await ok(await client.post(f"/api/v1/notifications/{ids[0]}/dismiss",
                                      headers=auth(alice))) == {}
    assert [n["id"] for n in await notes(client, alice)] == ids[1:]
    again = await client.post(f"/api/v1/notifications/{ids[0]}/dismiss", headers=auth(alice))
    assert again.status == 404

    assert await ok(await client.post("/api/v1/notifications/clear",
                                      headers=auth(alice))) == {}
    assert await notes(client, alice) == []
    assert [n["type"] for n in await notes(client, bob)] == ["mention"]  # bob's are untouched


async def test_what_stops_being_shown(client: TestClient, svc: Services) -> None:
    alice = await make_token(svc, "alice")
    bob = await make_token(svc, "bob")
    dave = await make_token(svc, "dave")
    alice_id, bob_id = await account_id(svc, "alice"), await account_id(svc, "bob")
    gone = await post(client, bob, status="@alice bientôt effacé")
    await post(client, dave, status="@alice de la part de dave")
    await ok(await client.post(f"/api/v1/accounts/{alice_id}/follow", headers=auth(bob)))
    assert [n["type"] for n in await notes(client, alice)] == ["follow", "mention", "mention"]

    # A deleted status takes its notification with it; an unfollow takes the follow's.
    await ok(await client.delete(f"/api/v1/statuses/{gone['id']}", headers=auth(bob)))
    await ok(await client.post(f"/api/v1/accounts/{alice_id}/unfollow", headers=auth(bob)))
    assert [n["account"]["acct"] for n in await notes(client, alice)] == ["dave"]
    # Following again is news again.
    await ok(await client.post(f"/api/v1/accounts/{alice_id}/follow", headers=auth(bob)))
    assert [n["type"] for n in await notes(client, alice)] == ["follow", "mention"]

    # Muting with notifications hides them; muting without does not; unmuting shows them.
    dave_id = await account_id(svc, "dave")
    await ok(await client.post(f"/api/v1/accounts/{dave_id}/mute", headers=auth(alice),
                               json={"notifications": False}))
    assert len(await notes(client, alice)) == 2
    await ok(await client.post(f"/api/v1/accounts/{dave_id}/mute", headers=auth(alice),
                               json={"notifications": True}))
    assert [n["type"] for n in await notes(client, alice)] == ["follow"]
    assert await ok(await client.get("/api/v1/notifications/unread_count",
                                     headers=auth(alice))) == {"count": 1}
    await ok(await client.post(f"/api/v1/accounts/{dave_id}/unmute", headers=auth(alice)))
    assert len(await notes(client, alice)) == 2
    # A block hides everything from the blocked account (and ends the follow).
    await ok(await client.post(f"/api/v1/accounts/{bob_id}/block", headers=auth(alice)))
    assert [n["account"]["acct"] for n in await notes(client, alice)] == ["dave"]

    # A follow request lasts until it is answered.
    await ok(await client.patch("/api/v1/accounts/update_credentials", headers=auth(alice),
                                data={"locked": "true"}))
    carol = await make_token(svc, "carol")
    await ok(await client.post(f"/api/v1/accounts/{alice_id}/follow", headers=auth(carol)))
    assert [n["type"] for n in await notes(client, alice)] == ["follow_request", "mention"]
    carol_id = await account_id(svc, "carol")
    await ok(await client.post(f"/api/v1/follow_requests/{carol_id}/authorize",
                               headers=auth(alice)))
    assert [n["type"] for n in await notes(client, alice)] == ["mention"]


async def test_scopes_and_tokens(client: TestClient, svc: Services) -> None:
    alice = await make_token(svc, "alice")
    bob = await make_token(svc, "bob")
    await post(client, bob, status="@alice coucou")
    (only,) = await notes(client, alice)
    assert (await client.get("/api/v1/notifications")).status == 401
    bad = await client.get("/api/v1/notifications", headers=auth("not-a-token"))
    assert bad.status == 401
    statuses_only = await make_token(svc, "alice", "read:statuses write:statuses")
    for method, path in (("GET", "/api/v1/notifications"),
                         ("GET", f"/api/v1/notifications/{only['id']}"),
                         ("GET", "/api/v1/notifications/unread_count"),
                         ("POST", f"/api/v1/notifications/{only['id']}/dismiss"),
                         ("POST", "/api/v1/notifications/clear")):
        response = await client.request(method, path, headers=auth(statuses_only))
        assert response.status == 403, path
    reader = await make_token(svc, "alice", "read:notifications")
    assert len(await notes(client, reader)) == 1
    for path in (f"/api/v1/notifications/{only['id']}/dismiss", "/api/v1/notifications/clear"):
        assert (await client.post(path, headers=auth(reader))).status == 403
    assert [n["id"] for n in await notes(client, alice)] == [only["id"]]  # nothing removed
    writer = await make_token(svc, "alice", "write:notifications")
    assert (await client.post("/api/v1/notifications/clear", headers=auth(writer))).status \
        == 200
    assert await notes(client, alice) == []


async def test_a_remote_follower_notifies(
        instances: Callable[..., Awaitable[list[Instance]]]) -> None:
    a, b = await instances("a.test", "b.test")
    await make_user(a.svc, "alice")
    await make_user(a.svc, "owner")
    bob = (await make_user(b.svc, "bob")).account
    fed = b.app[federation_key]
    await following.follow(b.svc, bob, await fed.resolve_handle("alice@a.test"))
    await a.svc.storage.write(lambda db: db.execute(
        "UPDATE accounts SET locked = 1 WHERE username = 'owner' AND domain IS NULL"))
    await following.follow(b.svc, bob, await fed.resolve_handle("owner@a.test"))
    await settle(a, b)

    async def listed(username: str) -> list[tuple[str, str]]:
        token = await make_token(a.svc, username)
        status, body = await a.get_json("/api/v1/notifications", headers=auth(token))
        assert status == 200
        return [(n["type"], n["account"]["acct"]) for n in body]

    assert await listed("alice") == [("follow", "bob@b.test")]
    assert await listed("owner") == [("follow_request", "bob@b.test")]
