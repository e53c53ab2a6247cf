"""Live streams (Mastodon's streaming API, https://docs.joinmastodon.org/methods/streaming/):
one :class:`Hub` per process listens on the event bus and fans each event out to the clients
connected right now, each through its own bounded queue.

How an event travels: ``services.posting`` commits, then publishes ``status.created`` (or
``status.updated``, ``status.deleted``, ``notification``) on the bus. The hub's listener only
puts the event on the hub's backlog (never blocking the publisher); the hub's single task takes
it from there, works out from the payload which subscriptions may want it (home and list
feeds, public and local timelines, hashtags) and, only if some do, loads the status once per
distinct viewer in one storage read (checking visibility, blocks and mutes for each), has the
face render the entities in one batch (so ``favourited``, ``bookmarked``… are each viewer's
own) and pushes the serialised message onto every matching connection's queue. A connection whose
queue is full is a client that stopped reading: it is dropped (its queue emptied, its
``on_drop`` called to cut the socket) and never slows anyone else.

Each signed-in viewer's filters apply as on the REST timelines (``services.filters``): the
entity's ``filtered`` lists the filters its status matched, and a status a ``hide`` filter
matches is not sent on the streams of that filter's context (``user`` and lists: ``home``;
public and hashtag streams: ``public``; notifications: ``notifications``). Filters come from
the in-memory cache of ``services.filters`` (no read per event), which forgets a resident's
when ``filters.changed`` is announced; the hub then sends ``filters_changed`` on their ``user``
streams, as Mastodon does, so that clients reload them.

Rendering belongs to the face: the hub is given a :class:`Renderer` (services never import
``web``)."""

from __future__ import annotations

import asyncio
import json
import logging
from collections import OrderedDict
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from fediverse_mu.domain import Account, Forbidden, Invalid, NotFound, Unauthorized
from fediverse_mu.domain.conversations import ConversationView
from fediverse_mu.domain.filters import FilterContext, FilterMatch
from fediverse_mu.domain.notifications import NotificationView
from fediverse_mu.domain.statuses import Status, StatusView, Visibility
from fediverse_mu.events import (
    CONVERSATION,
    FILTERS_CHANGED,
    HOME_FANOUT,
    NOTIFICATION,
    STATUS_CREATED,
    STATUS_DELETED,
    STATUS_UPDATED,
    TOKEN_REVOKED,
)
from fediverse_mu.services import conversations as conversation_service
from fediverse_mu.services import filters as filter_service
from fediverse_mu.services import formatting
from fediverse_mu.services import lists as list_service
from fediverse_mu.services import notifications as notification_service
from fediverse_mu.services.context import Services
from fediverse_mu.storage import Database
from fediverse_mu.storage import moderation as moderation_store
from fediverse_mu.storage import relationships as relationship_store
from fediverse_mu.storage import statuses as status_store
from fediverse_mu.storage import streaming as store

log = logging.getLogger(__name__)

QUEUE_SIZE = 256  # messages waiting for one client before it counts as stalled
BACKLOG = 10_000  # events waiting for the hub's task before new ones are dropped
RECENT = 1024  # status ids already announced as created (a repeated create is not news)
MAX_TAG = 100

_PUBLIC = {"public": None, "public:local": True, "public:remote": False}
_USER_STREAMS = {"user": "read:statuses", "user:notification": "read:notifications",
                 "list": "read:statuses", "direct": "read:statuses"}
STREAM_NAMES = frozenset({*_PUBLIC, *(f"{n}:media" for n in _PUBLIC), "hashtag",
                          "hashtag:local", *_USER_STREAMS})


@dataclass(frozen=True, slots=True)
class Stream:
    """One subscription: a stream name and its parameter (``tag`` for hashtags as the client
    wrote it, ``list`` for lists)."""

    name: str
    tag: str | None = None
    list_id: str | None = None

    @property
    def labels(self) -> tuple[str, ...]:
        """The ``stream`` array of the messages it produces (``["hashtag", "Café"]``)."""
        extra = self.tag if self.tag is not None else self.list_id
        return (self.name,) if extra is None else (self.name, extra)

    @property
    def key(self) -> tuple[str, str | None]:
        """What makes two subscriptions the same (tags compared normalised)."""
        if self.tag is not None:
            return self.name, formatting.normalize_tag(self.tag)
        return self.name, self.list_id

    @property
    def media_only(self) -> bool:
        """True for ``public:media`` and its local and remote variants."""
        return self.name.endswith(":media")

    @property
    def base(self) -> str:
        """The name without ``:media``."""
        return self.name.removesuffix(":media")


