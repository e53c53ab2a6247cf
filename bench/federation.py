"""Federation benchmarks (part of ``make bench``): measured and printed, never asserted.

1. Inbox accept path: pre-signed draft-cavage (rsa-sha256) POSTs of Like, Follow and
   Create(Note) activities with distinct ids, from 1,000 remote actors on 100 domains, to the
   shared inbox of a real instance (``create_app`` behind an aiohttp ``AppRunner`` in its own
   process, dev config, access log on as in ``fediverse-mu serve``, background worker off), by
   50 concurrent keep-alive connections of a small raw HTTP/1.1 load generator (wrk-like: a
   closed loop, each connection sends its next request when the answer arrives). The
   senders' accounts, and so their keys, are stored beforehand as a key fetch stores them
   (``upsert_remote_account`` from the origin, in one transaction); a warm-up of 3,000
   requests precedes the timed phase. Signing happens before, on every core.
2. Full processing: a backlog of stored inbox items (Follow, Accept, Update of the actor, Undo
   Follow, and Create Note when the inbox handles it) drained by the real ``Worker`` running
   ``inbox.process``; the Accepts the Follows provoke are delivered to a fake remote.
3. Fan-out: a resident with 10,000 followers on 500 instances (one shared inbox each) posts
   through ``services.posting.create_status`` (status and delivery jobs in one transaction);
   timed until the real ``Worker`` + ``Federation.deliver`` have delivered all 500 over TLS
   to one local receiver process answering 202 for every host (trustme CA, fake resolver,
   a transport with production rules except that loopback is allowed) and recorded them.

Run alone with ``python bench/federation.py``; ``bench/run.py`` calls :func:`run_all`.
The ``serve`` and ``receiver`` subcommands are the helper processes the benchmarks start.
"""

from __future__ import annotations

import asyncio
import base64
import email.utils
import hashlib
import ipaddress
import json
import logging
import os
import signal
import socket
import sqlite3
import ssl
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

if __package__ in (None, ""):  # run as a script: make the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fediverse_mu.activitypub.actors import parse_actor
from fediverse_mu.app import create_app
from fediverse_mu.appkeys import federation_key, services_key, worker_key
from fediverse_mu.config import Config
from fediverse_mu.domain import Account, FollowState, Job, RemoteActor
from fediverse_mu.federation.transport import Transport
from fediverse_mu.services import accounts, posting
from fediverse_mu.services.context import Services
from fediverse_mu.services.delivery import DELIVER_JOB
from fediverse_mu.services.maintenance import initialise
from fediverse_mu.storage import Database
from fediverse_mu.storage import accounts as account_store
from fediverse_mu.storage import follows as follow_store
from fediverse_mu.storage import inbox as inbox_store
from fediverse_mu.storage import jobs as job_store
from fediverse_mu.web.middleware import AccessLogger

AS2 = "application/activity+json"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
T = TypeVar("T")
LOCAL = "bench.test"

# 1. inbox accept path
SENDERS = 50
ACCEPT_ACTORS = 1000
ACCEPT_DOMAINS = 100
ACCEPT_KEYS = 8  # distinct key pairs shared among the actors (RSA generation is slow)
ACCEPT_WARMUP = 3000
ACCEPT_MEASURED = 15000
# 2. processing
PROCESS_ACTORS = 1500
PROCESS_DOMAINS = 100
# 3. fan-out
FANOUT_FOLLOWERS = 10_000
FANOUT_DOMAINS = 500


# -- shared helpers ---------------------------------------------------------------------------


class CatchAllResolver(AbstractResolver):
    """Resolves every name to one loopback port (the fake remote)."""

    def __init__(self, port: int) -> None:
        self.port = port

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        return [{"hostname": host, "host": "127.0.0.1", "port": self.port,
                 "family": socket.AF_INET, "proto": 0, "flags": socket.AI_NUMERICHOST}]

    async def close(self) -> None:
        return None


def init_instance(folder: Path) -> Config:
    """A fresh dev instance ``http://bench.test`` (the values of ``init --dev``)."""
    return initialise(folder, {"domain": LOCAL, "scheme": "http", "dev_allow_http": True,
                               "dev_allow_private_addresses": True,
                               "registration_mode": "open"})


