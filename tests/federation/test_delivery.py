"""Delivery over real HTTP: the RFC 9421 double-knock and the per-host memory of the scheme
(across a restart), the per-host circuit breaker and the week-long "unavailable" state driven
by a fake clock (no sleeping), revival when the host writes to us, and the per-host bound on
concurrent requests. Odd peers are a small in-process ``FakeRemote`` app at ``r.test``."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from fediverse_mu.activitypub.actors import parse_actor, render_actor
from fediverse_mu.app import create_app
from fediverse_mu.appkeys import federation_key
from fediverse_mu.domain import Account, Job, JobState
from fediverse_mu.domain.peers import (
    BREAKER_THRESHOLD,
    COOLDOWN_BASE,
    GIVE_UP_AFTER,
    UNAVAILABLE_PROBE_INTERVAL,
    Peer,
)
from fediverse_mu.federation import httpsig
from fediverse_mu.services import accounts, jobs, peers
from fediverse_mu.services.delivery import DELIVER_JOB, MAX_DELIVERY_ATTEMPTS
from fediverse_mu.storage import inbox as inbox_store
from fediverse_mu.storage import jobs as job_store
from tests.conftest import FakeResolver, Instance, init_instance, make_user, settle

DAY = 86400.0
AS2 = "application/activity+json"


class Clock:
    """The one clock of a test's instances (services, worker, peers); moved by hand."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


Start = Callable[..., Awaitable[list[Instance]]]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def start(tmp_path: Path, resolver: FakeResolver, clock: Clock,
                aiohttp_server: Callable[..., Awaitable[TestServer]]) -> AsyncIterator[Start]:
    """Like the ``instances`` fixture, with every instance on the test's ``clock``."""
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(resolver=resolver))

    async def go(*names: str, **values: Any) -> list[Instance]:
        started = []
        for name in names:
            config = init_instance(tmp_path / name, name, **values)
            app = create_app(config, resolver=resolver, start_worker=False, clock=clock)
            server = await aiohttp_server(app)
            assert server.port is not None
            resolver.ports[name] = server.port
            started.append(Instance(name, config, app, server, session))
        return started

    yield go
    await session.close()


@dataclass
class Seen:
    """One request the fake remote received."""

    method: str
    path: str
    scheme: str | None  # the signature scheme it carried
    status: int  # what the fake answered


@dataclass
class FakeRemote:
    """A peer at ``r.test`` with an inbox and one actor document. It checks signatures with
    keys looked up on the sending instance, accepts only the ``accepts`` schemes, and can be
    told to fail (``fail_with``) or to hold requests until ``gate`` of them are in flight."""

    sender: Instance
    accepts: frozenset[str] = frozenset({"rfc9421"})
    fail_with: int | None = None
    gate: int | None = None
    seen: list[Seen] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    _gate_open: asyncio.Event = field(default_factory=asyncio.Event)

    async def _check(self, request: web.Request, body: bytes) -> tuple[str | None, int]:
        if self.fail_with is not None:
            return None, self.fail_with
        url = "http://r.test" + request.path_qs
        try:
            parsed = httpsig.parse_signature(request.method, url, request.headers, body)
        except httpsig.SignatureError:
            return None, 401
        if parsed.scheme not in self.accepts:
            return parsed.scheme, 401
        signer = await accounts.get_account_by_uri(
            self.sender.svc, httpsig.key_id_to_actor_hint(parsed.key_id))
        if signer is None or signer.public_key_pem is None:
            return parsed.scheme, 401
        try:
            httpsig.verify_signature(parsed, httpsig.load_public_key_pem(signer.public_key_pem))
        except httpsig.SignatureError:
            return parsed.scheme, 401
        return parsed.scheme, 200

    async def _hold(self) -> None:
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.gate is not None:
                if self.in_flight >= self.gate:
                    self._gate_open.set()
                with contextlib.suppress(TimeoutError):  # never hang the test if broken
                    await asyncio.wait_for(self._gate_open.wait(), timeout=5)
        finally:
            self.in_flight -= 1

    async def inbox(self, request: web.Request) -> web.Response:
        body = await request.read()
        scheme, status = await self._check(request, body)
        if status == 200:
            await self._hold()
            status = 202
        self.seen.append(Seen("POST", request.path, scheme, status))
        return web.Response(status=status)

    async def actor(self, request: web.Request) -> web.Response:
        scheme, status = await self._check(request, b"")
        self.seen.append(Seen("GET", request.path, scheme, status))
        if status != 200:
            return web.Response(status=status)
        return web.json_response({"@context": "https://www.w3.org/ns/activitystreams",
                                  "id": "http://r.test/users/remote", "type": "Person",
                                  "inbox": "http://r.test/inbox"}, content_type=AS2)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/inbox", self.inbox)
        app.router.add_get("/users/remote", self.actor)
        return app

    def schemes(self) -> list[tuple[str, str | None, int]]:
        """(method, scheme, status) of every request, in order."""
        return [(s.method, s.scheme, s.status) for s in self.seen]


