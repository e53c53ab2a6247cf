"""The Mastodon account API: looking accounts up and searching, followers and following with
Link pagination, follow and unfollow, follow requests, blocks and mutes, relationships,
update_credentials and verify_credentials, preferences, markers and the small instance
endpoints; raw requests checked against the community OpenAPI shapes, scopes enforced, bad
input refused without changing anything, and Mastodon.py driving it all over a real socket."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient
from mastodon.errors import MastodonAPIError, MastodonNotFoundError

from fediverse_mu.appkeys import services_key
from fediverse_mu.domain import Account, RemoteActor
from fediverse_mu.services import accounts
from fediverse_mu.services.context import Services
from tests.conftest import FakeClock, RealServer, auth, count, login, make_token, make_user, ok

Schema = Callable[[Any, str], None]


async def remote_account(svc: Services, username: str = "zoe", domain: str = "c.test",
                         display_name: str = "Zoé") -> Account:
    """A remote account this instance has seen (no network involved)."""
    actor = f"http://{domain}/users/{username}"
    return await accounts.store_remote_actor(svc, RemoteActor(
        actor_uri=actor, username=username, domain=domain, actor_type="Person",
        display_name=display_name, note='<p>hi<script>alert(1)</script></p>',
        inbox_uri=f"{actor}/inbox", shared_inbox_uri=f"http://{domain}/inbox",
        outbox_uri=None, followers_uri=None, following_uri=None, featured_uri=None, url=None,
        public_key_id=f"{actor}#main-key",
        public_key_pem="-----BEGIN PUBLIC KEY-----\nx\n-----END PUBLIC KEY-----",
        locked=False, bot=False, discoverable=True), from_origin=True)


async def account_id(svc: Services, username: str) -> str:
    account = await accounts.get_local_account(svc, username)
    if account is None:
        account = (await make_user(svc, username)).account
    return str(account.id)


async def relationship(client: TestClient, token: str, target: str) -> dict[str, Any]:
    found = await ok(await client.get(f"/api/v1/accounts/relationships?id[]={target}",
                                      headers=auth(token)))
    assert len(found) == 1
    result: dict[str, Any] = found[0]
    return result


async def lock(svc: Services, username: str) -> None:
    await svc.storage.write(lambda db: db.execute(
        "UPDATE accounts SET locked = 1 WHERE username = ? AND domain IS NULL", [username]))


# -- reading accounts --------------------------------------------------------------------------

async def test_account_lookup_and_get_match_the_openapi_shape(
        client: TestClient, svc: Services, assert_schema: Schema) -> None:
    alice = await account_id(svc, "alice")
    body = await ok(await client.get(f"/api/v1/accounts/{alice}"))  # public: no token
    assert_schema(body, "Account")
    assert body["id"] == alice and body["acct"] == "alice" and body["fields"] == []
    for acct in ("alice", "@alice", "alice@a.test", "ALICE@a.test"):
        found = await ok(await client.get(f"/api/v1/accounts/lookup?acct={acct}"))
        assert found["id"] == alice
    zoe = await remote_account(svc)
    found = await ok(await client.get("/api/v1/accounts/lookup?acct=zoe@c.test"))
    assert_schema(found, "Account")
    assert found["id"] == str(zoe.id) and found["acct"] == "zoe@c.test"
    assert "<script>" not in found["note"] and found["note"].startswith("<p>hi")


@pytest.mark.parametrize("path", ["/api/v1/accounts/999999", "/api/v1/accounts/abc",
                                  "/api/v1/accounts/lookup?acct=nobody",
                                  "/api/v1/accounts/lookup?acct=alice@elsewhere.test",
                                  "/api/v1/accounts/999999/followers"])
async def test_unknown_accounts_are_404(client: TestClient, svc: Services, path: str) -> None:
    await make_user(svc, "alice")
    response = await client.get(path)
    assert response.status == 404
    assert (await response.json())["error"]


async def test_the_instance_actor_is_no_ones_account(client: TestClient, svc: Services) -> None:
    actor = await accounts.instance_actor(svc)
    assert (await client.get(f"/api/v1/accounts/{actor.id}")).status == 404
    token = await make_token(svc, "alice")
    found = await ok(await client.get("/api/v1/accounts/search?q=instance",
                                      headers=auth(token)))
    assert found == []


async def test_account_search(client: TestClient, svc: Services, assert_schema: Schema) -> None:
    token = await make_token(svc, "alice")
    await make_user(svc, "alicia")
    await make_user(svc, "bob")
    zoe = await remote_account(svc, "zoe", "c.test", display_name="Alice Zoé")
    await remote_account(svc, "alice", "d.test", display_name="")

    async def search(query: str) -> list[str]:
        found = await ok(await client.get(f"/api/v1/accounts/search?{query}",
                                          headers=auth(token)))
        for entity in found:
            assert_schema(entity, "Account")
        return [a["acct"] for a in found]

    # The exact name first, residents before remote accounts, display names by word.
    assert await search("q=alice") == ["alice", "alice@d.test", "zoe@c.test"]
    assert await search("q=ali") == ["alice", "alicia", "alice@d.test", "zoe@c.test"]
    assert await search("q=ALI&limit=2") == ["alice", "alicia"]
    assert await search("q=@alice@d.test") == ["alice@d.test"]
    assert await search("q=alice@a.test") == ["alice"]
    assert await search("q=zo") == ["zoe@c.test"]
    assert await search("q=al%25") == []  # LIKE wildcards are matched literally
    assert await search("q=alice&offset=1&limit=1") == ["alice@d.test"]
    assert await search("q=alice&following=true") == []
    me = (await accounts.get_local_account(svc, "alice"))
    assert me is not None
    await ok(await client.post(f"/api/v1/accounts/{zoe.id}/follow", headers=auth(token)))
    assert await search("q=a&following=true") == []  # requested, not yet accepted
    # resolve=true on an unreachable server: no error, just what is known.
    assert await search("q=nobody@nowhere.test&resolve=true") == []
    assert (await client.get("/api/v1/accounts/search?q=alice")).status == 401
    response = await client.get("/api/v1/accounts/search?q=", headers=auth(token))
    assert response.status == 422


# -- following ---------------------------------------------------------------------------------

async def test_follow_unfollow_and_lists_with_link_pagination(
        client: TestClient, svc: Services, assert_schema: Schema) -> None:
    alice = await make_token(svc, "alice")
    target = await account_id(svc, "target")
    tokens = [alice] + [await make_token(svc, name) for name in ("bea", "chloe")]
    for token in tokens:
        rel = await ok(await client.post(f"/api/v1/accounts/{target}/follow",
                                         headers=auth(token), data={"reblogs": "false",
                                                                    "notify": "true"}))
        assert_schema(rel, "Relationship")
        assert rel["following"] is True and rel["requested"] is False
        assert rel["showing_reblogs"] is False and rel["notifying"] is True
    rel = await ok(await client.post(f"/api/v1/accounts/{target}/follow", headers=auth(alice),
                                     json={"reblogs": True}))
    assert rel["showing_reblogs"] is True and rel["notifying"] is True  # options changed only

    page = await client.get(f"/api/v1/accounts/{target}/followers?limit=2")
    first = await ok(page)
    assert [a["acct"] for a in first] == ["chloe", "bea"]  # newest follow first
    assert_schema(first[0], "Account")
    link = page.headers["Link"]
    assert 'rel="next"' in link and 'rel="prev"' in link
    next_url = link.split(">;")[0].lstrip("<")
    assert next_url.startswith(f"http://a.test/api/v1/accounts/{target}/followers?limit=2&max_id=")
    second = await client.get(next_url.removeprefix("http://a.test"))
    assert [a["acct"] for a in await ok(second)] == ["alice"]
    assert 'rel="next"' not in second.headers["Link"]  # a short page is the last one
    prev = second.headers["Link"].split("<")[1].split(">")[0]
    assert [a["acct"] for a in await ok(await client.get(prev.removeprefix("http://a.test")))] \
        == ["chloe", "bea"]
    response = await client.get(f"/api/v1/accounts/{target}/followers?max_id=x")
    assert response.status == 422

    entity = await ok(await client.get(f"/api/v1/accounts/{target}"))
    assert entity["followers_count"] == 3 and entity["following_count"] == 0
    me = await ok(await client.get("/api/v1/accounts/verify_credentials", headers=auth(alice)))
    following = await ok(await client.get(f"/api/v1/accounts/{me['id']}/following"))
    assert [a["id"] for a in following] == [target]

    rel = await ok(await client.post(f"/api/v1/accounts/{target}/unfollow",
                                     headers=auth(alice)))
    assert rel["following"] is False
    rel = await ok(await client.post(f"/api/v1/accounts/{target}/unfollow",
                                     headers=auth(alice)))  # again: still fine
    assert rel["following"] is False
    assert len(await ok(await client.get(f"/api/v1/accounts/{target}/followers"))) == 2


async def test_follow_requests_authorize_and_reject(client: TestClient, svc: Services,
                                                    assert_schema: Schema) -> None:
    owner = await make_token(svc, "owner")
    await lock(svc, "owner")
    owner_id = await account_id(svc, "owner")
    bea, chloe = await make_token(svc, "bea"), await make_token(svc, "chloe")
    for token in (bea, chloe):
        rel = await ok(await client.post(f"/api/v1/accounts/{owner_id}/follow",
                                         headers=auth(token)))
        assert rel["following"] is False and rel["requested"] is True
    requests = await ok(await client.get("/api/v1/follow_requests", headers=auth(owner)))
    assert [a["acct"] for a in requests] == ["chloe", "bea"]
    assert_schema(requests[0], "Account")
    me = await ok(await client.get("/api/v1/accounts/verify_credentials", headers=auth(owner)))
    assert me["source"]["follow_requests_count"] == 2 and me["locked"] is True

    bea_id, chloe_id = await account_id(svc, "bea"), await account_id(svc, "chloe")
    rel = await ok(await client.post(f"/api/v1/follow_requests/{bea_id}/authorize",
                                     headers=auth(owner)))
    assert_schema(rel, "Relationship")
    assert rel["followed_by"] is True and rel["requested_by"] is False
    rel = await ok(await client.post(f"/api/v1/follow_requests/{chloe_id}/reject",
                                     headers=auth(owner)))
    assert rel["followed_by"] is False and rel["requested_by"] is False
    assert (await relationship(client, bea, owner_id))["following"] is True
    assert (await relationship(client, chloe, owner_id))["requested"] is False
    # Answering again, or someone who never asked: 404, and nothing changes.
    before = await count(svc, "SELECT count(*) FROM follows")
    for path in (f"/api/v1/follow_requests/{bea_id}/authorize",
                 f"/api/v1/follow_requests/{chloe_id}/authorize",
                 "/api/v1/follow_requests/999999/reject"):
        assert (await client.post(path, headers=auth(owner))).status == 404
    assert await count(svc, "SELECT count(*) FROM follows") == before


async def test_follow_refusals_change_nothing(client: TestClient, svc: Services) -> None:
    alice = await make_token(svc, "alice")
    read_only = await make_token(svc, "alice", "read")
    me = await account_id(svc, "alice")
    bob = await account_id(svc, "bob")
    cases = [
        (f"/api/v1/accounts/{me}/follow", auth(alice), 422),  # yourself
        ("/api/v1/accounts/999999/follow", auth(alice), 404),
        (f"/api/v1/accounts/{bob}/follow", auth(read_only), 403),
        (f"/api/v1/accounts/{bob}/follow", {}, 401),
        (f"/api/v1/accounts/{bob}/follow", auth("not-a-token"), 401),
    ]
    for path, headers, status in cases:
        response = await client.post(path, headers=headers)
        assert response.status == status, path
        assert isinstance((await response.json())["error"], str)
    response = await client.post(f"/api/v1/accounts/{bob}/follow", headers=auth(alice),
                                 data={"reblogs": "maybe"})
    assert response.status == 422
    assert await count(svc, "SELECT count(*) FROM follows") == 0


async def test_relationships_in_order_unknown_ids_left_out(client: TestClient,
                                                          svc: Services) -> None:
    alice = await make_token(svc, "alice")
    bob, carol = await account_id(svc, "bob"), await account_id(svc, "carol")
    await ok(await client.post(f"/api/v1/accounts/{carol}/follow", headers=auth(alice)))
    found = await ok(await client.get(
        f"/api/v1/accounts/relationships?id[]={carol}&id[]=999999&id[]=x&id[]={bob}"
        f"&id[]={carol}", headers=auth(alice)))
    assert [(r["id"], r["following"]) for r in found] == [(carol, True), (bob, False)]
    assert (await client.get("/api/v1/accounts/relationships?id[]=1")).status == 401
    no_follows = await make_token(svc, "alice", "read:accounts")
    response = await client.get("/api/v1/accounts/relationships?id[]=1",
                                headers=auth(no_follows))
    assert response.status == 403


# -- blocks and mutes --------------------------------------------------------------------------

async def test_block_severs_follows_both_ways(client: TestClient, svc: Services,
                                              assert_schema: Schema) -> None:
    alice, bob = await make_token(svc, "alice"), await make_token(svc, "bob")
    alice_id, bob_id = await account_id(svc, "alice"), await account_id(svc, "bob")
    await ok(await client.post(f"/api/v1/accounts/{bob_id}/follow", headers=auth(alice)))
    await ok(await client.post(f"/api/v1/accounts/{alice_id}/follow", headers=auth(bob)))
    rel = await ok(await client.post(f"/api/v1/accounts/{bob_id}/block", headers=auth(alice)))
    assert_schema(rel, "Relationship")
    assert rel["blocking"] is True and rel["following"] is False and rel["followed_by"] is False
    assert await count(svc, "SELECT count(*) FROM follows") == 0
    assert (await relationship(client, bob, alice_id))["blocked_by"] is True
    # Neither can follow the other while the block stands; nothing is created.
    for token, target in ((bob, alice_id), (alice, bob_id)):
        response = await client.post(f"/api/v1/accounts/{target}/follow", headers=auth(token))
        assert response.status == 403
    assert await count(svc, "SELECT count(*) FROM follows") == 0

    blocks = await client.get("/api/v1/blocks", headers=auth(alice))
    listed = await ok(blocks)
    assert [a["id"] for a in listed] == [bob_id]
    assert_schema(listed[0], "Account")
    assert 'rel="prev"' in blocks.headers["Link"]
    rel = await ok(await client.post(f"/api/v1/accounts/{bob_id}/unblock", headers=auth(alice)))
    assert rel["blocking"] is False
    assert await ok(await client.get("/api/v1/blocks", headers=auth(alice))) == []
    response = await client.post(f"/api/v1/accounts/{alice_id}/block", headers=auth(alice))
    assert response.status == 422
    read_blocks = await make_token(svc, "alice", "read:blocks")
    response = await client.post(f"/api/v1/accounts/{bob_id}/block", headers=auth(read_blocks))
    assert response.status == 403
    response = await client.get("/api/v1/blocks", headers=auth(await make_token(
        svc, "alice", "read:mutes")))
    assert response.status == 403
    assert await count(svc, "SELECT count(*) FROM blocks") == 0


async def test_mute_with_duration_expires(clocked: TestClient, clock: FakeClock,
                                          assert_schema: Schema) -> None:
    svc = clocked.server.app[services_key]
    alice = await make_token(svc, "alice")
    bob_id = await account_id(svc, "bob")
    rel = await ok(await clocked.post(f"/api/v1/accounts/{bob_id}/mute", headers=auth(alice),
                                      data={"notifications": "false", "duration": "3600"}))
    assert_schema(rel, "Relationship")
    assert rel["muting"] is True and rel["muting_notifications"] is False
    expected = datetime.fromtimestamp(clock.now + 3600, UTC)
    assert rel["muting_expires_at"] == expected.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    mutes = await ok(await clocked.get("/api/v1/mutes", headers=auth(alice)))
    assert [a["id"] for a in mutes] == [bob_id]
    assert_schema(mutes[0], "MutedAccount")
    assert mutes[0]["mute_expires_at"] == rel["muting_expires_at"]
    clock.now += 3601
    assert (await relationship(clocked, alice, bob_id))["muting"] is False
    assert await ok(await clocked.get("/api/v1/mutes", headers=auth(alice))) == []

    rel = await ok(await clocked.post(f"/api/v1/accounts/{bob_id}/mute", headers=auth(alice),
                                      json={"notifications": True}))
    assert rel["muting"] is True and rel["muting_notifications"] is True
    assert rel["muting_expires_at"] is None
    rel = await ok(await clocked.post(f"/api/v1/accounts/{bob_id}/unmute", headers=auth(alice)))
    assert rel["muting"] is False
    for data in ({"duration": "-5"}, {"duration": "soon"}, {"notifications": "perhaps"}):
        response = await clocked.post(f"/api/v1/accounts/{bob_id}/mute", headers=auth(alice),
                                      data=data)
        assert response.status == 422
    assert await count(svc, "SELECT count(*) FROM mutes") == 0
    no_scope = await make_token(svc, "alice", "write:blocks")
    response = await clocked.post(f"/api/v1/accounts/{bob_id}/mute", headers=auth(no_scope))
    assert response.status == 403
    assert await count(svc, "SELECT count(*) FROM mutes") == 0


# -- the caller's own profile ------------------------------------------------------------------

async def test_update_credentials(client: TestClient, svc: Services,
                                  assert_schema: Schema) -> None:
    token = await make_token(svc, "alice")
    response = await client.patch("/api/v1/accounts/update_credentials", headers=auth(token),
                                  data={
        "display_name": "  Alice <3  ", "note": "Hello <b>you</b>\nsee https://example.org/x\n\n"
        "bye", "locked": "true", "bot": "1", "discoverable": "false",
        "fields_attributes[0][name]": "Pronoms", "fields_attributes[0][value]": "elle",
        "fields_attributes[1][name]": "Site", "fields_attributes[1][value]": "https://a.org",
        "fields_attributes[2][name]": "", "fields_attributes[2][value]": "",
        "source[privacy]": "unlisted", "source[sensitive]": "true", "source[language]": "fr"})
    body = await ok(response)
    assert_schema(body, "CredentialAccount")
    assert body["display_name"] == "Alice <3"
    assert body["note"] == ('<p>Hello &lt;b&gt;you&lt;/b&gt;<br />see <a href="https://example'
                            '.org/x" target="_blank" rel="nofollow noopener noreferrer" '
                            'translate="no">https://example.org/x</a></p><p>bye</p>')
    assert body["locked"] is True and body["bot"] is True and body["discoverable"] is False
    assert [f["name"] for f in body["fields"]] == ["Pronoms", "Site"]
    assert body["fields"][1]["value"].startswith('<a href="https://a.org"')
    source = body["source"]
    assert source["note"].startswith("Hello <b>you</b>\n")
    assert source["fields"] == [{"name": "Pronoms", "value": "elle", "verified_at": None},
                                {"name": "Site", "value": "https://a.org", "verified_at": None}]
    assert (source["privacy"], source["sensitive"], source["language"]) == ("unlisted", True,
                                                                             "fr")
    again = await ok(await client.get("/api/v1/accounts/verify_credentials",
                                      headers=auth(token)))
    assert again["source"] == source and again["fields"] == body["fields"]
    public = await ok(await client.get(f"/api/v1/accounts/{body['id']}"))
    assert public["fields"] == body["fields"] and "source" not in public
    prefs = await ok(await client.get("/api/v1/preferences", headers=auth(token)))
    assert_schema(prefs, "Preferences")
    assert prefs["posting:default:visibility"] == "unlisted"
    assert prefs["posting:default:sensitive"] is True
    assert prefs["posting:default:language"] == "fr"

    # JSON clients send nested objects; one field left changes only that.
    body = await ok(await client.patch("/api/v1/accounts/update_credentials",
                                       headers=auth(token), json={
        "source": {"privacy": "private"}, "fields_attributes": [{"name": "Seul", "value": "1"}],
        "locked": False}))
    assert body["source"]["privacy"] == "private" and body["locked"] is False
    assert [f["name"] for f in body["fields"]] == ["Seul"] and body["display_name"] == "Alice <3"
    # The actor document published to other servers carries the new profile.
    async with client.get("/users/alice", headers={"Accept": "application/activity+json"}) as r:
        actor = await r.json(content_type=None)
    assert actor["name"] == "Alice <3" and actor["manuallyApprovesFollowers"] is False


@pytest.mark.parametrize("data", [
    {"fields_attributes[0][name]": "a", "fields_attributes[0][value]": "1",
     "fields_attributes[1][name]": "b", "fields_attributes[1][value]": "2",
     "fields_attributes[2][name]": "c", "fields_attributes[2][value]": "3",
     "fields_attributes[3][name]": "d", "fields_attributes[3][value]": "4",
     "fields_attributes[4][name]": "e", "fields_attributes[4][value]": "5",
     "display_name": "changed"},
    {"display_name": "x" * 31},
    {"note": "n" * 501, "display_name": "changed"},
    {"fields_attributes[0][name]": "a", "fields_attributes[0][value]": "v" * 256},
    {"source[privacy]": "direct", "display_name": "changed"},
    {"source[privacy]": "everyone"},
    {"source[language]": "French"},
    {"locked": "sometimes", "display_name": "changed"},
])
async def test_update_credentials_refuses_bad_input_and_changes_nothing(
        client: TestClient, svc: Services, data: dict[str, str]) -> None:
    token = await make_token(svc, "alice")
    before = await ok(await client.get("/api/v1/accounts/verify_credentials",
                                       headers=auth(token)))
    response = await client.patch("/api/v1/accounts/update_credentials", headers=auth(token),
                                  data=data)
    assert response.status == 422
    assert isinstance((await response.json())["error"], str)
    after = await ok(await client.get("/api/v1/accounts/verify_credentials",
                                      headers=auth(token)))
    assert after == before
    assert await count(svc, "SELECT count(*) FROM jobs") == 0


async def test_a_truncated_avatar_is_refused(client: TestClient, svc: Services) -> None:
    token = await make_token(svc, "alice")
    form = aiohttp.FormData()
    form.add_field("display_name", "changed")
    form.add_field("avatar", b"\x89PNG\r\n\x1a\n", filename="a.png", content_type="image/png")
    response = await client.patch("/api/v1/accounts/update_credentials", headers=auth(token),
                                  data=form)
    assert response.status == 422
    assert "avatar" in (await response.json())["error"]  # tests/web/test_avatars.py: more
    me = await ok(await client.get("/api/v1/accounts/verify_credentials", headers=auth(token)))
    assert me["display_name"] == ""


async def test_the_html_profile_shows_the_note(client: TestClient, svc: Services) -> None:
    token = await make_token(svc, "alice")
    await ok(await client.patch("/api/v1/accounts/update_credentials", headers=auth(token),
                                data={"note": "Bonjour <les> amis"}))
    page = await (await client.get("/@alice")).text()
    assert '<div class="note"><p>Bonjour &lt;les&gt; amis</p></div>' in page


async def test_update_credentials_scopes(client: TestClient, svc: Services) -> None:
    read_only = await make_token(svc, "alice", "read write:statuses")
    response = await client.patch("/api/v1/accounts/update_credentials",
                                  headers=auth(read_only), data={"display_name": "x"})
    assert response.status == 403
    response = await client.patch("/api/v1/accounts/update_credentials",
                                  data={"display_name": "x"})
    assert response.status == 401
    narrow = await make_token(svc, "alice", "write:accounts")
    body = await ok(await client.patch("/api/v1/accounts/update_credentials",
                                       headers=auth(narrow), data={"display_name": "x"}))
    assert body["display_name"] == "x"


# -- markers, preferences and the small endpoints ---------------------------------------------

async def test_markers(client: TestClient, svc: Services, assert_schema: Schema) -> None:
    token = await make_token(svc, "alice")
    assert await ok(await client.get("/api/v1/markers?timeline[]=home",
                                     headers=auth(token))) == {}
    saved = await ok(await client.post("/api/v1/markers", headers=auth(token),
                                       data={"home[last_read_id]": "105"}))
    assert_schema(saved["home"], "Marker")
    assert saved["home"]["last_read_id"] == "105" and saved["home"]["version"] == 1
    saved = await ok(await client.post("/api/v1/markers", headers=auth(token), json={
        "home": {"last_read_id": "110"}, "notifications": {"last_read_id": "7"},
        "elsewhere": {"last_read_id": "1"}}))
    assert saved["home"]["version"] == 2 and saved["notifications"]["version"] == 1
    found = await ok(await client.get(
        "/api/v1/markers?timeline[]=home&timeline[]=notifications", headers=auth(token)))
    assert set(found) == {"home", "notifications"}
    assert found["home"]["last_read_id"] == "110"
    # A malformed id changes nothing (not even the valid marker next to it).
    response = await client.post("/api/v1/markers", headers=auth(token), json={
        "notifications": {"last_read_id": "9"}, "home": {"last_read_id": "latest"}})
    assert response.status == 422
    found = await ok(await client.get("/api/v1/markers?timeline[]=notifications",
                                      headers=auth(token)))
    assert found["notifications"]["last_read_id"] == "7"
    no_scope = await make_token(svc, "alice", "read:accounts")
    assert (await client.get("/api/v1/markers", headers=auth(no_scope))).status == 403
    assert (await client.post("/api/v1/markers", headers=auth(no_scope),
                              data={"home[last_read_id]": "1"})).status == 403


async def test_instance_extras(client: TestClient, svc: Services) -> None:
    await make_token(svc, "alice")  # a registration and a sign-in this week
    alice_id = await account_id(svc, "alice")
    now = datetime.now(UTC)
    for n, when in enumerate((now, now, now - timedelta(weeks=3))):
        await svc.storage.write(lambda db, n=n, when=when: db.execute(
            "INSERT INTO statuses (id, uri, account_id, local, visibility, created_at)"
            " VALUES (?, ?, ?, 1, 'public', ?)",
            [n + 1, f"http://a.test/s/{n}", alice_id, when.isoformat()]))
    await remote_account(svc, "zoe", "c.test")
    await remote_account(svc, "yan", "b.test")
    assert await ok(await client.get("/api/v1/instance/peers")) == ["b.test", "c.test"]
    weeks = await ok(await client.get("/api/v1/instance/activity"))
    assert len(weeks) == 12
    assert all(set(w) == {"week", "statuses", "logins", "registrations"} for w in weeks)
    assert int(weeks[0]["week"]) > int(weeks[1]["week"])
    this_week = datetime.fromtimestamp(int(weeks[0]["week"]), UTC)
    assert this_week.weekday() == 0 and this_week.hour == 0
    assert (weeks[0]["registrations"], weeks[0]["logins"], weeks[0]["statuses"]) == \
        ("1", "1", "2")
    assert all(w["registrations"] == "0" for w in weeks[1:])
    assert [w["statuses"] for w in weeks[1:]] == ["0", "0", "1"] + ["0"] * 8
    for path in ("/api/v1/instance/rules", "/api/v1/custom_emojis", "/api/v1/trends",
                 "/api/v1/trends/tags", "/api/v1/trends/statuses", "/api/v1/trends/links"):
        assert await ok(await client.get(path)) == [], path
    token = await make_token(svc, "alice")
    for path in ("/api/v1/announcements", "/api/v1/suggestions", "/api/v2/suggestions"):
        assert (await client.get(path)).status == 401
        assert await ok(await client.get(path, headers=auth(token))) == []
    assert (await client.get("/api/v1/preferences")).status == 401


# -- Mastodon.py, end to end over a real socket -----------------------------------------------

async def test_mastodon_py_account_flow(real_server: RealServer) -> None:
    base = real_server.base_url
    svc = real_server.svc
    await make_user(svc, "alice")
    await make_user(svc, "bob")
    await make_user(svc, "owner")
    await lock(svc, "owner")

    def flow() -> dict[str, Any]:
        alice, owner = login(base, "alice"), login(base, "owner")
        bob = alice.account_lookup("bob")
        owner_account = alice.account_lookup("owner@" + real_server.domain)
        found = alice.account_search("bo")
        followed = alice.account_follow(bob)
        requested = alice.account_follow(owner_account)
        requests = owner.follow_requests()
        authorized = owner.follow_request_authorize(requests[0])
        relationships = alice.account_relationships([bob, owner_account])
        unfollowed = alice.account_unfollow(bob)
        blocked = alice.account_block(bob)
        unblocked = alice.account_unblock(bob)
        muted = alice.account_mute(bob, notifications=False, duration=600)
        mutes = alice.mutes()
        updated = alice.account_update_credentials(
            display_name="Alice M.", note="line one\nline two",
            fields=[("Pronoms", "elle"), ("Site", "https://example.org")],
            default_privacy="unlisted", default_sensitive=True, default_language="fr")
        try:
            alice.account_follow(alice.me())
            self_follow = None
        except MastodonAPIError as exc:
            self_follow = exc
        try:
            alice.account_lookup("nobody")
            missing = None
        except MastodonNotFoundError as exc:
            missing = exc
        return {"bob": bob, "owner": owner_account, "found": found, "followed": followed,
                "requested": requested, "requests": requests, "authorized": authorized,
                "relationships": relationships, "unfollowed": unfollowed,
                "blocked": blocked, "unblocked": unblocked, "muted": muted,
                "mutes": mutes, "updated": updated, "self_follow": self_follow,
                "missing": missing, "prefs": alice.preferences(),
                "me": alice.me()}

    r = await asyncio.to_thread(flow)
    assert r["bob"]["acct"] == "bob" and r["owner"]["acct"] == "owner"
    assert [a["acct"] for a in r["found"]] == ["bob"]
    assert r["followed"]["following"] is True
    assert r["requested"]["requested"] is True and r["requested"]["following"] is False
    assert [a["acct"] for a in r["requests"]] == ["alice"]
    assert r["authorized"]["followed_by"] is True
    assert [(x["id"], x["following"]) for x in r["relationships"]] == [
        (r["bob"]["id"], True), (r["owner"]["id"], True)]
    assert r["unfollowed"]["following"] is False
    assert r["blocked"]["blocking"] is True and r["unblocked"]["blocking"] is False
    assert r["muted"]["muting"] is True and r["muted"]["muting_notifications"] is False
    assert [a["acct"] for a in r["mutes"]] == ["bob"]
    updated = r["updated"]
    assert updated["display_name"] == "Alice M."
    assert updated["note"] == "<p>line one<br />line two</p>"
    assert [(f["name"], f["value"]) for f in updated["source"]["fields"]] == [
        ("Pronoms", "elle"), ("Site", "https://example.org")]
    assert updated["source"]["privacy"] == "unlisted"
    assert updated["source"]["sensitive"] is True
    assert r["prefs"]["posting:default:visibility"] == "unlisted"
    assert r["me"]["following_count"] == 1  # owner (bob was unfollowed, then blocked)
    assert r["self_follow"] is not None and r["self_follow"].args[1] == 422
    assert r["missing"] is not None