def new_key() -> rsa.RSAPrivateKey:
    """An RSA 2048 key, the fediverse norm."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_pem(key: rsa.RSAPrivateKey) -> str:
    """The SubjectPublicKeyInfo PEM of a key."""
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def private_pem(key: rsa.RSAPrivateKey) -> bytes:
    """The PKCS#8 PEM of a key."""
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def actor_uri(index: int, domains: int, scheme: str = "http", suffix: str = "test") -> str:
    """The id of remote actor number ``index`` (spread over ``domains`` hosts)."""
    return f"{scheme}://s{index % domains}.{suffix}/users/u{index}"


def remote_actor(uri: str, pem: str) -> RemoteActor:
    """A remote actor as the instance would store it, parsed from a Mastodon-like document."""
    origin = uri.split("/users/")[0]
    doc = {"@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
           "id": uri, "type": "Person", "preferredUsername": uri.rsplit("/", 1)[1],
           "name": "Bench", "inbox": f"{uri}/inbox", "outbox": f"{uri}/outbox",
           "followers": f"{uri}/followers", "endpoints": {"sharedInbox": f"{origin}/inbox"},
           "publicKey": {"id": f"{uri}#main-key", "owner": uri, "publicKeyPem": pem}}
    return parse_actor(doc, fetched_from=uri)


def seed_remote_actors(db: Database, actors: Sequence[RemoteActor],
                       now: datetime) -> list[Account]:
    """Store many remote actors in one transaction (what key fetches would have cached)."""
    return [account_store.upsert_remote_account(db, a, now, update_key=True) for a in actors]


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    index = max(0, min(len(sorted_values) - 1, round(fraction * len(sorted_values)) - 1))
    return sorted_values[index]


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system, all threads) used so far by a process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    """An unused TCP port on the loopback interface."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_helper(*args: str, log_path: Path) -> tuple[subprocess.Popen[bytes], int]:
    """Start ``python bench/federation.py ARGS`` and read the port it prints."""
    with log_path.open("ab") as log_file:
        proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), *args],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log_file)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        raise RuntimeError(f"helper {args[0]} did not start; see {log_path}")
    return proc, int(line)


def stop_helper(proc: subprocess.Popen[bytes]) -> None:
    """Close the helper's stdin (its signal to stop) and wait for it."""
    assert proc.stdin is not None
    proc.stdin.close()
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.wait()


async def wait_stdin_closed() -> None:
    """Return when the parent closes our stdin."""
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.buffer.read)


# -- helper processes -------------------------------------------------------------------------


async def serve_main(data: str) -> None:
    """Helper process: one instance on 127.0.0.1, configured like ``fediverse-mu serve``
    (access log, log level from the config) but with the background worker off."""
    from fediverse_mu.config import load_config

    config = load_config(Path(data))
    logging.basicConfig(level=config.log_level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = create_app(config, start_worker=False)
    runner = web.AppRunner(app, access_log_class=AccessLogger,
                           access_log=logging.getLogger("fediverse_mu.access"))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    print(port, flush=True)
    profile = os.environ.get("BENCH_PROFILE")  # a cProfile of the event-loop thread
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    try:
        await wait_stdin_closed()
    finally:
        if profiler is not None and profile:
            profiler.disable()
            profiler.dump_stats(profile)
        await runner.cleanup()


async def receiver_main(cert: str | None, key: str | None) -> None:
    """Helper process: answers 202 to every POST (any host, any path); GET /_count says how
    many POSTs arrived."""
    count = 0

    async def post(request: web.Request) -> web.Response:
        nonlocal count
        await request.read()
        if "Signature" not in request.headers:
            return web.Response(status=401)
        count += 1
        return web.Response(status=202)

    async def get_count(request: web.Request) -> web.Response:
        return web.Response(text=str(count))

    app = web.Application()
    app.router.add_post("/{tail:.*}", post)
    app.router.add_get("/_count", get_count)
    context = None
    if cert and key:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context, backlog=1024)
    await site.start()
    print(runner.addresses[0][1], flush=True)
    try:
        await wait_stdin_closed()
    finally:
        await runner.cleanup()


