"""Who may see a members-only group's members: its followers collection lists them only to a
member or a moderator, identified by a signed fetch over real HTTP; anyone else (unsigned,
signed by a non-member) gets the count alone and a 403 for the pages, and a signature that
does not verify is refused. The Mastodon API's followers list of the group follows the same
rule. A public group's collection stays as it was."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from fediverse_mu.appkeys import federation_key
from fediverse_mu.federation.client import FetchError
from fediverse_mu.services import following, groups
from tests.conftest import Instance, auth, make_token, make_user, ok, settle

Start = Callable[..., Awaitable[list[Instance]]]
AS2 = "application/activity+json"
FOLLOWERS = "http://a.test/users/ecoute/followers"


async def _start(instances: Start, *, members_only: bool) -> tuple[Instance, Instance, Instance]:
    a, b, c = await instances("a.test", "b.test", "c.test")
    alice = (await make_user(a.svc, "alice")).account
    bob = (await make_user(b.svc, "bob")).account
    await make_user(c.svc, "carol")
    await groups.create_group(a.svc, "ecoute", title="Écoute", creator=alice,
                              members_only=members_only)
    await following.follow(b.svc, bob, await b.app[federation_key].resolve_handle(
        "ecoute@a.test"))
    await settle(a, b, c)
    return a, b, c


async def test_the_members_are_listed_to_members_and_moderators_only(
        instances: Start) -> None:
    a, b, c = await _start(instances, members_only=True)
    group = await groups.get_group(a.svc, "ecoute")
    assert await following.follower_uris(a.svc, group.account) == ["http://b.test/users/bob"]
    totals_only = {"@context": "https://www.w3.org/ns/activitystreams", "id": FOLLOWERS,
                   "type": "OrderedCollection", "totalItems": 1}

    # Unsigned: the count, nothing else; the pages are refused.
    status, document = await a.get_json("/users/ecoute/followers", headers={"Accept": AS2})
    assert status == 200 and document == totals_only
    status, document = await a.get_json("/users/ecoute/followers?page=1",
                                        headers={"Accept": AS2})
    assert status == 403 and "members" in document["error"]

    # Signed by someone who is not a member: the same.
    dora = (await make_user(c.svc, "dora")).account
    fetch_c = c.app[federation_key].fetch
    assert await fetch_c(FOLLOWERS, signer=dora) == totals_only
    with pytest.raises(FetchError, match="403"):
        await fetch_c(f"{FOLLOWERS}?page=1", signer=dora)
    # Signed by the member's server (its instance actor): not a member either.
    assert await b.app[federation_key].fetch(FOLLOWERS) == totals_only

    # A signature that does not verify is refused, not taken as anonymous.
    status, document = await a.get_json("/users/ecoute/followers", headers={
        "Accept": AS2, "Signature": 'keyId="http://b.test/users/bob#main-key",'
        'algorithm="rsa-sha256",headers="(request-target) host date",signature="Zm9v"',
        "Date": "Thu, 01 Jan 2099 00:00:00 GMT"})
    assert status == 401 and "orderedItems" not in document

    # Signed by a member: the list.
    member = await b.app[federation_key].resolve_handle("bob@b.test")
    listed = await b.app[federation_key].fetch(FOLLOWERS, signer=member)
    assert listed["orderedItems"] == ["http://b.test/users/bob"]
    page = await b.app[federation_key].fetch(f"{FOLLOWERS}?page=1", signer=member)
    assert page["orderedItems"] == ["http://b.test/users/bob"]

    # A remote moderator (not a member) may list them too.
    alice = await a.app[federation_key].resolve_handle("alice@a.test")
    remote = await a.app[federation_key].resolve_handle("dora@c.test")
    await groups.add_moderator(a.svc, alice, group, remote)
    listed = await fetch_c(FOLLOWERS, signer=dora)
    assert listed["orderedItems"] == ["http://b.test/users/bob"]


async def test_the_mastodon_followers_list_of_a_members_only_group(instances: Start) -> None:
    a, _, _ = await _start(instances, members_only=True)
    group = await groups.get_group(a.svc, "ecoute")
    path = f"{a.base_url}/api/v1/accounts/{group.account.id}/followers"
    for token, expected in ((await make_token(a.svc, "anna"), []),
                            (await make_token(a.svc, "alice"), ["bob@b.test"])):
        async with a.http.get(path, headers=auth(token)) as response:
            assert [x["acct"] for x in await ok(response)] == expected
    async with a.http.get(path) as response:  # anonymous
        assert await ok(response) == []
    async with a.http.get(f"{a.base_url}/api/v1/accounts/{group.account.id}") as response:
        assert (await ok(response))["followers_count"] == 1  # the count stays public


async def test_a_public_group_lists_its_members(instances: Start) -> None:
    a, _, _ = await _start(instances, members_only=False)
    status, document = await a.get_json("/users/ecoute/followers", headers={"Accept": AS2})
    assert status == 200 and document["orderedItems"] == ["http://b.test/users/bob"]
