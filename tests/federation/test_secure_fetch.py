"""Authorized fetch (secure mode) over real HTTP: AS2 documents need a valid HTTP signature
(draft-cavage or RFC 9421) from a key that can be fetched, discovery and the instance actor
stay public, HTML stays public, and two instances in secure mode still federate."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fediverse_mu.appkeys import federation_key
from fediverse_mu.domain import FollowState
from fediverse_mu.domain.peers import SignatureScheme
from fediverse_mu.services import accounts, following
from tests.conftest import Instance, make_user, settle

Start = Callable[..., Awaitable[list[Instance]]]
AS2 = "application/activity+json"


async def test_two_instances_in_secure_mode_federate(instances: Start) -> None:
    a, b = await instances("a.test", "b.test", authorized_fetch=True)
    alice = (await make_user(a.svc, "alice")).account
    bob = (await make_user(b.svc, "bob")).account
    remote_bob = await a.app[federation_key].resolve_handle("bob@b.test")  # a signed fetch
    await following.follow(a.svc, alice, remote_bob)
    await settle(a, b)
    assert await following.follower_uris(b.svc, bob) == [alice.actor_uri]
    follow = await following.get_follow(a.svc, alice, remote_bob)
    assert follow is not None and follow.state is FollowState.ACCEPTED


async def test_unsigned_fetches_of_as2_documents_are_refused(instances: Start) -> None:
    (a,) = await instances("a.test", authorized_fetch=True)
    await make_user(a.svc, "alice")
    known_before = await accounts.get_account_by_uri(a.svc, "http://b.test/actor")
    for path, accept in [("/users/alice", AS2),
                         ("/users/alice", 'application/ld+json; profile="x"'),
                         ("/users/alice/followers", AS2),
                         ("/users/alice/followers", ""),  # AS2 whatever the Accept
                         ("/users/alice/following?page=1", "application/json"),
                         ("/users/alice/outbox", "*/*"),
                         ("/users/alice/collections/featured", AS2)]:
        async with a.http.get(f"http://a.test{path}", headers={"Accept": accept}) as response:
            assert response.status == 401, (path, accept)
            assert response.content_type == "application/json"
            error = (await response.json())["error"]
            assert error.startswith("Request not signed"), error
            assert response.headers["WWW-Authenticate"].startswith("Signature")
    assert await accounts.get_account_by_uri(a.svc, "http://b.test/actor") == known_before


async def test_discovery_the_instance_actor_and_html_stay_public(instances: Start) -> None:
    (a,) = await instances("a.test", authorized_fetch=True)
    await make_user(a.svc, "alice")
    status, actor = await a.get_json("/actor", headers={"Accept": AS2})
    assert status == 200 and actor["type"] == "Application"
    status, jrd = await a.get_json("/.well-known/webfinger?resource=acct:alice@a.test")
    assert status == 200 and jrd["subject"] == "acct:alice@a.test"
    status, links = await a.get_json("/.well-known/nodeinfo")
    assert status == 200
    status, _ = await a.get_json(links["links"][0]["href"].removeprefix("http://a.test"))
    assert status == 200
    async with a.http.get("http://a.test/.well-known/host-meta") as response:
        assert response.status == 200
    async with a.http.get("http://a.test/@alice", headers={"Accept": "text/html"}) as page:
        assert page.status == 200 and page.content_type == "text/html"
    async with a.http.get("http://a.test/users/alice", headers={"Accept": "text/html"},
                          allow_redirects=False) as redirect:
        assert redirect.status == 302 and redirect.headers["Location"] == "http://a.test/@alice"


async def test_signed_fetches_are_served_with_either_scheme(instances: Start) -> None:
    a, b = await instances("a.test", "b.test", authorized_fetch=True)
    await make_user(a.svc, "alice")
    bob = (await make_user(b.svc, "bob")).account
    fed = b.app[federation_key]
    schemes: tuple[SignatureScheme, ...] = ("cavage", "rfc9421")
    for scheme in schemes:
        for path in ("/users/alice", "/users/alice/followers"):
            response = await fed.transport.get(
                f"http://a.test{path}", headers={"Accept": AS2},
                sign=await fed.signer(bob, scheme))
            assert response.status == 200, (scheme, path, response.body)
            assert response.headers["Content-Type"].startswith(AS2)
    assert await accounts.get_account_by_uri(a.svc, bob.actor_uri) is not None  # key fetched


async def test_bad_signatures_are_refused(instances: Start) -> None:
    a, b = await instances("a.test", "b.test", authorized_fetch=True)
    await make_user(a.svc, "alice")
    bob = (await make_user(b.svc, "bob")).account
    fed = b.app[federation_key]
    sign = await fed.signer(bob)

    def signed(url: str) -> dict[str, str]:
        extra = sign("GET", url, {"Accept": AS2}, None)
        assert isinstance(extra, dict)
        return {"Accept": AS2, **extra}

    # Signed for one document, replayed for another.
    headers = signed("http://a.test/users/alice/following")
    async with a.http.get("http://a.test/users/alice", headers=headers) as response:
        assert response.status == 401
        assert "does not verify" in (await response.json())["error"]
    # Signed with a key nobody can fetch.
    headers = signed("http://a.test/users/alice")
    headers["Signature"] = headers["Signature"].replace("http://b.test/users/bob",
                                                       "http://c.test/users/mallory")
    async with a.http.get("http://a.test/users/alice", headers=headers) as response:
        assert response.status == 401
        assert "cannot fetch the signing key" in (await response.json())["error"]
    assert await accounts.get_account_by_uri(a.svc, "http://c.test/users/mallory") is None


async def test_without_secure_mode_fetches_need_no_signature(instances: Start) -> None:
    (a,) = await instances("a.test")
    await make_user(a.svc, "alice")
    status, actor = await a.get_json("/users/alice", headers={"Accept": AS2})
    assert status == 200 and actor["id"] == "http://a.test/users/alice"
