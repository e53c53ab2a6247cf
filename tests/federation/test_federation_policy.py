"""The federation policy end to end between in-process instances over real HTTP: a suspended
server's Follow is refused at the inbox before anything is stored or fetched, allowlist mode
refuses servers not listed, a suspension severs existing follows and stops deliveries, a
silenced account leaves public timelines, a forwarded report arrives as a Flag and becomes a
report there, and a local suspension federates a Delete the other server applies."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from fediverse_mu.appkeys import federation_key
from fediverse_mu.domain import Account, FollowState, Role
from fediverse_mu.domain.statuses import Status
from fediverse_mu.federation.client import FetchError
from fediverse_mu.services import accounts, federation_policy, following, moderation, posting
from tests.conftest import Instance, count, make_token, make_user, settle
from tests.federation.test_block import api, resolve

Start = Callable[..., Awaitable[list[Instance]]]


async def publish(inst: Instance, author: Account, text: str) -> Status:
    """Post a public status as a local account."""
    draft = await posting.prepare(inst.svc, author, text=text, visibility="public")
    return (await posting.create_status(inst.svc, author, draft)).status


async def _stored_about(inst: Instance, domain: str) -> dict[str, int]:
    """What an instance keeps that came from ``domain``."""
    return {
        "accounts": await count(inst.svc, "SELECT count(*) FROM accounts WHERE domain = ?",
                                domain),
        "inbox": await count(inst.svc, "SELECT count(*) FROM inbox_items WHERE actor_uri LIKE ?",
                             f"http://{domain}/%"),
        "follows": await count(inst.svc, "SELECT count(*) FROM follows f JOIN accounts a"
                               " ON a.id = f.follower_id OR a.id = f.followee_id"
                               " WHERE a.domain = ?", domain),
    }


async def _last_delivery(inst: Instance) -> tuple[str, int | None, str | None]:
    def run(db: object) -> tuple[str, int | None, str | None]:
        row = db.execute("SELECT state, last_status, last_error FROM jobs"  # type: ignore[attr-defined]
                         " WHERE kind = 'deliver' ORDER BY id DESC LIMIT 1").fetchone()
        return row[0], row[1], row[2]
    return await inst.svc.storage.read(run)


async def test_a_suspended_servers_follow_is_refused_and_nothing_stored(instances: Start) -> None:
    a, b = await instances("a.test", "b.test")
    await make_user(a.svc, "alice")
    bob = (await make_user(b.svc, "bob")).account
    await federation_policy.block_domain(a.svc, None, "b.test", severity="suspend",
                                         public_comment="spam")
    alice_at_b = await b.app[federation_key].resolve_handle("alice@a.test")
    await following.follow(b.svc, bob, alice_at_b)
    await settle(a, b)
    # b's delivery got a final 403, and a kept nothing: no account, no key, no inbox item.
    state, status, error = await _last_delivery(b)
    assert (state, status) == ("dead", 403), error
    assert await _stored_about(a, "b.test") == {"accounts": 0, "inbox": 0, "follows": 0}
    follow = await following.get_follow(b.svc, bob, alice_at_b)
    assert follow is not None and follow.state is FollowState.PENDING
    # And a never looks b up either.
    with pytest.raises(FetchError, match="suspended"):
        await a.app[federation_key].resolve_handle("bob@b.test")
    assert await _stored_about(a, "b.test") == {"accounts": 0, "inbox": 0, "follows": 0}


async def test_the_inbox_refuses_before_reading_the_body(instances: Start) -> None:
    (a,) = await instances("a.test")
    await federation_policy.block_domain(a.svc, None, "evil.test", severity="suspend")
    headers = {"Content-Type": "application/activity+json",
               "Signature": 'keyId="http://evil.test/users/x#main-key",algorithm="rsa-sha256",'
                            'headers="(request-target) host date",signature="AAAA"'}
    async with a.http.post("http://a.test/inbox", data=b"not even json",
                           headers=headers) as response:
        assert response.status == 403
        assert "evil.test is suspended" in (await response.json())["error"]
    assert await count(a.svc, "SELECT count(*) FROM inbox_items") == 0


async def test_allowlist_mode_federates_only_with_listed_servers(instances: Start) -> None:
    a, b, c = await instances("a.test", "b.test", "c.test")
    alice = (await make_user(a.svc, "alice")).account
    bob = (await make_user(b.svc, "bob")).account
    carol = (await make_user(c.svc, "carol")).account
    await federation_policy.allow_domain(a.svc, None, "c.test")
    await federation_policy.set_allowlist_mode(a.svc, None, True)
    await following.follow(b.svc, bob, await b.app[federation_key].resolve_handle("alice@a.test"))
    await following.follow(c.svc, carol,
                           await c.app[federation_key].resolve_handle("alice@a.test"))
    await settle(a, b, c)
    assert await following.follower_uris(a.svc, alice) == ["http://c.test/users/carol"]
    assert (await _stored_about(a, "b.test"))["accounts"] == 0
    with pytest.raises(FetchError, match="not on this instance's list"):
        await a.app[federation_key].resolve_handle("bob@b.test")
    # Turning the mode off lets b in again.
    await federation_policy.set_allowlist_mode(a.svc, None, False)
    assert await a.app[federation_key].resolve_handle("bob@b.test") is not None


async def test_suspending_a_server_severs_follows_and_stops_delivery(instances: Start) -> None:
    a, b = await instances("a.test", "b.test")
    alice = (await make_user(a.svc, "alice")).account
    bob = (await make_user(b.svc, "bob")).account
    bob_at_a = await a.app[federation_key].resolve_handle("bob@b.test")
    await following.follow(a.svc, alice, bob_at_a)
    await following.follow(b.svc, bob, await b.app[federation_key].resolve_handle("alice@a.test"))
    await settle(a, b)
    assert (await _stored_about(a, "b.test"))["follows"] == 2
    await federation_policy.block_domain(a.svc, None, "b.test", severity="suspend")
    assert (await _stored_about(a, "b.test"))["follows"] == 0
    # A post by alice is delivered nowhere (no follower left), and a queued job is dropped.
    await publish(a, alice, "hello")
    await settle(a, b)
    assert await count(b.svc, "SELECT count(*) FROM statuses WHERE local = 0") == 0
    entries = await moderation_audit(a)
    assert ("domain_block.create", "b.test") in entries


async def moderation_audit(inst: Instance) -> list[tuple[str, str]]:
    from fediverse_mu.services import audit
    return [(e.action, e.target) for e in await audit.entries(inst.svc)]


async def test_a_silenced_account_is_absent_from_public_timelines(instances: Start) -> None:
    a, b = await instances("a.test", "b.test")
    alice_token = await make_token(a.svc, "alice")
    bob = (await make_user(b.svc, "bob")).account
    # alice follows bob so that his posts reach a.
    bob_at_a = (await resolve(a, alice_token, "bob@b.test"))["id"]
    await api(a, "POST", f"/api/v1/accounts/{bob_at_a}/follow", alice_token)
    await settle(a, b)
    await publish(b, bob, "first, seen everywhere")
    await settle(a, b)
    public = await api(a, "GET", "/api/v1/timelines/public", alice_token)
    assert [s["content"] for s in public] == ["<p>first, seen everywhere</p>"]
    await moderation.act_on_account(a.svc, None, int(bob_at_a), "silence", "too loud")
    await publish(b, bob, "second, only for followers")
    await settle(a, b)
    assert await api(a, "GET", "/api/v1/timelines/public", alice_token) == []
    assert await api(a, "GET", "/api/v1/timelines/public?remote=true", alice_token) == []
    # alice follows him: his posts still reach her home.
    home = await api(a, "GET", "/api/v1/timelines/home", alice_token)
    assert len(home) == 2
    # A silenced server has the same effect on all its accounts.
    await moderation.act_on_account(a.svc, None, int(bob_at_a), "unsilence")
    assert len(await api(a, "GET", "/api/v1/timelines/public", alice_token)) == 2
    await federation_policy.block_domain(a.svc, None, "b.test", severity="silence")
    assert await api(a, "GET", "/api/v1/timelines/public", alice_token) == []


async def test_a_forwarded_report_arrives_as_a_flag(instances: Start) -> None:
    a, b = await instances("a.test", "b.test")
    alice = (await make_user(a.svc, "alice")).account
    bob = (await make_user(b.svc, "bob")).account
    await make_user(b.svc, "marie", role=Role.MODERATOR)
    bob_at_a = await a.app[federation_key].resolve_handle("bob@b.test")
    await following.follow(a.svc, alice, bob_at_a)
    await settle(a, b)
    status = await publish(b, bob, "rude words")
    await settle(a, b)
    remote_status = await count(a.svc, "SELECT id FROM statuses WHERE uri = ?", status.uri)
    report = await moderation.create_report(a.svc, alice, bob_at_a.id,
                                            status_ids=[remote_status], comment="rude",
                                            category="other", forward=True)
    assert report.forwarded and report.uri is not None
    await settle(a, b)
    received = await moderation.list_reports(b.svc, resolved=False)
    assert len(received) == 1
    there = received[0]
    assert there.target_account_id == bob.id and there.comment == "rude"
    assert there.status_ids == (status.id,)
    reporter = await accounts.get_account(b.svc, there.account_id)
    assert reporter is not None and reporter.actor_uri == "http://a.test/actor"


async def test_a_local_suspension_federates_a_delete(instances: Start) -> None:
    a, b = await instances("a.test", "b.test")
    alice = (await make_user(a.svc, "alice")).account
    bob = (await make_user(b.svc, "bob")).account
    await following.follow(b.svc, bob, await b.app[federation_key].resolve_handle("alice@a.test"))
    await settle(a, b)
    await publish(a, alice, "before")
    await settle(a, b)
    assert await count(b.svc, "SELECT count(*) FROM statuses WHERE local = 0"
                       " AND deleted_at IS NULL") == 1
    token = await make_token(a.svc, "alice")
    await moderation.act_on_account(a.svc, None, alice.id, "suspend", "spam")
    await settle(a, b)
    # b applied the Delete: alice's post and the follow are gone there.
    assert await count(b.svc, "SELECT count(*) FROM statuses WHERE local = 0"
                       " AND deleted_at IS NULL") == 0
    assert await count(b.svc, "SELECT count(*) FROM follows") == 0
    # On a, alice can no longer use her token.
    async with a.http.get("http://a.test/api/v1/accounts/verify_credentials",
                          headers={"Authorization": f"Bearer {token}"}) as response:
        assert response.status == 401
    state = await moderation.state(a.svc, alice.id)
    assert state.suspended


async def test_a_resident_hides_a_domain(instances: Start) -> None:
    a, b = await instances("a.test", "b.test")
    alice_token = await make_token(a.svc, "alice")
    alice = await accounts.get_local_account(a.svc, "alice")
    assert alice is not None
    bob = (await make_user(b.svc, "bob")).account
    bob_at_a = (await resolve(a, alice_token, "bob@b.test"))["id"]
    await api(a, "POST", f"/api/v1/accounts/{bob_at_a}/follow", alice_token)
    await following.follow(b.svc, bob, await b.app[federation_key].resolve_handle("alice@a.test"))
    await settle(a, b)
    await publish(b, bob, "hello @alice@a.test")
    await settle(a, b)
    assert len(await api(a, "GET", "/api/v1/timelines/home", alice_token)) == 1
    assert len(await api(a, "GET", "/api/v1/notifications", alice_token)) >= 1
    await api(a, "POST", "/api/v1/domain_blocks", alice_token, data={"domain": "b.test"})
    assert await api(a, "GET", "/api/v1/timelines/home", alice_token) == []
    assert await api(a, "GET", "/api/v1/notifications", alice_token) == []
    # bob no longer follows alice here; alice still follows bob (her own choice).
    assert await following.follower_uris(a.svc, alice) == []
    await api(a, "DELETE", "/api/v1/domain_blocks", alice_token, data={"domain": "b.test"})
    assert len(await api(a, "GET", "/api/v1/timelines/home", alice_token)) == 1