# -- 1. inbox accept path ---------------------------------------------------------------------

_SIGN_KEYS: list[rsa.RSAPrivateKey] = []


def _load_sign_keys(pems: list[bytes]) -> None:
    _SIGN_KEYS[:] = [serialization.load_pem_private_key(p, None) for p in pems]  # type: ignore[misc]


def accept_activity(index: int, actor: str) -> dict[str, Any]:
    """Activity number ``index``: a Like, a Follow or a Create(Note), in turn."""
    context = "https://www.w3.org/ns/activitystreams"
    kind = index % 3
    if kind == 0:
        return {"@context": context, "id": f"{actor}#likes/{index}", "type": "Like",
                "actor": actor, "object": f"http://{LOCAL}/users/alice/statuses/{index}"}
    if kind == 1:
        return {"@context": context, "id": f"{actor}#follows/{index}", "type": "Follow",
                "actor": actor, "object": f"http://{LOCAL}/users/alice"}
    note = f"{actor}/statuses/{index}"
    published = "2026-11-21T10:00:00Z"
    return {"@context": context, "id": f"{note}/activity", "type": "Create", "actor": actor,
            "published": published, "to": [PUBLIC], "cc": [f"{actor}/followers"],
            "object": {"id": note, "type": "Note", "attributedTo": actor,
                       "content": f"<p>Bonjour le quartier ! Message {index}.</p>",
                       "published": published, "to": [PUBLIC], "cc": [f"{actor}/followers"],
                       "url": note}}


def signed_request(index: int) -> bytes:
    """The bytes of one signed POST to the shared inbox (runs in the signing pool)."""
    actor = actor_uri(index % ACCEPT_ACTORS, ACCEPT_DOMAINS)
    key = _SIGN_KEYS[(index % ACCEPT_ACTORS) % len(_SIGN_KEYS)]
    body = json.dumps(accept_activity(index, actor), separators=(",", ":")).encode()
    date = email.utils.formatdate(usegmt=True)
    digest = "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode()
    signing_string = f"(request-target): post /inbox\nhost: {LOCAL}\ndate: {date}\n" \
                     f"digest: {digest}"
    signature = base64.b64encode(key.sign(signing_string.encode(), padding.PKCS1v15(),
                                          hashes.SHA256())).decode()
    head = (f"POST /inbox HTTP/1.1\r\nHost: {LOCAL}\r\nUser-Agent: fediverse-mu-bench\r\n"
            f"Content-Type: {AS2}\r\nContent-Length: {len(body)}\r\nDate: {date}\r\n"
            f"Digest: {digest}\r\nSignature: keyId=\"{actor}#main-key\",algorithm=\"rsa-sha256\","
            f"headers=\"(request-target) host date digest\",signature=\"{signature}\"\r\n\r\n")
    return head.encode() + body


def _sign_range(bounds: tuple[int, int]) -> list[bytes]:
    return [signed_request(i) for i in range(*bounds)]


def presign(count: int, keys: list[rsa.RSAPrivateKey]) -> list[bytes]:
    """Sign ``count`` requests on every core before the timed phase."""
    pems = [private_pem(k) for k in keys]
    step = 500
    chunks = [(start, min(start + step, count)) for start in range(0, count, step)]
    with ProcessPoolExecutor(os.cpu_count() or 1, initializer=_load_sign_keys,
                             initargs=(pems,)) as pool:
        return [request for chunk in pool.map(_sign_range, chunks) for request in chunk]


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    if length:
        await reader.readexactly(length)
    return status