MakeRemote = Callable[..., Awaitable[FakeRemote]]


@pytest.fixture
async def remote(resolver: FakeResolver,
                 aiohttp_server: Callable[..., Awaitable[TestServer]]) -> MakeRemote:
    async def go(sender: Instance, **options: Any) -> FakeRemote:
        fake = FakeRemote(sender, **options)
        server = await aiohttp_server(fake.app())
        assert server.port is not None
        resolver.ports["r.test"] = server.port
        return fake

    return go


async def queue(inst: Instance, signer: Account, inbox: str, count: int = 1) -> None:
    """Queue ``count`` deliveries of distinct activities from ``signer`` to ``inbox``."""
    for _ in range(count):
        number = len(await inst.svc.storage.read(_all_jobs)) + 1
        activity = {"@context": "https://www.w3.org/ns/activitystreams",
                    "id": f"{signer.actor_uri}#tests/{number}", "type": "Follow",
                    "actor": signer.actor_uri, "object": inbox.rsplit("/", 1)[0]}
        await jobs.enqueue(inst.svc, DELIVER_JOB,
                           {"inbox": inbox, "activity": activity, "signer": signer.id},
                           max_attempts=MAX_DELIVERY_ATTEMPTS,
                           host=inbox.split("/")[2])


def _all_jobs(db: Any) -> list[Job]:
    ids = [row[0] for row in db.execute("SELECT id FROM jobs WHERE kind = ?", [DELIVER_JOB])]
    return [job for job in (job_store.get_job(db, i) for i in ids) if job is not None]


async def deliveries(inst: Instance) -> list[Job]:
    """Every delivery job of an instance, oldest first."""
    return await inst.svc.storage.read(_all_jobs)


# --- the double-knock -------------------------------------------------------------------------


async def test_double_knock_learns_rfc9421_and_keeps_it_across_a_restart(
        start: Start, remote: MakeRemote, clock: Clock,
        aiohttp_server: Callable[..., Awaitable[TestServer]], resolver: FakeResolver) -> None:
    (a,) = await start("a.test")
    alice = (await make_user(a.svc, "alice")).account
    fake = await remote(a)  # accepts RFC 9421 only

    await queue(a, alice, "http://r.test/inbox")
    await settle(a)
    assert fake.schemes() == [("POST", "cavage", 401), ("POST", "rfc9421", 202)]
    assert [job.state for job in await deliveries(a)] == [JobState.DONE]
    assert (await peers.get_peer(a.svc, "r.test")).signature_scheme == "rfc9421"

    # Known now: straight to RFC 9421, for deliveries and signed fetches alike.
    await queue(a, alice, "http://r.test/inbox")
    await settle(a)
    raw = await a.app[federation_key].fetch("http://r.test/users/remote")
    assert raw["id"] == "http://r.test/users/remote"
    assert fake.schemes()[2:] == [("POST", "rfc9421", 202), ("GET", "rfc9421", 200)]

    # A restart forgets the memory cache, not the peers table.
    await a.server.close()
    app = create_app(a.config, resolver=resolver, start_worker=False, clock=clock)
    server = await aiohttp_server(app)
    assert server.port is not None
    resolver.ports["a.test"] = server.port
    again = Instance("a.test", a.config, app, server, a.http)
    fake.sender = again
    await queue(again, alice, "http://r.test/inbox")
    await settle(again)
    assert fake.schemes()[4:] == [("POST", "rfc9421", 202)]


