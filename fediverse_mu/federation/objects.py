"""Remote posts fetched from their origin: a Note referenced by id (a boosted status, the
parent of a reply, a search by URL) is fetched signed, validated, checked against the URL it
came from, and stored with its author. Threads are followed upwards within a budget: one
incoming activity never triggers more than ``MAX_FETCHES`` requests."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from fediverse_mu.activitypub.dates import parse_datetime
from fediverse_mu.activitypub.notes import parse_note, visibility_of
from fediverse_mu.activitypub.validate import InvalidActivity, host_of, validate_note
from fediverse_mu.domain import Account, DomainError
from fediverse_mu.domain.statuses import IncomingNote, Status
from fediverse_mu.federation.client import Federation, FetchError
from fediverse_mu.services import accounts, polls, posting

log = logging.getLogger(__name__)
RawObject = dict[str, Any]

MAX_FETCHES = 10  # remote GETs one incoming activity may cause
MAX_THREAD_DEPTH = 8  # ancestors fetched above a reply


@dataclass
class FetchBudget:
    """How many more remote fetches this piece of work may make."""

    remaining: int = MAX_FETCHES

    def take(self) -> bool:
        """Use one fetch; False when the budget is spent."""
        if self.remaining <= 0:
            return False
        self.remaining -= 1
        return True


async def note_author(fed: Federation, actor_uri: str, budget: FetchBudget) -> Account | None:
    """A note's author, from the database or fetched from its origin (within the budget)."""
    account = await accounts.get_account_by_uri(fed.svc, actor_uri)
    if account is not None:
        return account
    if not budget.take():
        return None
    return await fed.fetch_actor(actor_uri)


async def ensure_parents(fed: Federation, note: IncomingNote, budget: FetchBudget,
                         depth: int = 0) -> None:
    """Fetch and store the missing ancestors of a reply, as far as the budget allows."""
    parent_uri = note.in_reply_to_uri
    if parent_uri is None or depth >= MAX_THREAD_DEPTH:
        return
    await resolve_status(fed, parent_uri, budget, depth=depth + 1)


async def resolve_status(fed: Federation, uri: str, budget: FetchBudget, *,
                         depth: int = 0) -> Status | None:
    """A status by ActivityPub id: known, or fetched from its origin and stored (with its
    thread above it). None when it cannot be had (deleted, local, over budget, invalid). If
    another job stores it while we fetch (a Create processed alongside a boost of it), that
    stored row is the answer: ``posting.receive_note`` is idempotent."""
    known = await posting.get_status_by_uri(fed.svc, uri)
    if known is not None:
        return None if known.deleted_at is not None else known
    if host_of(uri) == host_of(fed.svc.config.base_url):
        return None  # our own statuses are never fetched as remote
    if await posting.is_tombstoned(fed.svc, uri) or not budget.take():
        return None
    try:
        raw = validate_note(await fed.fetch(uri))
        note = parse_note(raw)
        author = await note_author(fed, note.actor_uri, budget)
        if author is None:
            return None
        note = parse_note(raw, followers_uri=author.followers_uri)
        await ensure_parents(fed, note, budget, depth)
        return await posting.receive_note(fed.svc, author, note, force=True)
    except (FetchError, InvalidActivity, DomainError) as exc:
        log.info("could not resolve %s: %s", uri, exc)
        return None


# -- incoming activities about posts (called from the inbox's one dispatch point) ---------------


def _ids(value: object) -> list[str]:
    items = value if isinstance(value, list) else [value]
    return [i if isinstance(i, str) else str(i.get("id")) for i in items
            if isinstance(i, str) or (isinstance(i, dict) and isinstance(i.get("id"), str))]


def authored_note(actor: Account, obj: RawObject) -> IncomingNote | str:
    """A Note the sending actor wrote, parsed; or why it is refused (invalid, or attributed
    to someone else: an actor only creates its own posts)."""
    try:
        note = parse_note(obj, followers_uri=actor.followers_uri)
    except InvalidActivity as exc:
        return exc.reason
    if note.actor_uri != actor.actor_uri:
        return "the post is attributed to another actor"
    return note


