"""The hardened inbox over real HTTP: every bad input gets its status code and nothing is
stored; accepted activities are persisted before the 202 and survive a restart."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from fediverse_mu.app import create_app
from fediverse_mu.appkeys import federation_key, worker_key
from fediverse_mu.domain import Account
from fediverse_mu.services import following, jobs
from fediverse_mu.storage import inbox as inbox_store
from tests.conftest import Instance, make_user, settle

Start = Callable[..., Awaitable[list[Instance]]]
AS2 = "application/activity+json"


async def signed_post(sender: Instance, signer: Account, url: str, body: bytes,
                      content_type: str = AS2) -> int:
    """POST ``body`` to ``url`` from ``sender``'s transport, signed as ``signer``."""
    fed = sender.app[federation_key]
    response = await fed.transport.post(url, body, headers={"Content-Type": content_type},
                                        sign=await fed.signer(signer))
    return response.status


def follow_body(actor: str, target: str, activity_id: str | None = None) -> bytes:
    return json.dumps({"@context": "https://www.w3.org/ns/activitystreams",
                       "id": activity_id or f"{actor}#follows/1", "type": "Follow",
                       "actor": actor, "object": target}).encode()


async def stored(inst: Instance) -> tuple[int, int]:
    """(inbox items, pending jobs) on an instance."""
    items = await inst.svc.storage.read(inbox_store.count_inbox_items)
    return items, (await jobs.queue_counts(inst.svc))["pending"]


@pytest.fixture
async def pair(instances: Start) -> tuple[Instance, Instance, Account, Account]:
    a, b = await instances("a.test", "b.test")
    alice = (await make_user(a.svc, "alice")).account
    bob = (await make_user(b.svc, "bob")).account
    return a, b, alice, bob


async def test_a_signed_follow_is_stored_before_the_202(
        pair: tuple[Instance, Instance, Account, Account]) -> None:
    a, b, alice, bob = pair
    status = await signed_post(b, bob, "http://a.test/users/alice/inbox",
                               follow_body(bob.actor_uri, alice.actor_uri))
    assert status == 202
    assert await stored(a) == (1, 1)  # persisted with its job, not yet processed
    assert await following.follower_uris(a.svc, alice) == []
    await settle(a, b)
    assert await following.follower_uris(a.svc, alice) == [bob.actor_uri]


async def test_a_large_but_allowed_body_is_read_whole(
        pair: tuple[Instance, Instance, Account, Account]) -> None:
    a, b, alice, bob = pair
    follow = json.loads(follow_body(bob.actor_uri, alice.actor_uri))
    follow["padding"] = ["x" * 90_000] * 10  # ~900 KB: arrives in many chunks
    status = await signed_post(b, bob, "http://a.test/inbox", json.dumps(follow).encode())
    assert status == 202
    assert await stored(a) == (1, 1)


async def test_duplicates_are_processed_once(
        pair: tuple[Instance, Instance, Account, Account]) -> None:
    a, b, alice, bob = pair
    body = follow_body(bob.actor_uri, alice.actor_uri)
    assert await signed_post(b, bob, "http://a.test/inbox", body) == 202
    assert await signed_post(b, bob, "http://a.test/inbox", body) == 202
    assert await stored(a) == (1, 1)


async def test_accepted_activity_survives_a_restart_before_processing(
        pair: tuple[Instance, Instance, Account, Account]) -> None:
    a, b, alice, bob = pair
    assert await signed_post(b, bob, "http://a.test/inbox",
                             follow_body(bob.actor_uri, alice.actor_uri)) == 202
    # The process dies after the 202: a new app on the same data folder picks the work up.
    restarted = create_app(a.config, start_worker=False)
    from aiohttp import web

    runner = web.AppRunner(restarted)
    await runner.setup()
    try:
        assert await restarted[worker_key].run_until_idle() >= 1
    finally:
        await runner.cleanup()
    assert await following.follower_uris(a.svc, alice) == [bob.actor_uri]


async def _post_raw(a: Instance, body: bytes, headers: dict[str, str]) -> int:
    async with a.http.post("http://a.test/inbox", data=body, headers=headers) as response:
        return response.status