def parse_stream(name: str, *, tag: str | None = None, list_id: str | None = None,
                 only_media: bool = False) -> Stream:
    """Check a stream a client asked for (Invalid: unknown name or missing tag)."""
    name = name.strip()
    if only_media and name in _PUBLIC:
        name += ":media"
    if name not in STREAM_NAMES:
        raise Invalid(f"Unknown stream type: {name[:50]!r}" if name else "No stream given")
    if name.startswith("hashtag"):
        tag = (tag or "").strip().lstrip("#")
        if not tag:
            raise Invalid("No tag for stream provided")
        if len(tag) > MAX_TAG:
            raise Invalid(f"A tag has at most {MAX_TAG} characters")
        return Stream(name, tag=tag)
    if name == "list":
        list_id = (list_id or "").strip()
        if not list_id:
            raise Invalid("No list for stream provided")
        if not list_id.isdigit() or len(list_id) > 20:
            raise NotFound("Record not found")
        return Stream(name, list_id=list_id)
    return Stream(name)


@dataclass(frozen=True, slots=True)
class Message:
    """One event for one subscription: ``payload`` is already a string (JSON, or a status id
    for ``delete``), as Mastodon sends it; None for an event without one
    (``filters_changed``)."""

    stream: tuple[str, ...]
    event: str
    payload: str | None


@dataclass(frozen=True, slots=True)
class Refusal:
    """A subscription the client asked for over a WebSocket and did not get."""

    error: str
    status: int
    stream: tuple[str, ...] = ()


class Renderer(Protocol):
    """Builds client entities (supplied by the face)."""

    async def statuses(self, views: list[StatusView],
                       matches: Sequence[Mapping[int, Sequence[FilterMatch]]],
                       ) -> list[dict[str, Any]]:
        """Status entities, in order; ``matches``: for each, the filters of its viewer that
        it matched, by status id (the Status entity's ``filtered``)."""
        ...

    async def notifications(self, views: list[NotificationView],
                            matches: Mapping[int, Sequence[FilterMatch]],
                            ) -> list[dict[str, Any]]:
        """Notification entities, in order; ``matches``: the owner's filters their statuses
        matched, by status id."""
        ...

    async def conversations(self, views: list[ConversationView]) -> list[dict[str, Any]]:
        """Conversation entities, in order."""
        ...


def _anyone(scope: str) -> bool:
    return False


class Connection:
    """One connected client: who it is, what its token allows, what it subscribed to, and
    the bounded queue of messages waiting to be written to it."""

    def __init__(self, viewer: Account | None, allows: Callable[[str], bool] = _anyone, *,
                 queue_size: int = QUEUE_SIZE,
                 on_drop: Callable[[], None] | None = None,
                 token_id: int | None = None) -> None:
        self.viewer = viewer
        self.token_id = token_id  # the connection ends when this token is revoked
        self.allows = allows if viewer is not None else _anyone
        self.streams: dict[tuple[str, str | None], Stream] = {}
        self.dropped = False
        self.closed = False
        self._queue: asyncio.Queue[Message | Refusal | None] = asyncio.Queue(queue_size)
        self._on_drop = on_drop

    @property
    def viewer_id(self) -> int | None:
        """The viewer's account id (None: anonymous)."""
        return None if self.viewer is None else self.viewer.id

    def push(self, item: Message | Refusal) -> None:
        """Queue a message; a full queue drops the client (it stopped reading)."""
        if self.closed:
            return
        try:
            self._queue.put_nowait(item)
        except asyncio.QueueFull:
            self.dropped = True
            log.info("streaming: dropped a client %d messages behind", self._queue.qsize())
            self.close()
            if self._on_drop is not None:
                self._on_drop()

    def close(self) -> None:
        """End the connection: what was queued is discarded, the writer gets None next."""
        if self.closed:
            return
        self.closed = True
        while not self._queue.empty():
            self._queue.get_nowait()
        self._queue.put_nowait(None)

    async def next(self) -> Message | Refusal | None:
        """The next message to write; None once the connection is closed."""
        if self.closed and self._queue.empty():
            return None
        return await self._queue.get()

    def pending(self) -> int:
        """How many messages wait to be written."""
        return self._queue.qsize()


