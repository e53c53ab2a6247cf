"""Mastodon API benchmarks (part of ``make bench``): measured and printed, never asserted.

1. Home timeline: ``GET /api/v1/timelines/home?limit=40`` (full Status entities, accounts
   with their counts) by one resident who follows 200 of the 1,000 local accounts, in a
   database of 1,000,000 statuses (about 200 characters of HTML each, some mentions, hashtags,
   links, replies, content warnings and boosts; home feeds filled as fan-out on write fills
   them). The instance runs as ``fediverse-mu serve`` runs it (``create_app`` behind an
   aiohttp ``AppRunner``, access log on) in its own process, background worker off; the load
   generator is an aiohttp client in this process with N concurrent request loops (closed
   loop: each sends its next request when the answer has arrived), at 4 and at 50 loops; a
   warm-up precedes the timed window. Then again with ``fediverse-mu serve --workers 2`` (two
   processes sharing the port; CPU counted over both).
2. Posting: ``POST /api/v1/statuses`` (JSON, ~200 characters, some mentions and hashtags)
   from 16 concurrent loops, through the real service path (``posting.prepare`` +
   ``posting.create_status``: status, mentions, tags, home-feed rows, notifications in one
   transaction), the worker running with nothing to deliver (no followers on other servers).
   Twice: by 8 residents each followed by 100 local accounts (a post goes into 101 home
   feeds), and by 8 residents nobody follows.

Seeding 1,000,000 statuses takes about a minute, so the seeded instance (~1.1 GB) is cached
in ``var/bench/api-<key>/``: the key hashes the migration files and the seed's parameters, so
a schema change (or a change of the seed) reseeds, and other ``api-*`` folders are removed
then. Each run works on a copy of the cache in a temporary folder. ``--reseed`` forces a seed.

The seed goes through the real code for its shape and through bulk SQL for its volume: the
accounts' rows come from ``storage.accounts.put_local_account``/``put_user`` (one shared key
pair: RSA generation is slow), follows from ``storage.follows.put_follow``, the texts from
``posting.prepare`` (real formatting, mention resolution and tag extraction), and the first
statuses are posted, boosted and replied to through ``services.posting``; then the bulk rows
(``executemany`` through the storage layer's writer connection, 50,000 statuses per
transaction) copy that shape, and :func:`check_shape` compares bulk rows with real ones.

Run alone with ``python bench/api.py`` (``--reseed``, ``--profile`` to write a cProfile of the
server process to ``var/bench/api-server.prof``); ``bench/run.py`` calls :func:`run_all`.
The ``serve`` subcommand is the server process the benchmarks start.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

if __package__ in (None, ""):  # run as a script: make the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fediverse_mu.app import create_app
from fediverse_mu.appkeys import services_key
from fediverse_mu.config import load_config
from fediverse_mu.domain import FollowState, Role
from fediverse_mu.domain.statuses import status_id_for
from fediverse_mu.services import accounts, passwords, posting, tokens
from fediverse_mu.services.context import Services
from fediverse_mu.services.keys import generate_key_pair
from fediverse_mu.services.maintenance import initialise
from fediverse_mu.storage import Database, connect
from fediverse_mu.storage import accounts as account_store
from fediverse_mu.storage import follows as follow_store
from fediverse_mu.web.middleware import AccessLogger

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / "var" / "bench"
LOCAL = "bench.test"
BASE = f"http://{LOCAL}"

# The seed (any change here changes the cache key).
SEED_FORMAT = 2
ACCOUNTS = 1000  # local accounts, the reader and the posters included
FOLLOWED = 200  # accounts the reader follows (the posters among them)
STATUSES = int(os.environ.get("BENCH_API_STATUSES", "1000000"))  # smaller: quick trials
POSTERS = 8
POSTER_FOLLOWERS = 100  # local followers of each poster
QUIET = 8  # the last accounts: nobody follows them (posting without fan-out)
POOL = 2000  # distinct texts, rendered by posting.prepare
SAMPLE = 600  # statuses written through services.posting before the bulk rows
CHUNK = 50_000  # bulk statuses per transaction
SPAN = 365 * 86400  # the statuses cover a year
START = datetime(2025, 11, 21, 8, 0, tzinfo=UTC).timestamp()

# The measurements.
PAGE = 40
READ_LOOPS = (4, 50)
READ_WARMUP = 3.0
READ_SECONDS = 10.0
POST_LOOPS = 16
POST_WARMUP = 2.0
POST_SECONDS = 10.0
PROFILE = CACHE / "api-server.prof"

WORDS = ("atelier vélo samedi matin quartier jardin partagé compost réunion voisins repair café"
         " bibliothèque gare marché soupe concert chorale école parents goûter fête rue"
         " bénévoles tiers-lieu fabrique outils prêt perceuse couture potager semis tomates"
         " récolte pain four banquet assemblée budget participatif vote projet mur peinture"
         " fresque enfants ados sortie balade patrimoine archives photos exposition cinéma"
         " plein air épicerie solidaire paniers légumes producteurs local circuit court").split()
TAGS = ("quartier", "vélo", "jardin", "repaircafé", "compost", "fête", "marché", "cinéma",
        "bénévolat", "tierslieu", "école", "budget")


def username(index: int) -> str:
    """Account number ``index``: 0 is the reader, 1..POSTERS the posters, then the others."""
    if index == 0:
        return "reader"
    if index <= POSTERS:
        return f"poster{index}"
    return f"u{index:04d}"


def cache_key() -> str:
    """Hash of the migrations (names and contents) and of the seed's parameters."""
    digest = hashlib.sha256()
    for path in sorted((ROOT / "migrations").glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    digest.update(json.dumps([SEED_FORMAT, ACCOUNTS, FOLLOWED, STATUSES, POSTERS,
                              POSTER_FOLLOWERS, QUIET, POOL, SAMPLE, SPAN, START]).encode())
    return digest.hexdigest()[:12]


class Clock:
    """A hand-moved clock for the seeding app (statuses dated over the past year)."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


# -- seeding --------------------------------------------------------------------------------------


def _seed_accounts(db: Database, key_pair: tuple[str, str], password_hash: str,
                   now: datetime) -> list[int]:
    """Accounts 1.. (0 was created through the service) with their users, as the service's
    ``_insert`` writes them."""
    ids = []
    for index in range(1, ACCOUNTS):
        name = username(index)
        actor = f"{BASE}/users/{name}"
        account = account_store.put_local_account(
            db, username=name, actor_uri=actor, actor_type="Person", url=f"{BASE}/@{name}",
            inbox_uri=f"{actor}/inbox", shared_inbox_uri=f"{BASE}/inbox",
            public_key_pem=key_pair[1], private_key_pem=key_pair[0], created_at=now,
            display_name=f"Voisin·e {index}")
        account_store.put_user(db, account_id=account.id, email=f"{name}@{LOCAL}",
                               password_hash=password_hash, role=Role.RESIDENT, approved=True,
                               locale="fr", created_at=now)
        ids.append(account.id)
    return ids


def _seed_follows(db: Database, pairs: list[tuple[int, int]], now: datetime) -> None:
    for follower, followee in pairs:
        follow_store.put_follow(db, follower_id=follower, followee_id=followee,
                                state=FollowState.ACCEPTED,
                                uri=f"{BASE}/follows/{follower}-{followee}", now=now)


def _text(rng: random.Random) -> str:
    """About 200 characters of neighbourhood news, sometimes with a mention, tags, a link."""
    words: list[str] = []
    while sum(len(w) + 1 for w in words) < rng.randint(150, 230):
        words.append(rng.choice(WORDS))
    words[0] = words[0].capitalize()
    text = " ".join(words) + rng.choice((".", " !", " ?", "…"))
    roll = rng.random()
    if roll < 0.15:
        text = f"@{username(rng.randrange(ACCOUNTS))} {text}"
    if rng.random() < 0.25:
        text += " " + " ".join(f"#{t}" for t in rng.sample(TAGS, rng.randint(1, 2)))
    if rng.random() < 0.08:
        text += f" https://quartier.example/agenda/{rng.randrange(10_000)}"
    return text


@dataclass(frozen=True)
class Pooled:
    """A text as ``posting.prepare`` rendered it."""

    text: str
    html: str
    tags: tuple[str, ...]
    mention_ids: tuple[int, ...]
    spoiler: str


@dataclass
class Recent:
    """What a reply or a boost needs to know of an earlier status."""

    id: int
    uri: str
    account_id: int
    conversation_uri: str
    visibility: str


@dataclass
class BulkState:
    """Follower lists and the counters to fix once the rows are in."""

    followers: dict[int, list[int]]
    replies: Counter[int] = field(default_factory=Counter)
    reblogs: Counter[int] = field(default_factory=Counter)
    recent: list[Recent] = field(default_factory=list)


def _row(status_id: int, author: int, when: float, kind: str, pooled: Pooled | None,
         target: Recent | None, visibility: str) -> tuple[Any, ...]:
    """One ``statuses`` row, in the column order of :data:`_INSERT`, as posting writes it."""
    name = username(author_index(author))
    created = datetime.fromtimestamp(when, UTC).isoformat()
    if kind == "boost":
        assert target is not None
        return (status_id, f"{BASE}/users/{name}/statuses/{status_id}/activity",
                f"{BASE}/@{name}/{status_id}", author, 1, "", None, "", 0, visibility, None,
                created, None, None, None, target.id, None, 0, 0, None)
    assert pooled is not None
    return (status_id, f"{BASE}/users/{name}/statuses/{status_id}", f"{BASE}/@{name}/{status_id}",
            author, 1, pooled.html, pooled.text, pooled.spoiler, int(bool(pooled.spoiler)),
            visibility, None, created,
            None if target is None else target.id, None if target is None else target.uri,
            None if target is None else target.account_id, None,
            f"{BASE}/contexts/{status_id}" if target is None else target.conversation_uri,
            0, 0, None)


_INSERT = ("INSERT INTO statuses (id, uri, url, account_id, local, content, source_text,"
           " spoiler_text, sensitive, visibility, language, created_at, in_reply_to_id,"
           " in_reply_to_uri, in_reply_to_account_id, reblog_of_id, conversation_uri,"
           " local_only, has_media, edited_at) VALUES (" + ", ".join("?" * 20) + ")")

_ACCOUNT_IDS: list[int] = []  # account index -> id (filled by the seed)
_INDEX_OF: dict[int, int] = {}


def author_index(account_id: int) -> int:
    """The seed index of an account id."""
    return _INDEX_OF[account_id]


def _bulk_chunk(db: Database, rows: list[tuple[Any, ...]], mentions: list[tuple[int, int]],
                tags: list[tuple[int, str]], home: list[tuple[int, int]]) -> None:
    db.execute("PRAGMA cache_size = -524288")  # 512 MiB while seeding
    db.conn.executemany(_INSERT, rows)
    db.conn.executemany("INSERT INTO mentions (status_id, account_id) VALUES (?, ?)", mentions)
    db.conn.executemany("INSERT INTO status_tags (status_id, tag) VALUES (?, ?)", tags)
    db.conn.executemany("INSERT OR IGNORE INTO home_feed (account_id, status_id) VALUES (?, ?)",
                        home)


def _bulk_counters(db: Database, replies: Counter[int], reblogs: Counter[int]) -> None:
    db.conn.executemany("UPDATE statuses SET replies_count = replies_count + ? WHERE id = ?",
                        [(n, i) for i, n in replies.items()])
    db.conn.executemany("UPDATE statuses SET reblogs_count = reblogs_count + ? WHERE id = ?",
                        [(n, i) for i, n in reblogs.items()])


def _bulk_chunks(rng: random.Random, pool: list[Pooled], state: BulkState, count: int,
                 first: float) -> Iterator[tuple[list[tuple[Any, ...]], list[tuple[int, int]],
                                                 list[tuple[int, str]], list[tuple[int, int]]]]:
    step = SPAN / count
    rows: list[tuple[Any, ...]] = []
    mentions: list[tuple[int, int]] = []
    tags: list[tuple[int, str]] = []
    home: list[tuple[int, int]] = []
    recent = state.recent
    for n in range(count):
        when = first + n * step + rng.random() * step * 0.5
        status_id = status_id_for(datetime.fromtimestamp(when, UTC), rng.getrandbits(16))
        author = _ACCOUNT_IDS[rng.randrange(ACCOUNTS)]
        roll = rng.random()
        audience = [author, *state.followers.get(author, ())]
        target: Recent | None = None
        if roll < 0.03 and recent:  # a boost of a recent public status
            target = rng.choice(recent)
            if target.account_id == author or target.visibility != "public":
                target = None
        if target is not None:
            rows.append(_row(status_id, author, when, "boost", None, target, "public"))
            state.reblogs[target.id] += 1
        else:
            pooled = rng.choice(pool)
            reply_to = rng.choice(recent) if roll < 0.09 and recent else None
            visibility = "public" if roll < 0.85 else "unlisted" if roll < 0.97 else "private"
            if reply_to is not None and reply_to.visibility == "private":
                reply_to = None
            rows.append(_row(status_id, author, when, "status", pooled, reply_to, visibility))
            if reply_to is not None:
                state.replies[reply_to.id] += 1
            for mentioned in pooled.mention_ids:
                mentions.append((status_id, mentioned))
                audience.append(mentioned)
            tags += [(status_id, t) for t in pooled.tags]
            if reply_to is None or rng.random() < 0.3:
                item = Recent(status_id, rows[-1][1], author,
                              rows[-1][16], visibility)
                if len(recent) < 5000:
                    recent.append(item)
                else:
                    recent[rng.randrange(5000)] = item
        home += [(a, status_id) for a in dict.fromkeys(audience)]
        if len(rows) >= CHUNK:
            yield rows, mentions, tags, home
            rows, mentions, tags, home = [], [], [], []
    if rows:
        yield rows, mentions, tags, home


def _sample_rows(db: Database, ids: list[int]) -> list[dict[str, Any]]:
    marks = ",".join("?" * len(ids))
    return [dict(r) for r in db.execute(f"SELECT * FROM statuses WHERE id IN ({marks})", ids)]


def _kind(row: dict[str, Any]) -> str:
    if row["reblog_of_id"] is not None:
        return "boost"
    return "reply" if row["in_reply_to_id"] is not None else "status"


def check_shape(real: list[dict[str, Any]], bulk: list[dict[str, Any]]) -> None:
    """Bulk rows must look like rows the service wrote: per kind (status, reply, boost), the
    same columns set or NULL, with the same types, and the same URI forms."""
    def signature(row: dict[str, Any]) -> tuple[Any, ...]:
        varying = {"spoiler_text", "sensitive", "visibility", "replies_count", "reblogs_count",
                   "favourites_count"}
        return (_kind(row), tuple(sorted((k, type(v).__name__) for k, v in row.items()
                                         if k not in varying)),
                row["uri"].rsplit("/", 1)[-1] == "activity", row["created_at"].endswith("+00:00"))
    expected = {signature(r) for r in real}
    for row in bulk:
        if signature(row) not in expected:
            raise RuntimeError(f"bulk row unlike the service's rows: {row}")


async def _seed(folder: Path) -> dict[str, Any]:
    started = time.perf_counter()
    rng = random.Random(20261121)
    config = initialise(folder, {"domain": LOCAL, "scheme": "http", "dev_allow_http": True,
                                 "dev_allow_private_addresses": True,
                                 "registration_mode": "open"})
    clock = Clock(START - 86400)
    app = create_app(config, start_worker=False, clock=clock)
    runner = web.AppRunner(app)
    await runner.setup()
    try:
        svc: Services = app[services_key]
        reader = (await accounts.create_user(svc, "reader", f"reader@{LOCAL}",
                                             password="correct horse battery")).account
        key_pair = generate_key_pair()
        password_hash = passwords.hash_password("correct horse battery")
        created = datetime.fromtimestamp(clock(), UTC)
        _ACCOUNT_IDS[:] = [reader.id, *await svc.storage.write(
            _seed_accounts, key_pair, password_hash, created)]
        _INDEX_OF.update({a: i for i, a in enumerate(_ACCOUNT_IDS)})
        posters = _ACCOUNT_IDS[1:POSTERS + 1]
        others = _ACCOUNT_IDS[POSTERS + 1:ACCOUNTS - QUIET]
        followed = posters + rng.sample(others, FOLLOWED - POSTERS)
        pairs = [(reader.id, f) for f in followed]
        followers: dict[int, list[int]] = {f: [reader.id] for f in followed}
        for poster in posters:
            for fan in rng.sample(others, POSTER_FOLLOWERS - 1):
                pairs.append((fan, poster))
                followers[poster].append(fan)
        await svc.storage.write(_seed_follows, pairs, created)

        # Texts rendered by the real path (formatting, mention resolution, tags).
        pool: list[Pooled] = []
        for _ in range(POOL):
            text = _text(rng)
            draft = await posting.prepare(svc, reader, text=text)
            spoiler = "Spoiler : la fin du film" if rng.random() < 0.03 else ""
            pool.append(Pooled(text, draft.html, draft.tags, tuple(m.id for m in draft.mentions),
                               spoiler))

        # A sample through services.posting: statuses, replies and boosts.
        by_id = {a.id: a for a in (await svc.storage.read(
            account_store.get_accounts_by_ids, _ACCOUNT_IDS)).values()}
        real_ids: list[int] = []
        public_ids: list[int] = []  # what anyone may reply to or boost
        for n in range(SAMPLE):
            clock.now = START - 86400 + n * 60
            author = by_id[rng.choice(_ACCOUNT_IDS)]
            if n % 20 == 19 and public_ids:
                view = await posting.reblog(svc, author, rng.choice(public_ids))
            else:
                item = rng.choice(pool)
                reply = rng.choice(public_ids) if n % 10 == 9 and public_ids else None
                visibility = rng.choice(("public",) * 8 + ("unlisted", "private"))
                draft = await posting.prepare(svc, author, text=item.text,
                                              spoiler_text=item.spoiler, in_reply_to_id=reply,
                                              visibility=visibility)
                view = await posting.create_status(svc, author, draft)
                if visibility == "public":
                    public_ids.append(view.status.id)
            real_ids.append(view.status.id)
        real = await svc.storage.read(_sample_rows, real_ids)

        # The bulk, copying that shape.
        state = BulkState(followers)
        done = SAMPLE
        for chunk in _bulk_chunks(rng, pool, state, STATUSES - SAMPLE, START):
            await svc.storage.write(_bulk_chunk, *chunk)
            done += len(chunk[0])
            print(f"  {done:,} statuses…", end="\r", file=sys.stderr, flush=True)
        await svc.storage.write(_bulk_counters, state.replies, state.reblogs)
        sample_ids = [r.id for r in state.recent[:300]]
        boosts = await svc.storage.read(lambda db: [r[0] for r in db.execute(
            "SELECT id FROM statuses WHERE reblog_of_id IS NOT NULL ORDER BY id DESC LIMIT 50")])
        check_shape(real, await svc.storage.read(_sample_rows, sample_ids + boosts))

        secrets = {"reader": await tokens.create_token_for(svc, "reader")}
        for index in [*range(1, POSTERS + 1), *range(ACCOUNTS - QUIET, ACCOUNTS)]:
            secrets[username(index)] = await tokens.create_token_for(svc, username(index))
        counts = await svc.storage.read(lambda db: {
            table: db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("accounts", "follows", "statuses", "mentions", "status_tags",
                          "home_feed")})
        reader_feed = await svc.storage.read(lambda db: db.execute(
            "SELECT count(*) FROM home_feed WHERE account_id = ?", [reader.id]).fetchone()[0])
    finally:
        await runner.cleanup()
    db = connect(config.database_path)
    try:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        db.close()
    return {"tokens": secrets, "counts": counts, "reader_home_feed": reader_feed,
            "seconds": round(time.perf_counter() - started, 1)}


def seeded_instance(reseed: bool = False) -> Path:
    """The cached seeded instance folder (seeding it first when missing or stale)."""
    key = cache_key()
    folder = CACHE / f"api-{key}"
    if reseed and folder.exists():
        shutil.rmtree(folder)
    if (folder / "seed.json").exists():
        return folder
    CACHE.mkdir(parents=True, exist_ok=True)
    for stale in CACHE.glob("api-*"):
        if stale.is_dir():
            shutil.rmtree(stale)
    print(f"api: seeding {STATUSES:,} statuses into {folder} (once per schema)…",
          file=sys.stderr)
    partial = CACHE / f"partial-api-{key}"
    if partial.exists():
        shutil.rmtree(partial)
    info = asyncio.run(_seed(partial))
    (partial / "seed.json").write_text(json.dumps(info, indent=1))
    partial.rename(folder)
    print(f"api: seeded in {info['seconds']:.0f} s", file=sys.stderr)
    return folder


# -- the server process ---------------------------------------------------------------------------


async def serve_main(data: str, profile: str | None) -> None:
    """Helper process: the instance on 127.0.0.1 as ``fediverse-mu serve`` runs it (access
    log, the config's log level); the worker only with ``BENCH_WORKER=1``."""
    config = load_config(Path(data))
    logging.basicConfig(level=config.log_level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = create_app(config, start_worker=os.environ.get("BENCH_WORKER") == "1")
    runner = web.AppRunner(app, access_log_class=AccessLogger,
                           access_log=logging.getLogger("fediverse_mu.access"))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
    await site.start()
    print(runner.addresses[0][1], flush=True)
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    try:
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.buffer.read)
    finally:
        if profiler is not None and profile:
            profiler.disable()
            profiler.dump_stats(profile)
        await runner.cleanup()


def start_server(data: Path, log_path: Path, *, worker: bool = False,
                 profile: Path | None = None) -> tuple[subprocess.Popen[bytes], int]:
    """Start ``python bench/api.py serve DATA`` and read the port it prints."""
    env = {**os.environ, "BENCH_WORKER": "1" if worker else "0"}
    args = [sys.executable, str(Path(__file__).resolve()), "serve", str(data)]
    if profile is not None:
        args.append(str(profile))
    with log_path.open("ab") as log_file:
        proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=log_file, env=env)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        raise RuntimeError(f"the server did not start; see {log_path}")
    return proc, int(line)


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    """Close the server's stdin (its signal to stop) and wait for it."""
    assert proc.stdin is not None
    proc.stdin.close()
    try:
        proc.wait(60)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.wait()


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system, all threads) used so far by a process and its children
    (the other web processes of ``serve --workers N``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return own + sum(process_cpu(child) for child in _children(pid))


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def start_workers(data: Path, log_path: Path, workers: int) -> tuple[subprocess.Popen[bytes], int]:
    """Start ``fediverse-mu serve --workers N`` (as an admin would) on a free port, and wait
    until every process answers."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with log_path.open("ab") as log_file:
        proc = subprocess.Popen([sys.executable, "-m", "fediverse_mu", "serve", "--data",
                                 str(data), "--host", "127.0.0.1", "--port", str(port),
                                 "--workers", str(workers)], stdin=subprocess.DEVNULL,
                                stdout=log_file, stderr=log_file)
    deadline = time.monotonic() + 60
    while len(_children(proc.pid)) < workers - 1 or not _answers(port):
        if time.monotonic() > deadline or proc.poll() is not None:
            proc.kill()
            raise RuntimeError(f"serve --workers {workers} did not start; see {log_path}")
        time.sleep(0.2)
    time.sleep(2)  # the other processes open their sockets a little after they start
    return proc, port


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    index = max(0, min(len(sorted_values) - 1, round(fraction * len(sorted_values)) - 1))
    return sorted_values[index]


# -- the load generator ---------------------------------------------------------------------------


@dataclass
class LoadResult:
    """Figures of one timed window."""

    label: str
    loops: int
    seconds: float
    latencies: list[float]
    statuses: dict[int, int]
    bytes: int
    server_cpu: float
    client_cpu: float

    @property
    def requests(self) -> int:
        """Requests answered in the window."""
        return len(self.latencies)

    @property
    def rate(self) -> float:
        """Requests per second."""
        return self.requests / self.seconds

    def ms(self, fraction: float) -> float:
        """A latency percentile, in milliseconds."""
        return percentile(self.latencies, fraction) * 1000


Request = tuple[str, str, dict[str, str], Any]  # method, path, headers, JSON body


async def load(port: int, pid: int, label: str, loops: int, warmup: float, seconds: float,
               next_request: Any) -> LoadResult:
    """``loops`` concurrent closed loops for ``warmup`` + ``seconds``; requests that start
    inside the timed window are measured (the window's end waits for them)."""
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    received = 0
    base = f"http://127.0.0.1:{port}"
    loop_start = time.perf_counter()
    window_start = loop_start + warmup
    window_end = window_start + seconds
    cpu: dict[str, float] = {}

    async def client(number: int, session: aiohttp.ClientSession) -> None:
        nonlocal received
        sequence = 0
        while True:
            start = time.perf_counter()
            if start >= window_end:
                return
            if start >= window_start and "server" not in cpu:
                cpu["server"], cpu["client"] = process_cpu(pid), time.process_time()
            method, path, headers, body = next_request(number, sequence)
            sequence += 1
            async with session.request(method, base + path, headers=headers,
                                       json=body) as response:
                payload = await response.read()
            if start >= window_start:
                latencies.append(time.perf_counter() - start)
                statuses[response.status] += 1
                received += len(payload)

    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(connector=connector) as session:
        await asyncio.gather(*(client(n, session) for n in range(loops)))
    elapsed = time.perf_counter() - window_start
    server_cpu = process_cpu(pid) - cpu["server"]
    client_cpu = time.process_time() - cpu["client"]
    latencies.sort()
    return LoadResult(label, loops, elapsed, latencies, dict(statuses), received, server_cpu,
                      client_cpu)


async def _check_home(port: int, token: str) -> dict[str, Any]:
    """One home page, checked: full entities, accounts with counts."""
    async with aiohttp.ClientSession() as session:
        async with session.get(f"http://127.0.0.1:{port}/api/v1/timelines/home?limit={PAGE}",
                               headers={"Authorization": f"Bearer {token}"}) as response:
            if response.status != 200:
                raise RuntimeError(f"home timeline: {response.status} {await response.text()}")
            body = await response.read()
            page = json.loads(body)
    if len(page) != PAGE or any(not s["account"]["statuses_count"] for s in page):
        raise RuntimeError("home timeline: not a full page of full entities")
    return {"bytes": len(body), "boosts": sum(s["reblog"] is not None for s in page),
            "authors": len({s["account"]["id"] for s in page})}


def bench_home(data: Path, token: str, log: Path, profile: Path | None, workers: int = 1,
               ) -> tuple[dict[str, Any], list[LoadResult]]:
    """Benchmark 1 (see the module docstring); ``workers`` > 1 runs ``fediverse-mu serve
    --workers N`` instead of one process."""
    if workers > 1:
        proc, port = start_workers(data, log, workers)
    else:
        proc, port = start_server(data, log, profile=profile)
    try:
        checked = asyncio.run(_check_home(port, token))
        headers = {"Authorization": f"Bearer {token}"}
        path = f"/api/v1/timelines/home?limit={PAGE}"

        def home(number: int, sequence: int) -> Request:
            return "GET", path, headers, None

        label = "home" if workers == 1 else f"home, {workers} processes"
        results = [asyncio.run(load(port, proc.pid, label, loops, READ_WARMUP, READ_SECONDS,
                                    home)) for loops in READ_LOOPS]
    finally:
        if workers > 1:
            proc.terminate()
            proc.wait(30)
        else:
            stop_server(proc)
    return checked, results


@dataclass
class Posted:
    """What a posting benchmark stored: statuses, home-feed rows, and how long after the last
    answer the home-feed fan-out jobs took to finish (0 when every post was fanned out inline)."""

    statuses: int
    home_rows: int
    drain_seconds: float


def _posted(db_path: Path, since_id: int) -> tuple[int, int, int]:
    """Statuses posted after ``since_id``, their home-feed rows, and fan-out jobs not done."""
    db = connect(db_path)
    try:
        return (int(db.execute("SELECT count(*) FROM statuses WHERE id > ?",
                               [since_id]).fetchone()[0]),
                int(db.execute("SELECT count(*) FROM home_feed WHERE status_id > ?",
                               [since_id]).fetchone()[0]),
                int(db.execute("SELECT count(*) FROM jobs WHERE kind = 'home.fanout' AND"
                               " state != 'done'").fetchone()[0]))
    finally:
        db.close()


def bench_posting(data: Path, secrets: dict[str, str], log: Path, label: str,
                  posters: list[str]) -> tuple[LoadResult, Posted]:
    """Benchmark 2 (see the module docstring). The clock of the figure stops at the last
    answer; the server is then kept until the queued home-feed fan-out is done (its lag is
    printed apart), and the home-feed rows are counted."""
    rng = random.Random(7)
    texts = [_text(rng) for _ in range(500)]
    headers = [{"Authorization": f"Bearer {secrets[p]}"} for p in posters]

    def post(number: int, sequence: int) -> Request:
        text = texts[(number * 7919 + sequence) % len(texts)]
        return "POST", "/api/v1/statuses", headers[number % len(headers)], {
            "status": f"{text} ({number}-{sequence})", "visibility": "public"}

    database = load_config(data).database_path
    db = connect(database)
    try:
        since = int(db.execute("SELECT max(id) FROM statuses").fetchone()[0])
    finally:
        db.close()
    proc, port = start_server(data, log, worker=True)
    try:
        result = asyncio.run(load(port, proc.pid, label, POST_LOOPS, POST_WARMUP, POST_SECONDS,
                                  post))
        answered = time.perf_counter()
        while _posted(database, since)[2] and time.perf_counter() - answered < 120:
            time.sleep(0.01)
        drain = time.perf_counter() - answered
    finally:
        stop_server(proc)
    statuses, rows, pending = _posted(database, since)
    if pending:
        raise RuntimeError(f"{label}: {pending} home-feed fan-out jobs still pending")
    return result, Posted(statuses, rows, drain)


# -- report ---------------------------------------------------------------------------------------


def run_all(*, reseed: bool = False, profile: bool = False) -> None:
    """Seed (or reuse the cache), run both benchmarks and print their figures."""
    started = time.perf_counter()
    cached = seeded_instance(reseed)
    info = json.loads((cached / "seed.json").read_text())
    with tempfile.TemporaryDirectory(prefix="bench-api-") as folder:
        data = Path(folder) / "instance"
        copy_start = time.perf_counter()
        shutil.copytree(cached, data)
        os.sync()  # the 1 GB copy's write-back would otherwise compete with the posting runs
        copied = time.perf_counter() - copy_start
        checked, reads = bench_home(data, info["tokens"]["reader"], Path(folder) / "serve.log",
                                    PROFILE if profile else None)
        reads += bench_home(data, info["tokens"]["reader"], Path(folder) / "serve-2.log", None,
                            workers=2)[1]
        posts = [bench_posting(data, info["tokens"], Path(folder) / "serve-post.log", label,
                               [username(i) for i in indexes])
                 for label, indexes in (
                     ("post (fan-out)", range(1, POSTERS + 1)),
                     ("post (no followers)", range(ACCOUNTS - QUIET, ACCOUNTS)))]
    elapsed = time.perf_counter() - started
    rows = []
    for result in reads:
        target = ">= 1,000/s, p99 <= " + ("10 ms" if result.loops <= 4 else "100 ms")
        processes = "" if result.label == "home" else result.label.removeprefix("home,") + ","
        rows.append((f"home timeline, limit={PAGE},{processes} {result.loops} clients",
                     f"{result.rate:,.0f} requests/s, p50 {result.ms(0.5):.1f} ms, "
                     f"p99 {result.ms(0.99):.1f} ms", target))
    for (posted, _), who in zip(posts, (f"{POSTER_FOLLOWERS} local followers each",
                                        "no followers"), strict=True):
        rows.append((f"POST /api/v1/statuses, {POST_LOOPS} clients, {who}",
                     f"{posted.rate:,.0f} statuses/s, p50 {posted.ms(0.5):.1f} ms, "
                     f"p99 {posted.ms(0.99):.1f} ms", ">= 500/s"))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    print(f"{'benchmark':<{widths[0]}}  {'measured':<{widths[1]}}  target")
    for name, figure, target in rows:
        print(f"{name:<{widths[0]}}  {figure:<{widths[1]}}  {target}")
    counts = info["counts"]
    print(f"  database: {counts['statuses']:,} statuses, {counts['accounts']:,} accounts, "
          f"{counts['follows']:,} follows, {counts['home_feed']:,} home-feed rows "
          f"({info['reader_home_feed']:,} the reader's), {counts['mentions']:,} mentions, "
          f"{counts['status_tags']:,} tags; copied from the cache in {copied:.1f} s")
    print(f"  a page: {checked['bytes'] / 1024:.0f} KiB, {checked['authors']} authors, "
          f"{checked['boosts']} boosts")
    for result in [*reads, *(posted for posted, _ in posts)]:
        other = {k: v for k, v in result.statuses.items() if k != 200}
        warmup = READ_WARMUP if result.label.startswith("home") else POST_WARMUP
        print(f"  {result.label} x{result.loops}: {result.requests:,} requests in "
              f"{result.seconds:.1f} s after {warmup:.0f} s of warm-up; server CPU "
              f"{result.server_cpu / result.requests * 1e6:,.0f} µs/request"
              f" ({result.server_cpu / result.seconds * 100:.0f}% of a core), load generator "
              f"{result.client_cpu / result.requests * 1e6:,.0f} µs/request"
              f"{'; non-200: ' + str(other) if other else ''}")
    for (_, stored), who in zip(posts, ("fan-out", "no followers"), strict=True):
        print(f"  posting ({who}): {stored.statuses:,} statuses stored (warm-up included), "
              f"{stored.home_rows:,} home-feed rows ({stored.home_rows / stored.statuses:.1f}"
              f" per status); home-feed fan-out done {stored.drain_seconds:.2f} s after the "
              f"last answer")
    print(f"  all API benchmarks: {elapsed:.0f} s")
    if profile:
        print(f"  server profile (event-loop thread): {PROFILE}")


def main(argv: list[str]) -> None:
    """Entry point: no argument runs the benchmarks; ``serve`` is the server process."""
    if argv[:1] == ["serve"]:
        asyncio.run(serve_main(argv[1], argv[2] if len(argv) > 2 else None))
    else:
        run_all(reseed="--reseed" in argv, profile="--profile" in argv)


if __name__ == "__main__":
    main(sys.argv[1:])