async def load(port: int, requests: Sequence[bytes], connections: int) -> tuple[
        float, list[float], dict[int, int]]:
    """Send every request over ``connections`` keep-alive connections, each waiting for its
    answer before the next (a closed loop, like wrk); return wall time, latencies, statuses."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    next_index = 0

    async def sender() -> None:
        nonlocal next_index
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while next_index < len(requests):
                request = requests[next_index]
                next_index += 1
                start = time.perf_counter()
                writer.write(request)
                status = await _read_response(reader)
                latencies.append(time.perf_counter() - start)
                statuses[status] = statuses.get(status, 0) + 1
        finally:
            writer.close()

    start = time.perf_counter()
    await asyncio.gather(*(sender() for _ in range(connections)))
    return time.perf_counter() - start, latencies, statuses


@dataclass
class AcceptResult:
    """Figures of the inbox accept benchmark."""

    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    statuses: dict[int, int]
    stored: int
    server_cpu: float
    client_cpu: float

    @property
    def rate(self) -> float:
        """Accepted activities per second."""
        return self.requests / self.seconds


async def _seed_for_accept(config: Config, keys: list[rsa.RSAPrivateKey]) -> None:
    app = create_app(config, start_worker=False)
    runner = web.AppRunner(app)
    await runner.setup()
    try:
        svc = app[services_key]
        await accounts.create_user(svc, "alice", "alice@bench.test",
                                   password="correct horse battery")
        pems = [public_pem(k) for k in keys]
        actors = [remote_actor(actor_uri(i, ACCEPT_DOMAINS), pems[i % len(pems)])
                  for i in range(ACCEPT_ACTORS)]
        await svc.storage.write(seed_remote_actors, actors, datetime.now(UTC))
    finally:
        await runner.cleanup()


def bench_inbox_accept(tmp: Path) -> AcceptResult:
    """Benchmark 1 (see the module docstring)."""
    config = init_instance(tmp / "accept")
    keys = [new_key() for _ in range(ACCEPT_KEYS)]
    asyncio.run(_seed_for_accept(config, keys))
    requests = presign(ACCEPT_WARMUP + ACCEPT_MEASURED, keys)
    proc, port = start_helper("serve", str(config.data_dir), log_path=tmp / "serve.log")
    try:
        asyncio.run(load(port, requests[:ACCEPT_WARMUP], SENDERS))
        server_cpu, client_cpu = process_cpu(proc.pid), time.process_time()
        seconds, latencies, statuses = asyncio.run(
            load(port, requests[ACCEPT_WARMUP:], SENDERS))
        server_cpu = process_cpu(proc.pid) - server_cpu
        client_cpu = time.process_time() - client_cpu
    finally:
        stop_helper(proc)
    with sqlite3.connect(config.database_path) as db:
        stored = db.execute("SELECT count(*) FROM inbox_items").fetchone()[0]
    latencies.sort()
    return AcceptResult(len(latencies), seconds, percentile(latencies, 0.50) * 1000,
                        percentile(latencies, 0.99) * 1000, statuses, stored, server_cpu,
                        client_cpu)


# -- 2. processing through the worker ---------------------------------------------------------


@dataclass
class ProcessResult:
    """Figures of the processing benchmark."""

    items: int
    seconds: float
    all_jobs_seconds: float
    deliveries: int
    mix: dict[str, int]
    errors: dict[str, int]
    cpu: float
    concurrency: int

    @property
    def rate(self) -> float:
        """inbox.process jobs per second."""
        return self.items / self.seconds


def _process_backlog(actors: list[Account], alice: Account, follow_uris: list[str],
                     with_notes: bool) -> list[dict[str, Any]]:
    context = "https://www.w3.org/ns/activitystreams"
    backlog: list[dict[str, Any]] = []
    follows = [{"@context": context, "id": f"{a.actor_uri}#follows/1", "type": "Follow",
                "actor": a.actor_uri, "object": alice.actor_uri} for a in actors]
    backlog += follows
    backlog += [{"@context": context, "id": f"{a.actor_uri}#accepts/1", "type": "Accept",
                 "actor": a.actor_uri,
                 "object": {"id": uri, "type": "Follow", "actor": alice.actor_uri,
                            "object": a.actor_uri}}
                for a, uri in zip(actors, follow_uris, strict=True)]
    backlog += [{"@context": context, "id": f"{a.actor_uri}#updates/1", "type": "Update",
                 "actor": a.actor_uri, "to": [PUBLIC],
                 "object": {"id": a.actor_uri, "type": "Person",
                            "preferredUsername": a.username, "name": "Bench (renamed)",
                            "inbox": a.inbox_uri, "endpoints": {"sharedInbox": a.shared_inbox_uri},
                            "publicKey": {"id": f"{a.actor_uri}#main-key", "owner": a.actor_uri,
                                          "publicKeyPem": a.public_key_pem}}}
                for a in actors]
    if with_notes:
        for a in actors:
            note = f"{a.actor_uri}/statuses/1"
            backlog.append({
                "@context": context, "id": f"{note}/activity", "type": "Create",
                "actor": a.actor_uri, "published": "2026-11-21T10:00:00Z", "to": [PUBLIC],
                "cc": [f"{a.actor_uri}/followers"],
                "object": {"id": note, "type": "Note", "attributedTo": a.actor_uri,
                           "content": "<p>Bonjour le quartier !</p>",
                           "published": "2026-11-21T10:00:00Z", "to": [PUBLIC],
                           "cc": [f"{a.actor_uri}/followers"], "url": note}})
    backlog += [{"@context": context, "id": f"{f['actor']}#undos/1", "type": "Undo",
                 "actor": f["actor"], "object": {k: v for k, v in f.items() if k != "@context"}}
                for f in follows]
    return backlog


def _store_backlog(db: Database, backlog: list[dict[str, Any]], now: float) -> None:
    stamp = datetime.fromtimestamp(now, UTC)
    for raw in backlog:  # the storage function receive() uses, one transaction for all
        inbox_store.put_inbox_item_if_new(db, activity_id=raw["id"], activity_type=raw["type"],
                                          actor_uri=raw["actor"], raw=raw, now=stamp,
                                          now_ts=now)


def _seed_pending_follows(db: Database, alice: Account, actors: list[Account],
                          now: datetime) -> list[str]:
    uris = [f"{alice.actor_uri}#follows/bench{i}" for i in range(len(actors))]
    for actor, uri in zip(actors, uris, strict=True):
        follow_store.put_follow(db, follower_id=alice.id, followee_id=actor.id,
                                state=FollowState.PENDING, uri=uri, now=now)
    return uris


async def _creates_are_handled(app: web.Application, actor: Account) -> bool:
    """Whether the inbox applies Create(Note) yet (another engineer is adding it)."""
    svc = app[services_key]
    probe = _process_backlog([actor], actor, ["unused"], True)[3]
    await svc.storage.write(_store_backlog, [probe], svc.clock())
    await app[worker_key].run_until_idle()
    error = await svc.storage.read(
        lambda db: db.execute("SELECT error FROM inbox_items WHERE activity_id = ?",
                              [probe["id"]]).fetchone()[0])
    return error is None or "not handled" not in str(error)


UNTIL_GUARD = 300.0  # seconds: a benchmark waiting for longer is broken, not slow


async def _until(predicate: Callable[[], Awaitable[bool]], step: float = 0.005) -> float:
    """Poll ``predicate`` every ``step`` seconds; the time it first held (RuntimeError after
    ``UNTIL_GUARD`` seconds, so that a broken benchmark fails instead of hanging)."""
    deadline = time.perf_counter() + UNTIL_GUARD
    while not await predicate():
        if time.perf_counter() > deadline:
            raise RuntimeError(f"benchmark condition not met in {UNTIL_GUARD:.0f} s")
        await asyncio.sleep(step)
    return time.perf_counter()


async def _bench_processing(config: Config, receiver_port: int) -> ProcessResult:
    app = create_app(config, resolver=CatchAllResolver(receiver_port), start_worker=False)
    runner = web.AppRunner(app)
    await runner.setup()
    try:
        svc = app[services_key]
        worker = app[worker_key]
        alice = (await accounts.create_user(svc, "alice", "alice@bench.test",
                                            password="correct horse battery")).account
        pem = public_pem(new_key())
        remotes = [remote_actor(actor_uri(i, PROCESS_DOMAINS), pem)
                   for i in range(PROCESS_ACTORS + 1)]
        actors = await svc.storage.write(seed_remote_actors, remotes, datetime.now(UTC))
        probe_actor = actors.pop()
        with_notes = await _creates_are_handled(app, probe_actor)
        uris = await svc.storage.write(_seed_pending_follows, alice, actors, datetime.now(UTC))
        backlog = _process_backlog(actors, alice, uris, with_notes)
        await svc.storage.write(_store_backlog, backlog, svc.clock())
        mix: dict[str, int] = {}
        for raw in backlog:
            name = f"{raw['type']} {raw['object']['type']}" if isinstance(
                raw["object"], dict) else raw["type"]
            mix[name] = mix.get(name, 0) + 1

        done = 0
        process = worker.handlers[inbox_store.INBOX_JOB]

        async def counting(job: Job) -> int | None:
            nonlocal done
            try:
                return await process(job)
            finally:
                done += 1

        worker.handlers[inbox_store.INBOX_JOB] = counting

        async def inbox_done() -> bool:
            return done >= len(backlog)

        async def all_done() -> bool:
            counts = await svc.storage.read(job_store.count_jobs_by_state)
            return counts["pending"] == 0

        start, cpu = time.perf_counter(), time.process_time()
        worker.start()
        inbox_end = await _until(inbox_done)
        cpu = time.process_time() - cpu
        all_end = await _until(all_done, 0.01)
        await worker.stop()

        def outcome(db: Database) -> tuple[dict[str, int], int]:
            errors = {str(r[0]): r[1] for r in db.execute(
                "SELECT coalesce(error, 'applied'), count(*) FROM inbox_items"
                " WHERE actor_uri != ? GROUP BY 1", [probe_actor.actor_uri])}
            deliveries = db.execute("SELECT count(*) FROM jobs WHERE kind = ? AND state ="
                                    " 'done'", [DELIVER_JOB]).fetchone()[0]
            return errors, int(deliveries)

        errors, deliveries = await svc.storage.read(outcome)
    finally:
        await runner.cleanup()
    return ProcessResult(len(backlog), inbox_end - start, all_end - start, deliveries, mix,
                         errors, cpu, worker.concurrency)


def bench_processing(tmp: Path) -> ProcessResult:
    """Benchmark 2 (see the module docstring)."""
    config = init_instance(tmp / "process")
    proc, port = start_helper("receiver", log_path=tmp / "receiver.log")
    try:
        return asyncio.run(_bench_processing(config, port))
    finally:
        stop_helper(proc)


# -- 3. fan-out -------------------------------------------------------------------------------


@dataclass
class FanoutRun:
    """One post's fan-out: wall time from the post to the last delivery recorded as done."""

    label: str
    queue_seconds: float
    seconds: float
    cpu: float