def _scope_for(stream: Stream) -> str | None:
    return _USER_STREAMS.get(stream.name)


def check_access(conn: Connection, stream: Stream) -> None:
    """Public streams are open to anyone; user streams need a signed-in viewer whose token
    has the scope (``read:statuses``; ``read:notifications`` for ``user:notification``)."""
    scope = _scope_for(stream)
    if scope is None:
        return
    if conn.viewer is None:
        raise Unauthorized("Missing access token")
    if not conn.allows(scope):
        raise Forbidden("Access token does not have the required scopes")


def _local_ok(conn: Connection, status_local: bool, local_only: bool, wanted: bool | None) -> bool:
    if wanted is not None and wanted != status_local:
        return False
    # Local-only statuses are for the residents of this server, signed in.
    return not local_only or (conn.viewer is not None and conn.viewer.is_local)


def _wants_public(conn: Connection, stream: Stream, *, public: bool, local: bool,
                  local_only: bool, tags: Collection[str]) -> bool:
    if not public:
        return False
    base = stream.base
    if base in _PUBLIC:
        return _local_ok(conn, local, local_only, _PUBLIC[base])
    if base in ("hashtag", "hashtag:local"):
        return stream.key[1] in tags and \
            _local_ok(conn, local, local_only, True if base == "hashtag:local" else None)
    return False


def _involved(view: StatusView) -> set[int]:
    ids = {view.account.id, *(m.id for m in view.mentions)}
    if view.reblog is not None:
        ids |= {view.reblog.account.id, *(m.id for m in view.reblog.mentions)}
    return ids


def _has_media(view: StatusView) -> bool:
    return bool(view.media or (view.reblog is not None and view.reblog.media))


@dataclass(frozen=True, slots=True)
class _Fanout:
    views: dict[int | None, StatusView]  # by viewer id (None: anonymous)
    at_home: set[int]  # viewers whose home feed holds it
    in_lists: set[int]  # lists whose feed holds it
    hidden_author: bool = False  # silenced or suspended: kept out of public streams


def _is_public(stream: Stream) -> bool:
    return stream.base in _PUBLIC or stream.base.startswith("hashtag")


def _filter_context(stream: Stream) -> FilterContext | None:
    """Whose ``hide`` filters apply to a stream's statuses: ``home`` for the home feed and
    lists, ``public`` for the public and hashtag streams."""
    if stream.name in ("user", "list"):
        return FilterContext.HOME
    return FilterContext.PUBLIC if _is_public(stream) else None


def _status_fanout(db: Database, status_id: int, viewer_ids: list[int | None],
                   home_candidates: list[int], list_candidates: list[int],
                   now: datetime, check_author: bool = False) -> _Fanout:
    """The status as each viewer sees it (left out: those who may not see it, and those who
    block, are blocked by or mute its author, its booster or someone it mentions, as
    Mastodon's streaming filters), which candidate home and list feeds hold it, and (with
    ``check_author``) whether its author is silenced or suspended, which the public
    timelines leave out (``storage.moderation.HIDDEN_AUTHOR``)."""
    nothing = _Fanout({}, set(), set())
    status = status_store.get_status(db, status_id)
    if status is None or status.deleted_at is not None:
        return nothing
    hidden = check_author and moderation_store.is_hidden_author(db, status.account_id)
    if hidden and not home_candidates and not list_candidates:
        return _Fanout({}, set(), set(), True)  # only public streams asked: none gets it
    inner = None if status.reblog_of_id is None else \
        status_store.get_status(db, status.reblog_of_id)
    if status.reblog_of_id is not None and (inner is None or inner.deleted_at is not None):
        return nothing
    home = store.home_feed_members(db, status_id, home_candidates)
    in_lists = store.list_feed_members(db, status_id, list_candidates)
    out: dict[int | None, StatusView] = {}
    for viewer in viewer_ids:
        if not status_store.can_see(db, status, viewer) or \
                (inner is not None and not status_store.can_see(db, inner, viewer)):
            continue
        views = status_store.load_views(db, [status_id], viewer)
        if not views:
            continue
        if viewer is not None and viewer != status.account_id and \
                relationship_store.excluded_account_ids(db, viewer, now) & _involved(views[0]):
            continue
        out[viewer] = views[0]
    return _Fanout(out, home, in_lists, hidden)


