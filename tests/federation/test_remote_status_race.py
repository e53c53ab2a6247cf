"""Two inbox jobs about the same remote post, processed together by the worker: the author's
``Create`` and a boost of it (a group's ``Announce``, or a plain one). The boost's job looks
the post up (unknown), fetches it from its origin over real HTTP, and meanwhile the Create's
job stores it; the fetched copy must then resolve to the stored row, so the boost is kept and
nothing is stored twice. The interleaving is forced with two events (no sleeps)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from fediverse_mu.appkeys import federation_key
from fediverse_mu.domain import Account
from fediverse_mu.domain.statuses import IncomingNote, Status
from fediverse_mu.services import following, groups, posting
from fediverse_mu.services.context import Services
from tests.conftest import Instance, count, make_user, settle

Start = Callable[..., Awaitable[list[Instance]]]
GUARD = 30.0  # fail instead of hanging if the forced order cannot happen


class ForcedRace:
    """On ``inst``: the Create's store of ``uri`` waits until the boost's job fetches it, and
    that fetch waits until the Create's store is done: the boost always comes second."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, inst: Instance) -> None:
        self.uri = ""
        self.fetching = asyncio.Event()
        self.stored = asyncio.Event()
        fed = inst.app[federation_key]
        real_fetch = fed.fetch
        real_receive = posting.receive_note

        async def fetch(url: str, **kwargs: Any) -> dict[str, Any]:
            if url == self.uri:
                self.fetching.set()
                await asyncio.wait_for(self.stored.wait(), GUARD)
            return await real_fetch(url, **kwargs)

        async def receive_note(svc: Services, actor: Account, note: IncomingNote, *,
                               force: bool = False) -> Status | None:
            if svc is not inst.svc or note.uri != self.uri or force:
                return await real_receive(svc, actor, note, force=force)
            await asyncio.wait_for(self.fetching.wait(), GUARD)  # the Create's own store
            try:
                return await real_receive(svc, actor, note, force=force)
            finally:
                self.stored.set()

        monkeypatch.setattr(fed, "fetch", fetch)
        monkeypatch.setattr(posting, "receive_note", receive_note)


async def _inbox_errors(inst: Instance) -> list[str]:
    rows = await inst.svc.storage.read(lambda db: db.execute(
        "SELECT error FROM inbox_items WHERE error IS NOT NULL ORDER BY id").fetchall())
    return [r[0] for r in rows]


async def _copies(inst: Instance, uri: str) -> int:
    return await count(inst.svc, "SELECT count(*) FROM statuses WHERE uri = ?", uri)


async def _pending_inbox_jobs(inst: Instance) -> int:
    return await count(inst.svc, "SELECT count(*) FROM jobs WHERE kind = 'inbox.process'"
                       " AND state = 'pending'")


async def test_a_group_announce_processed_with_the_create_is_kept(
        instances: Start, monkeypatch: pytest.MonkeyPatch) -> None:
    a, b, c = await instances("a.test", "b.test", "c.test")
    alice = (await make_user(a.svc, "alice")).account
    bob = (await make_user(b.svc, "bob")).account
    carol = (await make_user(c.svc, "carol")).account
    await groups.create_group(a.svc, "ecoute", title="Écoute", creator=alice)
    for inst, member in ((b, bob), (c, carol)):
        group = await inst.app[federation_key].resolve_handle("ecoute@a.test")
        await following.follow(inst.svc, member, group)
    await following.follow(b.svc, bob, await b.app[federation_key].resolve_handle(
        "carol@c.test"))
    await settle(a, b, c)

    race = ForcedRace(monkeypatch, b)
    draft = await posting.prepare(c.svc, carol, text="@ecoute@a.test Bonsoir à tous",
                                  resolve=c.app[federation_key].resolve_handle)
    post = await posting.create_status(c.svc, carol, draft)
    race.uri = post.status.uri
    await c.worker.run_until_idle()  # the Create reaches bob (a follower) and the group
    await a.worker.run_until_idle()  # the group announces it to its members, b included
    assert await _pending_inbox_jobs(b) == 2  # the Create and the Announce, run together
    await b.worker.run_until_idle()
    await settle(a, b, c)

    assert race.fetching.is_set() and race.stored.is_set()  # the race really happened
    assert await _inbox_errors(b) == []
    assert await _copies(b, post.status.uri) == 1
    boosts = await count(b.svc, "SELECT count(*) FROM statuses s JOIN statuses t"
                         " ON s.reblog_of_id = t.id JOIN accounts g ON g.id = s.account_id"
                         " WHERE t.uri = ? AND g.actor_type = 'Group'", post.status.uri)
    assert boosts == 1


async def test_a_boost_processed_with_the_create_is_kept(
        instances: Start, monkeypatch: pytest.MonkeyPatch) -> None:
    b, c = await instances("b.test", "c.test")
    bob = (await make_user(b.svc, "bob")).account
    carol = (await make_user(c.svc, "carol")).account
    dave = (await make_user(c.svc, "dave")).account
    for handle in ("carol@c.test", "dave@c.test"):
        await following.follow(b.svc, bob, await b.app[federation_key].resolve_handle(handle))
    await settle(b, c)

    race = ForcedRace(monkeypatch, b)
    post = await posting.create_status(c.svc, carol, await posting.prepare(
        c.svc, carol, text="Un message que dave va partager"))
    race.uri = post.status.uri
    await posting.reblog(c.svc, dave, post.status.id)
    await c.worker.run_until_idle()  # the Create and dave's Announce reach b
    assert await _pending_inbox_jobs(b) == 2
    await b.worker.run_until_idle()
    await settle(b, c)

    assert race.fetching.is_set() and race.stored.is_set()
    assert await _inbox_errors(b) == []
    assert await _copies(b, post.status.uri) == 1
    boosts = await count(b.svc, "SELECT count(*) FROM statuses s JOIN statuses t"
                         " ON s.reblog_of_id = t.id WHERE t.uri = ? AND s.account_id ="
                         " (SELECT id FROM accounts WHERE actor_uri = ?)",
                         post.status.uri, dave.actor_uri)
    assert boosts == 1