@dataclass
class FanoutResult:
    """Figures of the fan-out benchmark."""

    followers: int
    inboxes: int
    runs: list[FanoutRun]
    received: int
    concurrency: int


def seed_followers(db: Database, followee: Account, remotes: list[RemoteActor],
                   now: datetime) -> None:
    """Store ``remotes`` as accepted followers of ``followee``, as a key fetch stores them."""
    for actor in remotes:
        account = account_store.upsert_remote_account(db, actor, now, update_key=True)
        follow_store.put_follow(db, follower_id=account.id, followee_id=followee.id,
                                state=FollowState.ACCEPTED,
                                uri=f"{actor.actor_uri}#follows/{followee.id}", now=now)


def fanout_transport(receiver_port: int, ca_pem: bytes) -> Transport:
    # Production rules (https only, no private addresses) except loopback, where the fake
    # receiver answers for every host.
    return Transport(allow_http=False, allow_private=False,
                     allowed_networks=[ipaddress.ip_network("127.0.0.0/8")],
                     resolver=CatchAllResolver(receiver_port),
                     ssl_context=ssl.create_default_context(cadata=ca_pem.decode()),
                     user_agent="fediverse-mu/bench", own_hosts=frozenset({LOCAL}))


class DeliveryTimer:
    """Times a post until every delivery job it queued has been sent (the worker's deliver
    handler, wrapped to count) and recorded done or dead."""

    def __init__(self, svc: Services, worker: Any) -> None:
        self.svc = svc
        self.finished = 0
        deliver = worker.handlers[DELIVER_JOB]

        async def counting(job: Job) -> int | None:
            try:
                result: int | None = await deliver(job)
                return result
            finally:
                self.finished += 1

        worker.handlers[DELIVER_JOB] = counting

    async def measure(self, post: Callable[[], Awaitable[None]]) -> tuple[
            float, float, float, int]:
        """(seconds to queue, seconds until all recorded, CPU seconds, jobs queued)."""
        self.finished = 0
        counts = await self.svc.storage.read(job_store.count_jobs_by_state)
        before, queued_before = counts["done"] + counts["dead"], sum(counts.values())
        start, cpu = time.perf_counter(), time.process_time()
        await post()
        queued = time.perf_counter()
        count = sum((await self.svc.storage.read(job_store.count_jobs_by_state)).values()) - \
            queued_before

        async def posted() -> bool:  # every POST answered (no database polling)
            return self.finished >= count

        async def recorded() -> bool:  # and every job recorded as done or dead
            counts = await self.svc.storage.read(job_store.count_jobs_by_state)
            return counts["done"] + counts["dead"] - before >= count

        await _until(posted, 0.002)
        end = await _until(recorded, 0.002)
        return queued - start, end - start, time.process_time() - cpu, count