async def test_signed_fetches_knock_twice_too(start: Start, remote: MakeRemote) -> None:
    (a,) = await start("a.test")
    fake = await remote(a)
    raw = await a.app[federation_key].fetch("http://r.test/users/remote")
    assert raw["type"] == "Person"
    assert fake.schemes() == [("GET", "cavage", 401), ("GET", "rfc9421", 200)]
    assert (await peers.get_peer(a.svc, "r.test")).signature_scheme == "rfc9421"


async def test_a_peer_that_changes_scheme_is_followed(start: Start, remote: MakeRemote) -> None:
    (a,) = await start("a.test")
    alice = (await make_user(a.svc, "alice")).account
    fake = await remote(a, accepts=frozenset({"cavage"}))
    await queue(a, alice, "http://r.test/inbox")
    await settle(a)
    assert fake.schemes() == [("POST", "cavage", 202)]  # cavage works: no second knock
    assert (await peers.get_peer(a.svc, "r.test")).signature_scheme == "cavage"

    fake.accepts = frozenset({"rfc9421"})  # the peer upgraded…
    await queue(a, alice, "http://r.test/inbox")
    await settle(a)
    fake.accepts = frozenset({"cavage"})  # … and went back
    await queue(a, alice, "http://r.test/inbox")
    await settle(a)
    assert fake.schemes()[1:] == [("POST", "cavage", 401), ("POST", "rfc9421", 202),
                                  ("POST", "rfc9421", 401), ("POST", "cavage", 202)]
    assert (await peers.get_peer(a.svc, "r.test")).signature_scheme == "cavage"


async def test_refused_both_ways_is_final_and_learns_nothing(
        start: Start, remote: MakeRemote) -> None:
    (a,) = await start("a.test")
    alice = (await make_user(a.svc, "alice")).account
    fake = await remote(a, accepts=frozenset())
    await queue(a, alice, "http://r.test/inbox")
    await settle(a)
    assert fake.schemes() == [("POST", "cavage", 401), ("POST", "rfc9421", 401)]
    (job,) = await deliveries(a)
    assert job.state is JobState.DEAD and job.last_status == 401
    peer = await peers.get_peer(a.svc, "r.test")
    assert peer.signature_scheme is None and peer.is_healthy  # it answered: not a failure


# --- circuit breaker --------------------------------------------------------------------------


async def test_the_circuit_opens_after_consecutive_failures_and_one_probe_closes_it(
        start: Start, remote: MakeRemote, clock: Clock) -> None:
    (a,) = await start("a.test")
    alice = (await make_user(a.svc, "alice")).account
    fake = await remote(a, fail_with=503)

    await queue(a, alice, "http://r.test/inbox", BREAKER_THRESHOLD)
    await settle(a)
    assert len(fake.seen) == BREAKER_THRESHOLD
    assert (await peers.get_peer(a.svc, "r.test")).consecutive_failures == BREAKER_THRESHOLD

    # Open: new deliveries are postponed without touching the host, and without using up
    # an attempt.
    await queue(a, alice, "http://r.test/inbox", 3)
    await settle(a)
    assert len(fake.seen) == BREAKER_THRESHOLD
    held = (await deliveries(a))[BREAKER_THRESHOLD:]
    assert [(job.state, job.attempts) for job in held] == [(JobState.PENDING, 0)] * 3
    assert all("circuit open" in (job.last_error or "") for job in held)
    assert all(job.next_attempt_at >= clock() + COOLDOWN_BASE - 1 for job in held)

    # Cool-down over: one probe only, which fails; the circuit opens again, for longer.
    clock.advance(COOLDOWN_BASE + 1)
    await settle(a)
    assert len(fake.seen) == BREAKER_THRESHOLD + 1
    peer = await peers.get_peer(a.svc, "r.test")
    assert peer.consecutive_failures == BREAKER_THRESHOLD + 1
    assert peer.cooldown() == 2 * COOLDOWN_BASE

    # The host heals: the next probe succeeds and every held delivery goes at once.
    fake.fail_with = None
    fake.accepts = frozenset({"cavage"})
    clock.advance(2 * COOLDOWN_BASE + 1)
    await settle(a)
    assert [s.status for s in fake.seen[BREAKER_THRESHOLD + 1:]] == [202] * 8
    assert {job.state for job in await deliveries(a)} == {JobState.DONE}
    assert (await peers.get_peer(a.svc, "r.test")).is_healthy


