"""A post by an author with many local followers reaches their home feeds through a durable
``home.fanout`` job (services/fanout.py), not in the post's own transaction: the author and the
mentioned have it at once; followers get it when the job runs, in their home timeline, their
lists (an exclusive list keeps it out of home), their ``user`` stream (once) and, for
``notify`` subscribers, a ``status`` notification. The job survives until it runs (it is in
the post's transaction), honours an unfollow or a delete made meanwhile, and batches posts.
``INLINE_FOLLOWERS`` is lowered here so that a handful of residents is "many"."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from fediverse_mu.appkeys import worker_key
from fediverse_mu.domain import FollowState
from fediverse_mu.services import accounts, fanout
from fediverse_mu.services.context import Services
from fediverse_mu.storage import follows as follow_store
from tests.conftest import auth, count, make_token, ok, post
from tests.web.test_accounts_api import remote_account
from tests.web.test_streaming import account_id, event, sse_event, synced

GUARD = 10


@pytest.fixture(autouse=True)
def few_is_many(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two local followers are already "many": the post goes through the job."""
    monkeypatch.setattr(fanout, "INLINE_FOLLOWERS", 1)


async def _run_jobs(client: TestClient) -> int:
    ran: int = await client.server.app[worker_key].run_until_idle()
    return ran


async def _home_ids(client: TestClient, token: str) -> list[str]:
    page = await ok(await client.get("/api/v1/timelines/home", headers=auth(token)))
    return [s["id"] for s in page]


async def _follow(client: TestClient, svc: Services, token: str, whom: str,
                  **options: Any) -> None:
    await ok(await client.post(f"/api/v1/accounts/{await account_id(svc, whom)}/follow",
                               json=options, headers=auth(token)))


async def test_followers_get_the_post_from_the_job(client: TestClient, svc: Services) -> None:
    alice = await make_token(svc, "alice")
    bob, carol, dan, erin = [await make_token(svc, n) for n in ("bob", "carol", "dan", "erin")]
    await _follow(client, svc, bob, "alice")
    await _follow(client, svc, carol, "alice", notify=True)
    await _follow(client, svc, dan, "alice")
    await _follow(client, svc, erin, "alice")
    # dan reads alice in an exclusive list: it stays out of his home feed.
    listed = await ok(await client.post("/api/v1/lists", headers=auth(dan),
                                        json={"title": "Alice", "exclusive": True}))
    await ok(await client.post(f"/api/v1/lists/{listed['id']}/accounts", headers=auth(dan),
                               json={"account_ids": [await account_id(svc, "alice")]}))
    await _run_jobs(client)
    async with client.ws_connect("/api/v1/streaming", headers=auth(bob)) as ws:
        await ws.send_json({"type": "subscribe", "stream": "user"})
        await synced(ws)

        status = await post(client, alice, status="Ça bouge au fablab, @erin !")
        # In the post's transaction: the author, the mentioned, and one job.
        assert status["id"] in await _home_ids(client, alice)
        assert status["id"] in await _home_ids(client, erin)
        assert status["id"] not in await _home_ids(client, bob)
        assert await count(svc, "SELECT count(*) FROM jobs WHERE kind = ? AND state = 'pending'",
                           fanout.FANOUT_JOB) == 1

        assert await _run_jobs(client) >= 1
        assert status["id"] in await _home_ids(client, bob)
        assert status["id"] in await _home_ids(client, carol)
        assert status["id"] not in await _home_ids(client, dan)
        in_list = await ok(await client.get(f"/api/v1/timelines/list/{listed['id']}",
                                            headers=auth(dan)))
        assert [s["id"] for s in in_list] == [status["id"]]
        got = await event(ws)
        assert got["event"] == "update" and got["stream"] == ["user"]
        assert json.loads(got["payload"])["id"] == status["id"]
        await synced(ws)  # and nothing more: the update came once

    # carol asked to be notified; erin was mentioned (a mention, not a second "status").
    carol_notes = await ok(await client.get("/api/v1/notifications", headers=auth(carol)))
    assert [(n["type"], n["status"]["id"]) for n in carol_notes] == [("status", status["id"])]
    erin_notes = await ok(await client.get("/api/v1/notifications", headers=auth(erin)))
    assert [n["type"] for n in erin_notes if n["type"] != "follow"] == ["mention"]
    # Everyone has it exactly once.
    assert await count(svc, "SELECT count(*) FROM home_feed WHERE status_id = ?",
                       int(status["id"])) == 4  # alice, erin, bob, carol