async def on_create(fed: Federation, actor: Account, raw: RawObject) -> str | None:
    """Create(Note…): keep the post if someone here asked for it; fetch its thread."""
    budget = FetchBudget()
    obj = raw.get("object")
    if not isinstance(obj, dict):  # a bare id (or a relayed foreign object): ask its origin
        uri = obj if isinstance(obj, str) else None
        if uri is None:
            return "create without an object"
        if not await posting.relevant_author(fed.svc, actor) and host_of(uri) != host_of(
                actor.actor_uri):
            return "unsolicited post"
        status = await resolve_status(fed, uri, budget)
        return None if status is not None else "post could not be fetched"
    if polls.is_vote(obj):  # a vote in a local poll (Mastodon's Note with a name)
        if obj.get("attributedTo") not in (None, actor.actor_uri):
            return "a vote attributed to another actor"
        return await polls.receive_vote(fed.svc, actor, obj)
    note = authored_note(actor, obj)
    if isinstance(note, str):
        return note
    await ensure_parents(fed, note, budget)
    stored = await posting.receive_note(fed.svc, actor, note)
    return None if stored is not None else "post not kept (unsolicited or deleted)"


async def on_update_note(fed: Federation, actor: Account, raw: RawObject) -> str | None:
    """Update(Note): an edit by the post's author."""
    obj = raw.get("object")
    if not isinstance(obj, dict):
        return "update without an embedded object"
    try:
        note = parse_note(obj, followers_uri=actor.followers_uri)
    except InvalidActivity as exc:
        return exc.reason
    if note.actor_uri != actor.actor_uri:
        return "update of another actor's post"
    return None if await posting.receive_note_update(fed.svc, actor, note) else \
        "update of an unknown or older post"


async def on_delete(fed: Federation, actor: Account, object_uri: str | None) -> str | None:
    """Delete(Note/Tombstone): the author removed a post (maybe not seen yet)."""
    if object_uri is None:
        return "delete without an object"
    if host_of(object_uri) != host_of(actor.actor_uri):
        return "delete of an object on another host"
    await posting.receive_delete(fed.svc, actor, object_uri)
    return None


async def on_announce(fed: Federation, actor: Account, raw: RawObject) -> str | None:
    """Announce: a boost of a known, local or fetched status."""
    targets = _ids(raw.get("object"))
    if not targets:
        return "announce without an object"
    target_uri = targets[0]
    known = await posting.get_status_by_uri(fed.svc, target_uri)
    if known is None and not await posting.relevant_author(fed.svc, actor):
        return "unsolicited boost"
    target = known if known is not None else await resolve_status(fed, target_uri,
                                                                  FetchBudget())
    if target is None or target.deleted_at is not None:
        return "boosted post unavailable"
    published = parse_datetime(raw.get("published")) or fed.svc.now()
    visibility = visibility_of(_ids(raw.get("to")), _ids(raw.get("cc")), actor.followers_uri, [])
    ok = await posting.receive_announce(fed.svc, actor, str(raw["id"]), target, visibility,
                                        published)
    return None if ok else "boost not kept"


async def on_like(fed: Federation, actor: Account, raw: RawObject) -> str | None:
    """Like: a favourite of a status here."""
    targets = _ids(raw.get("object"))
    target = None if not targets else await posting.get_status_by_uri(fed.svc, targets[0])
    if target is None:
        return "like of an unknown post"
    return None if await posting.receive_like(fed.svc, actor, str(raw["id"]), target) else \
        "like not kept"


async def on_undo(fed: Federation, actor: Account, raw: RawObject, kind: str | None) -> str | None:
    """Undo(Like) / Undo(Announce)."""
    obj = raw.get("object")
    inner_id = _ids(obj)[0] if _ids(obj) else None
    inner_object = _ids(obj.get("object"))[0] if isinstance(obj, dict) and _ids(
        obj.get("object")) else None
    if inner_id is None:
        return "undo without an object"
    if host_of(inner_id) != host_of(actor.actor_uri):
        return "undo of another server's activity"
    if kind in ("Like", None) and await posting.receive_undo_like(fed.svc, actor, inner_id,
                                                                 inner_object):
        return None
    if kind in ("Announce", None) and await posting.receive_undo_announce(fed.svc, actor,
                                                                         inner_id):
        return None
    return f"undo of an unknown {kind or 'activity'}"