async def know(a: Instance, b: Instance, bob: Account) -> None:
    """``a`` has seen ``bob`` of ``b`` (and his key) before, without any request."""
    document = render_actor(bob, base_url=b.base_url)
    await accounts.store_remote_actor(
        a.svc, parse_actor(document, fetched_from=bob.actor_uri), from_origin=True)


async def fail_for(a: Instance, alice: Account, inbox: str, clock: Clock, days: int) -> None:
    """Deliveries to ``inbox`` fail for ``days`` days: a burst that opens the circuit, then
    one new delivery a day (whose probe fails)."""
    await queue(a, alice, inbox, BREAKER_THRESHOLD)
    await settle(a)
    for _ in range(days):
        clock.advance(DAY)
        await queue(a, alice, inbox)
        await settle(a)


async def test_a_host_failing_for_a_week_is_unavailable_until_it_writes_to_us(
        start: Start, clock: Clock, resolver: FakeResolver) -> None:
    a, b = await start("a.test", "b.test")
    alice = (await make_user(a.svc, "alice")).account
    bob = (await make_user(b.svc, "bob")).account
    fed = a.app[federation_key]
    await know(a, b, bob)
    b_port = resolver.ports["b.test"]
    resolver.ports["b.test"] = 1  # b goes down: nothing listens on port 1

    await fail_for(a, alice, "http://b.test/inbox", clock, days=7)
    peer = await peers.get_peer(a.svc, "b.test")
    assert peer.unavailable_since is None  # failing for exactly a week: not yet
    clock.advance(DAY)
    await queue(a, alice, "http://b.test/inbox")
    await settle(a)
    peer = await peers.get_peer(a.svc, "b.test")
    assert peer.unavailable_since == clock() == peer.last_failure_at

    # Unavailable: deliveries, new or retried, are held for a day and nothing is sent.
    clock.advance(6 * 3600 + 60)  # past every retry's backoff
    await queue(a, alice, "http://b.test/inbox")
    await settle(a)
    assert await peers.get_peer(a.svc, "b.test") == peer
    pending = [job for job in await deliveries(a) if job.state is JobState.PENDING]
    assert len(pending) == BREAKER_THRESHOLD + 9  # nothing lost, nothing gave up
    assert min(job.next_attempt_at for job in pending) == \
        peer.last_failure_at + UNAVAILABLE_PROBE_INTERVAL

    # b comes back and writes to us (a signed Follow): available again, all due now.
    resolver.ports["b.test"] = b_port
    fed.transport.clear_dns_cache()
    b_fed = b.app[federation_key]
    follow = {"@context": "https://www.w3.org/ns/activitystreams", "type": "Follow",
              "id": f"{bob.actor_uri}#follows/1", "actor": bob.actor_uri,
              "object": alice.actor_uri}
    response = await b_fed.transport.post(
        "http://a.test/inbox", json.dumps(follow).encode(),
        headers={"Content-Type": AS2}, sign=await b_fed.signer(bob))
    assert response.status == 202
    assert (await peers.get_peer(a.svc, "b.test")).is_healthy
    await settle(a, b)
    assert {job.state for job in await deliveries(a)} == {JobState.DONE}
    # Every held delivery arrived, and so did alice's Accept of bob's follow.
    assert await b.svc.storage.read(inbox_store.count_inbox_items) == len(pending) + 1


