"""Relationships across instances, driven through the Mastodon API over real HTTP: resolving
and following a remote account, a locked account authorizing the request, blocks that sever
follows on both servers (Block, Undo Block, Undo Follow, Reject), a blocked actor's Follow
answered with a Reject, and a profile update reaching the followers' server."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from fediverse_mu.services import accounts, following
from fediverse_mu.storage import relationships as rel_store
from tests.conftest import Instance, make_token, settle

Start = Callable[..., Awaitable[list[Instance]]]


async def api(inst: Instance, method: str, path: str, token: str, *,
              expect: int = 200, **kwargs: Any) -> Any:
    """Call an instance's Mastodon API over HTTP and check the status."""
    headers = {"Authorization": f"Bearer {token}"}
    async with inst.http.request(method, inst.base_url + path, headers=headers,
                                 **kwargs) as response:
        body = await response.read()
        assert response.status == expect, body
        return await response.json(content_type=None)


async def resolve(inst: Instance, token: str, handle: str) -> dict[str, Any]:
    """What a client does first: search with resolve=true, take the single hit."""
    found = await api(inst, "GET", f"/api/v1/accounts/search?q={handle}&resolve=true&limit=5",
                      token)
    assert len(found) == 1, found
    result: dict[str, Any] = found[0]
    return result


async def relationship(inst: Instance, token: str, account_id: str) -> dict[str, Any]:
    found = await api(inst, "GET", f"/api/v1/accounts/relationships?id[]={account_id}", token)
    result: dict[str, Any] = found[0]
    return result


async def local_id(inst: Instance, username: str) -> str:
    account = await accounts.get_local_account(inst.svc, username)
    assert account is not None
    return str(account.id)


async def follow_each_other(a: Instance, b: Instance) -> tuple[str, str, str, str]:
    """alice@a.test and bob@b.test follow each other (accepted); returns the two tokens and
    each one's id of the other."""
    alice, bob = await make_token(a.svc, "alice"), await make_token(b.svc, "bob")
    bob_at_a = (await resolve(a, alice, "bob@b.test"))["id"]
    alice_at_b = (await resolve(b, bob, "@alice@a.test"))["id"]
    await api(a, "POST", f"/api/v1/accounts/{bob_at_a}/follow", alice)
    await api(b, "POST", f"/api/v1/accounts/{alice_at_b}/follow", bob)
    await settle(a, b)
    rel = await relationship(a, alice, bob_at_a)
    assert rel["following"] is True and rel["followed_by"] is True
    return alice, bob, bob_at_a, alice_at_b


async def test_resolve_follow_and_authorize_through_the_api(instances: Start) -> None:
    a, b = await instances("a.test", "b.test")
    alice, bob = await make_token(a.svc, "alice"), await make_token(b.svc, "bob")
    await api(b, "PATCH", "/api/v1/accounts/update_credentials", bob, data={"locked": "true"})
    found = await resolve(a, alice, "bob@b.test")
    assert found["acct"] == "bob@b.test" and found["locked"] is True
    assert found["url"] == "http://b.test/@bob"
    rel = await api(a, "POST", f"/api/v1/accounts/{found['id']}/follow", alice)
    assert rel["requested"] is True and rel["following"] is False
    await settle(a, b)
    requests = await api(b, "GET", "/api/v1/follow_requests", bob)
    assert [r["acct"] for r in requests] == ["alice@a.test"]
    rel = await api(b, "POST", f"/api/v1/follow_requests/{requests[0]['id']}/authorize", bob)
    assert rel["followed_by"] is True
    assert (await relationship(a, alice, found["id"]))["following"] is False  # not yet told
    await settle(a, b)
    rel = await relationship(a, alice, found["id"])
    assert rel["following"] is True and rel["requested"] is False
    bob_account = await accounts.get_local_account(b.svc, "bob")
    assert bob_account is not None
    assert await following.follower_uris(b.svc, bob_account) == ["http://a.test/users/alice"]
    followers = await api(b, "GET", f"/api/v1/accounts/{await local_id(b, 'bob')}/followers",
                          bob)
    assert [f["acct"] for f in followers] == ["alice@a.test"]
    assert await api(a, "GET", "/api/v1/instance/peers", alice) == ["b.test"]


async def test_rejected_request_reaches_the_requester(instances: Start) -> None:
    a, b = await instances("a.test", "b.test")
    alice, bob = await make_token(a.svc, "alice"), await make_token(b.svc, "bob")
    await api(b, "PATCH", "/api/v1/accounts/update_credentials", bob, data={"locked": "1"})
    bob_at_a = (await resolve(a, alice, "bob@b.test"))["id"]
    await api(a, "POST", f"/api/v1/accounts/{bob_at_a}/follow", alice)
    await settle(a, b)
    alice_at_b = (await api(b, "GET", "/api/v1/follow_requests", bob))[0]["id"]
    rel = await api(b, "POST", f"/api/v1/follow_requests/{alice_at_b}/reject", bob)
    assert rel["requested_by"] is False
    await settle(a, b)
    rel = await relationship(a, alice, bob_at_a)
    assert rel["requested"] is False and rel["following"] is False