async def _alice_bob_carol(client: TestClient, svc: Services) -> tuple[str, str, str]:
    """Tokens of alice and of her two followers, bob and carol (so "many" followers)."""
    alice = await make_token(svc, "alice")
    bob, carol = await make_token(svc, "bob"), await make_token(svc, "carol")
    await _follow(client, svc, bob, "alice")
    await _follow(client, svc, carol, "alice")
    await _run_jobs(client)
    return alice, bob, carol


async def test_an_unfollow_or_a_delete_before_the_job_is_honoured(client: TestClient,
                                                                svc: Services) -> None:
    alice, bob, carol = await _alice_bob_carol(client, svc)

    kept = await post(client, alice, status="Premier ressenti")
    gone = await post(client, alice, status="Effacé aussitôt")
    await ok(await client.delete(f"/api/v1/statuses/{gone['id']}", headers=auth(alice)))
    await ok(await client.post(f"/api/v1/accounts/{await account_id(svc, 'alice')}/unfollow",
                               headers=auth(carol)))
    await _run_jobs(client)
    assert await _home_ids(client, bob) == [kept["id"]]
    assert await _home_ids(client, carol) == []
    assert await count(svc, "SELECT count(*) FROM home_feed WHERE status_id = ?",
                       int(gone["id"])) == 0


async def test_concurrent_posts_are_fanned_out_together(client: TestClient,
                                                        svc: Services) -> None:
    authors = [await make_token(svc, n) for n in ("alice", "bob")]
    readers = [await make_token(svc, n) for n in ("carol", "dan", "erin")]
    for reader in readers:
        for name in ("alice", "bob"):
            await _follow(client, svc, reader, name)
    await _run_jobs(client)
    posted = await asyncio.gather(*(post(client, authors[n % 2], status=f"post {n}")
                                    for n in range(6)))
    await _run_jobs(client)
    expected = sorted((s["id"] for s in posted), key=int, reverse=True)
    for reader in readers:
        assert await _home_ids(client, reader) == expected
    assert await count(svc, "SELECT count(*) FROM jobs WHERE kind = ? AND state = 'done'",
                       fanout.FANOUT_JOB) == 6


async def test_few_followers_still_get_it_in_the_same_transaction(
        client: TestClient, svc: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fanout, "INLINE_FOLLOWERS", 20)
    alice, bob = await make_token(svc, "alice"), await make_token(svc, "bob")
    await _follow(client, svc, bob, "alice")
    await _run_jobs(client)
    status = await post(client, alice, status="Tout de suite")
    assert await _home_ids(client, bob) == [status["id"]]
    assert await count(svc, "SELECT count(*) FROM jobs WHERE kind = ?", fanout.FANOUT_JOB) == 0


async def test_remote_followers_do_not_count(client: TestClient, svc: Services) -> None:
    """Only local followers have home feeds here: an author followed from elsewhere by
    many, and here by one, still has the post in its one follower's feed at once."""
    alice, bob = await make_token(svc, "alice"), await make_token(svc, "bob")
    await _follow(client, svc, bob, "alice")
    author = await accounts.get_local_account(svc, "alice")
    assert author is not None
    for n in range(3):
        remote = await remote_account(svc, f"zoe{n}", f"r{n}.test")
        await svc.storage.write(follow_store.put_follow, follower_id=remote.id,
                                followee_id=author.id, state=FollowState.ACCEPTED,
                                uri=f"http://r{n}.test/f/1", now=datetime.now(UTC))
    await _run_jobs(client)
    status = await post(client, alice, status="Pour tout le monde")
    assert await _home_ids(client, bob) == [status["id"]]  # before any job ran
    assert await count(svc, "SELECT count(*) FROM jobs WHERE kind = ?", fanout.FANOUT_JOB) == 0


async def test_sse_user_stream_gets_the_fanned_out_post(client: TestClient,
                                                        svc: Services) -> None:
    alice, bob, _ = await _alice_bob_carol(client, svc)
    timeout = aiohttp.ClientTimeout(total=GUARD)
    async with client.get("/api/v1/streaming/user", headers=auth(bob),
                          timeout=timeout) as stream:
        assert stream.status == 200
        status = await post(client, alice, status="Par le flux SSE")
        await _run_jobs(client)
        name, data = await sse_event(stream)
        assert name == "update" and json.loads(data)["id"] == status["id"]
