"""Following across instances over real HTTP: WebFinger, actor fetch, signed delivery, inbox
verification and processing, Accept, manual approval, Undo."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fediverse_mu.activitypub.actors import parse_actor, render_actor
from fediverse_mu.appkeys import federation_key
from fediverse_mu.domain import FollowState
from fediverse_mu.services import accounts, following, jobs
from fediverse_mu.storage import inbox as inbox_store
from tests.conftest import FakeResolver, Instance, make_user, settle

Start = Callable[..., Awaitable[list[Instance]]]


async def test_webfinger_and_actor_document(instances: Start) -> None:
    (a,) = await instances("a.test")
    await make_user(a.svc, "alice")
    status, jrd = await a.get_json("/.well-known/webfinger?resource=acct:alice@a.test")
    assert status == 200
    assert jrd["subject"] == "acct:alice@a.test"
    self_link = next(link for link in jrd["links"] if link["rel"] == "self")
    assert self_link == {"rel": "self", "type": "application/activity+json",
                         "href": "http://a.test/users/alice"}
    status, actor = await a.get_json("/users/alice",
                                     headers={"Accept": "application/activity+json"})
    assert status == 200
    assert actor["type"] == "Person" and actor["preferredUsername"] == "alice"
    assert actor["inbox"] == "http://a.test/users/alice/inbox"
    assert actor["endpoints"]["sharedInbox"] == "http://a.test/inbox"
    assert actor["publicKey"]["id"] == "http://a.test/users/alice#main-key"
    assert actor["publicKey"]["owner"] == actor["id"]
    assert "BEGIN PUBLIC KEY" in actor["publicKey"]["publicKeyPem"]
    status, by_url = await a.get_json(
        "/.well-known/webfinger?resource=http://a.test/users/alice")
    assert status == 200 and by_url["subject"] == "acct:alice@a.test"
    for resource in ("acct:bob@a.test", "acct:alice@b.test", "http://b.test/users/alice"):
        status, _ = await a.get_json(f"/.well-known/webfinger?resource={resource}")
        assert status == 404
    status, _ = await a.get_json("/.well-known/webfinger")
    assert status == 422


async def test_browsers_get_the_html_profile(instances: Start) -> None:
    (a,) = await instances("a.test")
    await make_user(a.svc, "alice")
    async with a.http.get("http://a.test/users/alice", headers={"Accept": "text/html"}) as r:
        assert r.status == 200 and r.content_type == "text/html"
        assert "@alice@a.test" in await r.text()
        assert str(r.url) == "http://a.test/@alice"


async def test_follow_is_accepted_across_instances(instances: Start) -> None:
    a, b = await instances("a.test", "b.test")
    alice = (await make_user(a.svc, "alice")).account
    bob = (await make_user(b.svc, "bob")).account
    remote_bob = await a.app[federation_key].resolve_handle("bob@b.test")
    assert remote_bob.actor_uri == "http://b.test/users/bob" and not remote_bob.is_local
    await following.follow(a.svc, alice, remote_bob)
    assert await settle(a, b) >= 3  # Follow delivery, inbox processing, Accept delivery, ...
    assert await following.follower_uris(b.svc, bob) == ["http://a.test/users/alice"]
    follow = await following.get_follow(a.svc, alice, remote_bob)
    assert follow is not None and follow.state is FollowState.ACCEPTED
    status, collection = await b.get_json("/users/bob/followers")
    assert status == 200 and collection["orderedItems"] == ["http://a.test/users/alice"]
    status, collection = await a.get_json("/users/alice/following")
    assert collection["totalItems"] == 1


async def test_locked_account_keeps_the_follow_pending(instances: Start) -> None:
    a, b = await instances("a.test", "b.test")
    alice = (await make_user(a.svc, "alice")).account
    bob = (await make_user(b.svc, "bob")).account
    await b.svc.storage.write(
        lambda db: db.execute("UPDATE accounts SET locked = 1 WHERE id = ?", [bob.id]))
    remote_bob = await a.app[federation_key].resolve_handle("bob@b.test")
    await following.follow(a.svc, alice, remote_bob)
    await settle(a, b)
    assert await following.follower_uris(b.svc, bob) == []
    follow = await following.get_follow(a.svc, alice, remote_bob)
    assert follow is not None and follow.state is FollowState.PENDING


async def test_unfollow_reaches_the_other_side(instances: Start) -> None:
    a, b = await instances("a.test", "b.test")
    alice = (await make_user(a.svc, "alice")).account
    bob = (await make_user(b.svc, "bob")).account
    remote_bob = await a.app[federation_key].resolve_handle("bob@b.test")
    await following.follow(a.svc, alice, remote_bob)
    await settle(a, b)
    assert await following.unfollow(a.svc, alice, remote_bob) is True
    await settle(a, b)
    assert await following.follower_uris(b.svc, bob) == []
    assert await following.get_follow(a.svc, alice, remote_bob) is None


async def test_a_peer_that_is_down_gets_the_follow_later(instances: Start,
                                                        resolver: FakeResolver) -> None:
    a, b = await instances("a.test", "b.test")
    alice = (await make_user(a.svc, "alice")).account
    bob = (await make_user(b.svc, "bob")).account
    # a already knows bob (seen earlier), then b goes down: nothing listens on port 1.
    document = render_actor(bob, base_url=b.base_url)
    remote_bob = await accounts.store_remote_actor(
        a.svc, parse_actor(document, fetched_from=bob.actor_uri), from_origin=True)
    b_port = resolver.ports["b.test"]
    resolver.ports["b.test"] = 1
    await following.follow(a.svc, alice, remote_bob)
    await settle(a, b)
    assert await following.follower_uris(b.svc, bob) == []
    counts = await jobs.queue_counts(a.svc)
    assert counts["pending"] == 1  # kept for a retry, not lost
    resolver.ports["b.test"] = b_port  # b is back
    a.app[federation_key].transport.clear_dns_cache()
    later = a.svc.clock() + 3600
    a.worker.clock = lambda: later  # the retry is due
    await settle(a, b)
    assert await following.follower_uris(b.svc, bob) == ["http://a.test/users/alice"]
    assert await b.svc.storage.read(inbox_store.count_inbox_items) == 1