async def received_posts(svc: Services, worker: Any, transport: Transport) -> int:
    """Stop the worker, check no delivery died, and ask the receiver how many POSTs came."""
    await worker.stop()
    dead = (await svc.storage.read(job_store.count_jobs_by_state))["dead"]
    if dead:
        raise RuntimeError(f"{dead} deliveries failed")
    response = await transport.get("https://s0.fan.test/_count")
    return int(response.body)


async def _bench_fanout(config: Config, receiver_port: int, ca_pem: bytes) -> FanoutResult:
    app = create_app(config, start_worker=False)
    runner = web.AppRunner(app)
    await runner.setup()
    fed = app[federation_key]
    fed.transport = transport = fanout_transport(receiver_port, ca_pem)
    await transport.start()
    try:
        svc: Services = app[services_key]
        worker = app[worker_key]
        alice = (await accounts.create_user(svc, "alice", "alice@bench.test",
                                            password="correct horse battery")).account
        pem = public_pem(new_key())
        remotes = [remote_actor(actor_uri(i, FANOUT_DOMAINS, "https", "fan.test"), pem)
                   for i in range(FANOUT_FOLLOWERS)]
        await svc.storage.write(seed_followers, alice, remotes, datetime.now(UTC))
        timer = DeliveryTimer(svc, worker)
        worker.start()
        await asyncio.sleep(0.05)

        async def post(number: int, label: str) -> tuple[FanoutRun, int]:
            # The resident posts: the status and its 500 delivery jobs in one transaction.
            async def send() -> None:
                text = f"Atelier vélo samedi à 10 h ! (annonce {number})"
                draft = await posting.prepare(svc, alice, text=text, visibility="public")
                await posting.create_status(svc, alice, draft)

            queued, total, cpu, count = await timer.measure(send)
            return FanoutRun(label, queued, total, cpu), count

        cold, inboxes = await post(1, "first post after start")
        # Later posts: the signing key is parsed and the peers are known, but connections
        # from the last post are gone (keep-alive is 15 s): new TCP + TLS handshakes.
        await transport.close()
        await transport.start()
        steady, _ = await post(2, "later post, new TLS connections")
        hot, _ = await post(3, "next post within keep-alive")
        received = await received_posts(svc, worker, transport)
    finally:
        await transport.close()
        await runner.cleanup()
    return FanoutResult(FANOUT_FOLLOWERS, inboxes, [cold, steady, hot], received,
                        worker.concurrency)