@dataclass(frozen=True, slots=True)
class _Gone:
    status: Status
    tags: tuple[str, ...]
    readers: frozenset[int]
    media: bool


def _delete_fanout(db: Database, status_ids: list[int], viewer_ids: list[int]) -> list[_Gone]:
    gone = []
    with_media = store.media_status_ids(db, status_ids)
    for status in status_store.get_statuses(db, status_ids).values():
        gone.append(_Gone(status, tuple(status_store.status_tags(db, status.id)),
                          frozenset(store.possible_home_readers(db, status, viewer_ids)),
                          status.id in with_media))
    return gone


class Hub:
    """The per-process fan-out of events to connected clients (see the module docstring)."""

    def __init__(self, svc: Services, renderer: Renderer, *, queue_size: int = QUEUE_SIZE,
                 backlog: int = BACKLOG) -> None:
        self.svc = svc
        self.renderer = renderer
        self.queue_size = queue_size
        self.connections: set[Connection] = set()
        self._events: asyncio.Queue[tuple[str, Any]] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._backlog = backlog
        self._task: asyncio.Task[None] | None = None
        self._unsubscribe: list[Callable[[], None]] = []
        self._recent: OrderedDict[int, None] = OrderedDict()
        self.dropped_events = 0

    # -- life cycle ------------------------------------------------------------------------

    def start(self) -> None:
        """Listen on the event bus and start the fan-out task (inside the running loop)."""
        if self._task is not None:
            return
        self._events = asyncio.Queue(self._backlog)
        self._loop = asyncio.get_running_loop()
        for topic in (STATUS_CREATED, STATUS_UPDATED, HOME_FANOUT, STATUS_DELETED, NOTIFICATION,
                      CONVERSATION, TOKEN_REVOKED, FILTERS_CHANGED):
            self._unsubscribe.append(self.svc.events.subscribe(topic, self._on_event))
        self._task = asyncio.get_running_loop().create_task(self._run(), name="streaming-hub")

    def close_all(self) -> None:
        """End every connection (their handlers then return)."""
        for conn in list(self.connections):
            conn.close()
        self.connections.clear()

    async def stop(self) -> None:
        """Stop listening, end every connection and the task."""
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe.clear()
        self.close_all()
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None

    async def idle(self) -> None:
        """Wait until every event published so far has been fanned out."""
        if self._events is not None:
            await self._events.join()

    # -- connections -------------------------------------------------------------------------

    def connect(self, viewer: Account | None, allows: Callable[[str], bool] = _anyone, *,
                on_drop: Callable[[], None] | None = None,
                token_id: int | None = None) -> Connection:
        """Register a client (no subscription yet); ``token_id``: the token it came with."""
        conn = Connection(viewer, allows, queue_size=self.queue_size, on_drop=on_drop,
                          token_id=token_id)
        self.connections.add(conn)
        return conn

    def disconnect(self, conn: Connection) -> None:
        """Forget a client."""
        self.connections.discard(conn)
        conn.close()

    async def subscribe(self, conn: Connection, stream: Stream) -> None:
        """Add a subscription (Unauthorized/Forbidden when the token does not allow it,
        NotFound for a list that is not the viewer's; a repeated one is ignored, as on
        Mastodon)."""
        check_access(conn, stream)
        if stream.list_id is not None and conn.viewer is not None:
            await list_service.get_list(self.svc, conn.viewer, int(stream.list_id))
        conn.streams.setdefault(stream.key, stream)

    def unsubscribe(self, conn: Connection, stream: Stream) -> None:
        """Remove a subscription (unknown ones are ignored)."""
        conn.streams.pop(stream.key, None)

    # -- events ------------------------------------------------------------------------------

    def _on_event(self, topic: str, payload: Any) -> None:
        if self._events is None or self._loop is None or not self.connections:
            return  # nobody listens: nothing to do, nothing to read
        try:
            in_loop = asyncio.get_running_loop() is self._loop
        except RuntimeError:
            in_loop = False
        if not in_loop:  # published from another thread (a CLI command, a test helper)
            self._loop.call_soon_threadsafe(self._enqueue, topic, payload)
            return
        self._enqueue(topic, payload)

    def _enqueue(self, topic: str, payload: Any) -> None:
        assert self._events is not None
        try:
            self._events.put_nowait((topic, payload))
        except asyncio.QueueFull:
            self.dropped_events += 1
            log.warning("streaming: backlog full, %s event dropped", topic)

    async def _run(self) -> None:
        assert self._events is not None
        while True:
            topic, payload = await self._events.get()
            try:
                await self._dispatch(topic, payload)
            except Exception:
                log.exception("streaming: could not fan out a %s event", topic)
            finally:
                self._events.task_done()

    async def _dispatch(self, topic: str, payload: Any) -> None:
        if not self.connections:
            return
        if topic in (STATUS_CREATED, STATUS_UPDATED, HOME_FANOUT):
            await self._status_event(topic, payload)
        elif topic == STATUS_DELETED:
            await self._delete_event(payload)
        elif topic == NOTIFICATION:
            await self._notification_event(payload)
        elif topic == CONVERSATION:
            await self._conversation_event(payload)
        elif topic == TOKEN_REVOKED:
            self._revoked(payload)
        elif topic == FILTERS_CHANGED:
            self._filters_changed(payload)

    def _seen(self, status_id: int) -> bool:
        if status_id in self._recent:
            return True
        self._recent[status_id] = None
        if len(self._recent) > RECENT:
            self._recent.popitem(last=False)
        return False

    async def _status_event(self, topic: str, payload: dict[str, Any]) -> None:
        status_id = int(payload["status_id"])
        if topic == STATUS_CREATED and self._seen(status_id):
            return  # e.g. a retried POST with the same Idempotency-Key
        home = set(payload.get("home") or ())
        tags = set(payload.get("tags") or ())
        public, local = bool(payload.get("public")), bool(payload.get("local"))
        local_only = bool(payload.get("local_only"))
        targets: list[tuple[Connection, Stream]] = []
        home_candidates: set[int] = set()
        list_candidates: set[int] = set()
        fanout = topic == HOME_FANOUT  # more home feeds and lists, after its creation
        for conn in self.connections:
            for stream in conn.streams.values():
                if fanout and stream.name != "user" and stream.list_id is None:
                    continue  # the public streams had it with its STATUS_CREATED
                if stream.name == "user":
                    # A new status names its home feeds; an edit is found in them.
                    if conn.viewer_id is not None and (topic == STATUS_UPDATED or
                                                       conn.viewer_id in home):
                        targets.append((conn, stream))
                        home_candidates.add(conn.viewer_id)
                elif stream.list_id is not None:
                    targets.append((conn, stream))
                    list_candidates.add(int(stream.list_id))
                elif _wants_public(conn, stream, public=public, local=local,
                                   local_only=local_only, tags=tags):
                    targets.append((conn, stream))
        if not targets:
            return
        viewers = list(dict.fromkeys(conn.viewer_id for conn, _ in targets))
        found = await self.svc.storage.read(
            _status_fanout, status_id, viewers, sorted(home_candidates),
            sorted(list_candidates), self.svc.now(),
            any(_is_public(stream) for _, stream in targets))
        views = found.views
        chosen = [(conn, stream) for conn, stream in targets
                  if conn.viewer_id in views
                  and (stream.name != "user" or conn.viewer_id in found.at_home)
                  and (stream.list_id is None or int(stream.list_id) in found.in_lists)
                  and (not stream.media_only or _has_media(views[conn.viewer_id]))
                  and not (found.hidden_author and _is_public(stream))]
        hits = await self._filter_matches({conn.viewer_id for conn, _ in chosen}, views)
        chosen = [(conn, stream) for conn, stream in chosen if not filter_service.hides(
            hits.get(conn.viewer_id, ()), _filter_context(stream))]
        if not chosen:
            return
        order = list(dict.fromkeys(conn.viewer_id for conn, _ in chosen))
        rendered = await self.renderer.statuses(
            [views[v] for v in order],
            [filter_service.by_status(views[v], hits[v]) if v in hits else {} for v in order])
        payloads = {v: json.dumps(entity, ensure_ascii=False)
                    for v, entity in zip(order, rendered, strict=True)}
        event = "status.update" if topic == STATUS_UPDATED else "update"
        for conn, stream in chosen:
            conn.push(Message(stream.labels, event, payloads[conn.viewer_id]))

    async def _filter_matches(self, viewer_ids: Collection[int | None],
                              views: Mapping[int | None, StatusView],
                              ) -> dict[int | None, list[FilterMatch]]:
        """The filters each signed-in viewer's view of a status matches (those matching
        none left out); the filters come from memory, those not there read in one go."""
        signed_in = [v for v in viewer_ids if v is not None]
        if not signed_in:
            return {}
        found = await filter_service.filters_of(self.svc, signed_in)
        now = self.svc.now()
        texts: dict[int, str] = {}
        hits: dict[int | None, list[FilterMatch]] = {}
        for viewer in signed_in:
            matched = filter_service.match(found[viewer], viewer, views[viewer], now, texts)
            if matched:
                hits[viewer] = matched
        return hits

    async def _delete_event(self, payload: dict[str, Any]) -> None:
        status_ids = [int(i) for i in payload.get("status_ids") or ()]
        user_viewers = sorted({conn.viewer_id for conn in self.connections
                               if conn.viewer_id is not None and any(
                                   s.name in ("user", "list") for s in conn.streams.values())})
        if not status_ids:
            return
        gone = await self.svc.storage.read(_delete_fanout, status_ids, user_viewers)
        for item in gone:
            status = item.status
            public = status.visibility is Visibility.PUBLIC and status.reblog_of_id is None
            for conn in list(self.connections):
                for stream in conn.streams.values():
                    if stream.name in ("user", "list"):  # who could have had it
                        wanted = conn.viewer_id in item.readers
                    else:
                        wanted = (item.media or not stream.media_only) and _wants_public(
                            conn, stream, public=public, local=status.local,
                            local_only=status.local_only, tags=item.tags)
                    if wanted:
                        conn.push(Message(stream.labels, "delete", str(status.id)))

    async def _notification_event(self, payload: dict[str, Any]) -> None:
        account_id = int(payload["account_id"])
        targets = [(conn, stream) for conn in self.connections if conn.viewer_id == account_id
                   for stream in conn.streams.values()
                   if stream.name == "user:notification"
                   or (stream.name == "user" and conn.allows("read:notifications"))]
        if not targets:
            return
        view = await notification_service.find_notification(
            self.svc, account_id, int(payload["notification_id"]))
        if view is None:
            return  # gone already, or hidden (a muted or blocked account)
        matches: dict[int, list[FilterMatch]] = {}
        if view.status is not None:
            hits = await self._filter_matches([account_id], {account_id: view.status})
            if filter_service.hides(hits.get(account_id, ()), FilterContext.NOTIFICATIONS):
                return
            if account_id in hits:
                matches = filter_service.by_status(view.status, hits[account_id])
        entity = (await self.renderer.notifications([view], matches))[0]
        text = json.dumps(entity, ensure_ascii=False)
        for conn, stream in targets:
            conn.push(Message(stream.labels, "notification", text))

    async def _conversation_event(self, payload: dict[str, Any]) -> None:
        account_id = int(payload["account_id"])
        targets = [(conn, stream) for conn in self.connections if conn.viewer_id == account_id
                   for stream in conn.streams.values() if stream.name == "direct"]
        if not targets:
            return
        view = await conversation_service.find_conversation(
            self.svc, account_id, int(payload["conversation_id"]))
        if view is None:
            return
        entity = (await self.renderer.conversations([view]))[0]
        text = json.dumps(entity, ensure_ascii=False)
        for conn, stream in targets:
            conn.push(Message(stream.labels, "conversation", text))

    def _filters_changed(self, payload: dict[str, Any]) -> None:
        """Tell the resident's ``user`` streams that their filters changed (Mastodon's
        ``filters_changed``, without a payload), so that clients reload them. The filters
        themselves are forgotten by their cache, which listens for the same event."""
        account_id = int(payload["account_id"])
        for conn in list(self.connections):
            if conn.viewer_id == account_id:
                for stream in conn.streams.values():
                    if stream.name == "user":
                        conn.push(Message(stream.labels, "filters_changed", None))

    def _revoked(self, payload: dict[str, Any]) -> None:
        """A revoked token's streams end at once (the client must sign in again)."""
        revoked = {int(i) for i in payload.get("token_ids") or ()}
        for conn in list(self.connections):
            if conn.token_id is not None and conn.token_id in revoked:
                conn.close()  # its writer gets None next: the socket or stream is closed
