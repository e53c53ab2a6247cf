"""The inbox's group commit under concurrency, over real HTTP: many activities arriving at
once are each stored exactly once with their job before their 202, duplicates included in
the same batch, and each sender still gets its own answer."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable

from fediverse_mu.services import following
from tests.conftest import Instance, make_user, settle
from tests.federation.test_inbox import follow_body, signed_post, stored

Start = Callable[..., Awaitable[list[Instance]]]


async def test_concurrent_activities_are_each_stored_once(instances: Start) -> None:
    a, b = await instances("a.test", "b.test")
    alice = (await make_user(a.svc, "alice")).account
    bob = (await make_user(b.svc, "bob")).account
    bodies = [follow_body(bob.actor_uri, alice.actor_uri, f"{bob.actor_uri}#follows/{i}")
              for i in range(30)]
    statuses = await asyncio.gather(
        *(signed_post(b, bob, "http://a.test/inbox", body) for body in bodies + bodies[:10]))
    assert statuses == [202] * 40
    assert await stored(a) == (30, 30)
    await settle(a, b)
    assert await following.follower_uris(a.svc, alice) == [bob.actor_uri]


async def test_a_bad_request_in_a_busy_moment_gets_its_own_error(instances: Start) -> None:
    a, b = await instances("a.test", "b.test")
    alice = (await make_user(a.svc, "alice")).account
    bob = (await make_user(b.svc, "bob")).account
    good = [follow_body(bob.actor_uri, alice.actor_uri, f"{bob.actor_uri}#follows/{i}")
            for i in range(10)]
    forged = json.dumps({**json.loads(good[0]), "id": "http://c.test/x",
                         "actor": "http://c.test/users/mallory"}).encode()
    statuses = await asyncio.gather(
        *(signed_post(b, bob, "http://a.test/inbox", body) for body in [*good, forged]))
    assert statuses == [202] * 10 + [401]
    assert await stored(a) == (10, 10)