def with_tls_receiver(tmp: Path, name: str, run: Callable[[int, bytes], T]) -> T:
    """Start the receiver process over TLS (a trustme CA, a certificate for ``*.fan.test``),
    call ``run(port, ca_pem)``, stop the receiver."""
    import trustme

    ca = trustme.CA()
    cert = ca.issue_cert("*.fan.test", "127.0.0.1")
    cert_path, key_path = tmp / f"{name}-cert.pem", tmp / f"{name}-key.pem"
    cert.private_key_and_cert_chain_pem.write_to_path(str(cert_path))
    cert.private_key_pem.write_to_path(str(key_path))
    proc, port = start_helper("receiver", str(cert_path), str(key_path),
                              log_path=tmp / f"receiver-{name}.log")
    try:
        return run(port, ca.cert_pem.bytes())
    finally:
        stop_helper(proc)


def bench_fanout(tmp: Path) -> FanoutResult:
    """Benchmark 3 (see the module docstring)."""
    config = init_instance(tmp / "fanout")
    return with_tls_receiver(tmp, "tls", lambda port, ca_pem: asyncio.run(
        _bench_fanout(config, port, ca_pem)))


# -- report -----------------------------------------------------------------------------------


def run_all() -> None:
    """Run the three benchmarks and print their figures as a table."""
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        started = time.perf_counter()
        accept = bench_inbox_accept(tmp)
        process = bench_processing(tmp)
        fanout = bench_fanout(tmp)
        elapsed = time.perf_counter() - started
    other = {k: v for k, v in accept.statuses.items() if k != 202}
    cold, steady, hot = fanout.runs
    rows = [
        ("inbox accept: signed POST -> 202",
         f"{accept.rate:,.0f} activities/s, p50 {accept.p50_ms:.1f} ms, "
         f"p99 {accept.p99_ms:.1f} ms", ">= 3,000/s, p99 <= 50 ms"),
        ("full processing: inbox.process jobs", f"{process.rate:,.0f} activities/s",
         ">= 1,000/s"),
        (f"fan-out: {fanout.followers:,} followers, {fanout.inboxes} inboxes, TLS",
         f"{steady.seconds:.2f} s", "<= 1.5 s"),
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    print(f"{'benchmark':<{widths[0]}}  {'measured':<{widths[1]}}  target")
    for name, figure, target in rows:
        print(f"{name:<{widths[0]}}  {figure:<{widths[1]}}  {target}")
    print(f"  accept: {accept.requests:,} requests after {ACCEPT_WARMUP:,} of warm-up, {SENDERS}"
          f" connections, {accept.seconds:.2f} s; server CPU "
          f"{accept.server_cpu / accept.requests * 1e6:.0f} µs/activity, load generator "
          f"{accept.client_cpu / accept.requests * 1e6:.0f} µs/request; {accept.stored:,} "
          f"inbox items stored{'; non-202: ' + str(other) if other else ''}")
    print(f"  processing: {process.items:,} items in {process.seconds:.2f} s (worker "
          f"concurrency {process.concurrency}, CPU {process.cpu / process.items * 1e6:.0f} "
          f"µs/activity); with the {process.deliveries:,} Accepts they provoke delivered: "
          f"{process.all_jobs_seconds:.2f} s")
    print(f"    mix: {', '.join(f'{k} {v:,}' for k, v in process.mix.items())}; outcomes: "
          f"{', '.join(f'{k} {v:,}' for k, v in process.errors.items())}")
    for run in fanout.runs:
        print(f"  fan-out, {run.label}: {run.seconds:.2f} s (queued in "
              f"{run.queue_seconds * 1000:.0f} ms, CPU {run.cpu:.2f} s)")
    print(f"    worker concurrency {fanout.concurrency}; the receiver counted "
          f"{fanout.received:,} signed POSTs; all federation benchmarks: {elapsed:.0f} s")
    del cold, hot


def main(argv: list[str]) -> None:
    """Entry point: no argument runs the benchmarks; ``serve``/``receiver`` are helpers."""
    if argv[:1] == ["serve"]:
        asyncio.run(serve_main(argv[1]))
    elif argv[:1] == ["receiver"]:
        asyncio.run(receiver_main(*(argv[1:3] if len(argv) >= 3 else (None, None))))
    else:
        run_all()


if __name__ == "__main__":
    main(sys.argv[1:])