async def test_an_unsigned_or_forged_post_does_not_revive_a_host(
        start: Start, clock: Clock, resolver: FakeResolver) -> None:
    a, b = await start("a.test", "b.test")
    alice = (await make_user(a.svc, "alice")).account
    bob = (await make_user(b.svc, "bob")).account
    await know(a, b, bob)
    b_port = resolver.ports["b.test"]
    resolver.ports["b.test"] = 1
    await fail_for(a, alice, "http://b.test/inbox", clock, days=8)
    before = await peers.get_peer(a.svc, "b.test")
    assert before.unavailable_since is not None
    resolver.ports["b.test"] = b_port
    follow = json.dumps({"@context": "https://www.w3.org/ns/activitystreams", "type": "Follow",
                         "id": f"{bob.actor_uri}#follows/9", "actor": bob.actor_uri,
                         "object": alice.actor_uri}).encode()
    async with a.http.post("http://a.test/inbox", data=follow,
                           headers={"Content-Type": AS2}) as unsigned:
        assert unsigned.status == 401
        assert "not signed" in (await unsigned.json())["error"]
    assert await peers.get_peer(a.svc, "b.test") == before
    assert await a.svc.storage.read(inbox_store.count_inbox_items) == 0


async def test_deliveries_to_a_host_unavailable_for_a_month_are_given_up(
        start: Start, clock: Clock, resolver: FakeResolver) -> None:
    a, b = await start("a.test", "b.test")
    alice = (await make_user(a.svc, "alice")).account
    await make_user(b.svc, "bob")
    resolver.ports["b.test"] = 1
    await fail_for(a, alice, "http://b.test/inbox", clock, days=8)
    peer = await peers.get_peer(a.svc, "b.test")
    assert peer.unavailable_since is not None
    clock.advance(GIVE_UP_AFTER + 1)
    await queue(a, alice, "http://b.test/inbox")
    await settle(a)
    states = {job.state for job in await deliveries(a)}
    assert states == {JobState.DEAD}
    assert await peers.get_peer(a.svc, "b.test") == peer  # given up without a request
    (last, *_) = reversed(await deliveries(a))
    assert last.attempts == 1 and "unavailable since" in (last.last_error or "")


# --- per-host concurrency -----------------------------------------------------------------


async def test_at_most_four_requests_in_flight_per_host(start: Start, remote: MakeRemote) -> None:
    (a,) = await start("a.test")
    alice = (await make_user(a.svc, "alice")).account
    fake = await remote(a, accepts=frozenset({"cavage"}), gate=4)
    assert a.worker.concurrency > 4
    await queue(a, alice, "http://r.test/inbox", 10)
    await settle(a)
    assert fake.max_in_flight == 4
    assert [s.status for s in fake.seen] == [202] * 10
    assert {job.state for job in await deliveries(a)} == {JobState.DONE}


def test_the_breaker_policy_in_numbers() -> None:
    peer = Peer("r.test")
    now = 1_000_000.0
    for n in range(BREAKER_THRESHOLD - 1):
        peer = peer.failed(now + n)
        assert peer.admission(now + n)[0] == "go"
    peer = peer.failed(now + 10)
    assert peer.admission(now + 10) == ("wait", now + 10 + COOLDOWN_BASE)
    assert peer.admission(now + 10 + COOLDOWN_BASE)[0] == "probe"
    assert peer.failed(now + 20).cooldown() == 2 * COOLDOWN_BASE
    assert peer.succeeded(now + 30) == Peer("r.test", last_success_at=now + 30)