async def test_block_removes_follows_on_both_sides_and_unblock_is_federated(
        instances: Start) -> None:
    a, b = await instances("a.test", "b.test")
    alice, bob, bob_at_a, alice_at_b = await follow_each_other(a, b)
    rel = await api(a, "POST", f"/api/v1/accounts/{bob_at_a}/block", alice)
    assert rel["blocking"] is True and rel["following"] is False and rel["followed_by"] is False
    await settle(a, b)
    rel = await relationship(b, bob, alice_at_b)
    assert rel["following"] is False and rel["followed_by"] is False
    assert rel["blocked_by"] is True
    for inst in (a, b):
        assert await inst.svc.storage.read(
            lambda db: db.execute("SELECT count(*) FROM follows").fetchone()[0]) == 0
    # bob's server knows: bob cannot follow alice again.
    await api(b, "POST", f"/api/v1/accounts/{alice_at_b}/follow", bob, expect=403)

    rel = await api(a, "POST", f"/api/v1/accounts/{bob_at_a}/unblock", alice)
    assert rel["blocking"] is False
    await settle(a, b)
    assert (await relationship(b, bob, alice_at_b))["blocked_by"] is False
    await api(b, "POST", f"/api/v1/accounts/{alice_at_b}/follow", bob)
    await settle(a, b)
    assert (await relationship(b, bob, alice_at_b))["following"] is True


async def test_an_incoming_block_removes_follows(instances: Start) -> None:
    a, b = await instances("a.test", "b.test")
    alice, bob, bob_at_a, alice_at_b = await follow_each_other(a, b)
    await api(b, "POST", f"/api/v1/accounts/{alice_at_b}/block", bob)
    await settle(a, b)
    rel = await relationship(a, alice, bob_at_a)
    assert (rel["following"], rel["followed_by"], rel["blocked_by"]) == (False, False, True)
    await api(a, "POST", f"/api/v1/accounts/{bob_at_a}/follow", alice, expect=403)
    followers = await api(a, "GET", f"/api/v1/accounts/{await local_id(a, 'alice')}/followers",
                          alice)
    assert followers == []


async def test_a_blocked_actors_follow_is_rejected(instances: Start) -> None:
    a, b = await instances("a.test", "b.test")
    alice, bob = await make_token(a.svc, "alice"), await make_token(b.svc, "bob")
    bob_at_a = (await resolve(a, alice, "bob@b.test"))["id"]
    alice_at_b = (await resolve(b, bob, "alice@a.test"))["id"]
    # bob's block never reached a.test (recorded on b.test only), so alice still tries.
    await b.svc.storage.write(rel_store.put_block, account_id=int(await local_id(b, "bob")),
                              target_id=int(alice_at_b), uri="http://b.test/users/bob#b/1",
                              now=datetime.now(UTC))
    rel = await api(a, "POST", f"/api/v1/accounts/{bob_at_a}/follow", alice)
    assert rel["requested"] is True
    await settle(a, b)
    rel = await relationship(a, alice, bob_at_a)
    assert rel["requested"] is False and rel["following"] is False
    assert await b.svc.storage.read(
        lambda db: db.execute("SELECT count(*) FROM follows").fetchone()[0]) == 0


async def test_profile_update_reaches_followers(instances: Start) -> None:
    a, b = await instances("a.test", "b.test")
    alice, bob, _, alice_at_b = await follow_each_other(a, b)
    await api(a, "PATCH", "/api/v1/accounts/update_credentials", alice,
              json={"display_name": "Alice de A", "note": "Bonjour\nhttps://a.test/about",
                    "locked": True})
    await settle(a, b)
    seen = await api(b, "GET", f"/api/v1/accounts/{alice_at_b}", bob)
    assert seen["display_name"] == "Alice de A" and seen["locked"] is True
    # Sanitised on the way in (nh3 writes <br>, not <br />).
    assert seen["note"].startswith("<p>Bonjour<br>") and 'href="https://a.test/about"' in \
        seen["note"]
    # Nothing changed: nothing is sent.
    before = await a.svc.storage.read(
        lambda db: db.execute("SELECT count(*) FROM jobs").fetchone()[0])
    await api(a, "PATCH", "/api/v1/accounts/update_credentials", alice,
              json={"display_name": "Alice de A"})
    assert await a.svc.storage.read(
        lambda db: db.execute("SELECT count(*) FROM jobs").fetchone()[0]) == before