async def test_oversized_body_is_413_before_parsing(
        pair: tuple[Instance, Instance, Account, Account]) -> None:
    a, b, _alice, bob = pair
    huge = b'{"a": "' + b"x" * (1024 * 1024 + 10) + b'"}'
    assert await _post_raw(a, huge, {"Content-Type": AS2}) == 413
    assert await signed_post(b, bob, "http://a.test/inbox", huge) == 413
    assert await stored(a) == (0, 0)


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded",
                                          "application/ld+json", "text/html"])
async def test_non_as2_content_type_is_415(
        pair: tuple[Instance, Instance, Account, Account], content_type: str) -> None:
    a, b, alice, bob = pair
    status = await signed_post(b, bob, "http://a.test/inbox",
                               follow_body(bob.actor_uri, alice.actor_uri), content_type)
    assert status == 415
    assert await stored(a) == (0, 0)


@pytest.mark.parametrize("body", [
    b"{not json", b"[]", b'"a string"', b"\xff\xfe", b'{"a": NaN}',
    b"[" * 100_000 + b"]" * 100_000,
    b'{"type": "Follow"}',  # no id, no actor
    json.dumps({"id": "javascript:alert(1)", "type": "Follow", "actor": "http://b.test/users/bob",
                "object": "http://a.test/users/alice"}).encode(),
    json.dumps({"id": "http://b.test/1", "type": "Follow", "actor": {"name": "no id"},
                "object": "http://a.test/users/alice"}).encode(),
])
async def test_malformed_json_or_schema_is_400(
        pair: tuple[Instance, Instance, Account, Account], body: bytes) -> None:
    a, b, _alice, bob = pair
    assert await signed_post(b, bob, "http://a.test/inbox", body) == 400
    assert await stored(a) == (0, 0)


async def test_unsigned_and_badly_signed_requests_are_401(
        pair: tuple[Instance, Instance, Account, Account]) -> None:
    a, b, alice, bob = pair
    body = follow_body(bob.actor_uri, alice.actor_uri)
    assert await _post_raw(a, body, {"Content-Type": AS2}) == 401
    # A real signature over another body: the digest does not match.
    fed = b.app[federation_key]
    sign = await fed.signer(bob)
    headers = sign("POST", "http://a.test/inbox", {"Content-Type": AS2}, b"{}")
    assert await _post_raw(a, body, {**headers, "Content-Type": AS2}) == 401
    # A signature made for another path.
    headers = sign("POST", "http://a.test/users/alice/inbox", {"Content-Type": AS2}, body)
    assert await _post_raw(a, body, {**headers, "Content-Type": AS2}) == 401
    assert await stored(a) == (0, 0)


async def test_spoofed_actor_on_another_host_is_401(
        instances: Start) -> None:
    a, b, c = await instances("a.test", "b.test", "c.test")
    alice = (await make_user(a.svc, "alice")).account
    bob = (await make_user(b.svc, "bob")).account
    await make_user(c.svc, "carol")
    # bob (b.test) signs an activity claiming to come from carol on c.test.
    body = follow_body("http://c.test/users/carol", alice.actor_uri, "http://c.test/x")
    assert await signed_post(b, bob, "http://a.test/inbox", body) == 401
    assert await stored(a) == (0, 0)


async def test_attributed_to_must_be_the_actor(
        pair: tuple[Instance, Instance, Account, Account]) -> None:
    a, b, _alice, bob = pair
    note: dict[str, Any] = {
        "id": "http://b.test/users/bob/statuses/1", "type": "Note", "content": "hi",
        "attributedTo": "http://b.test/users/someone_else",
        "to": ["https://www.w3.org/ns/activitystreams#Public"]}
    create = {"id": "http://b.test/users/bob/statuses/1/activity", "type": "Create",
              "actor": bob.actor_uri, "object": note,
              "to": ["https://www.w3.org/ns/activitystreams#Public"]}
    assert await signed_post(b, bob, "http://a.test/inbox", json.dumps(create).encode()) == 400
    assert await stored(a) == (0, 0)


async def test_self_delete_of_an_unknown_actor_is_202_without_fetch(
        pair: tuple[Instance, Instance, Account, Account]) -> None:
    a, _b, _alice, _bob = pair
    body = json.dumps({"id": "http://b.test/users/ghost#delete", "type": "Delete",
                       "actor": "http://b.test/users/ghost",
                       "object": "http://b.test/users/ghost"}).encode()
    # Unsigned on purpose: the account is gone, its key cannot be fetched any more.
    assert await _post_raw(a, body, {"Content-Type": AS2}) == 202
    assert await stored(a) == (0, 0)
