"""Group activities from other servers (FEP-1b12), called from the inbox's dispatch point.

On the group's instance: a member's ``Create`` that mentions the group, is addressed to it
(``to``/``cc``/``audience``) or replies in one of its threads is checked (member, not banned,
group open) *before* anything is stored, then kept and announced; edits, deletes and likes of
group posts are announced on; a ``Delete``/``Remove`` of a group post by one of the group's
moderators removes it, by anyone else it is refused.

On member instances: a ``Group``'s ``Announce`` brings a post in as a boost by the group. A
bare object (Mastodon, Guppe, public groups here) is fetched from its origin; an announced
activity (Lemmy, members-only groups here) is checked against the origin too, and only a post
its origin will not show (not public) is taken from the group's signed copy (the group vouches
for what it relays to its members). Announced Deletes by the author delete the post; removals
by the group's moderators take the group's boost out, and the post with it when it was here
only because of the group."""

from __future__ import annotations

import logging
from typing import Any

from fediverse_mu.activitypub import groups as ap_groups
from fediverse_mu.activitypub.notes import parse_note
from fediverse_mu.activitypub.validate import (
    InvalidActivity,
    host_of,
    object_id,
    validate_note,
)
from fediverse_mu.domain import Account, DomainError
from fediverse_mu.domain.groups import Group
from fediverse_mu.domain.statuses import IncomingNote, Status
from fediverse_mu.federation import objects
from fediverse_mu.federation.client import Federation, FetchError
from fediverse_mu.federation.objects import FetchBudget
from fediverse_mu.services import accounts, groups, posting

log = logging.getLogger(__name__)
RawObject = dict[str, Any]


# -- on the group's instance ---------------------------------------------------------------------


async def _addressed_groups(fed: Federation, note: RawObject) -> list[Group]:
    """The local groups a remote post is addressed to (or whose thread it replies in)."""
    svc = fed.svc
    own = host_of(svc.config.base_url)
    found: list[Group] = []
    for uri in ap_groups.addressed_uris(note):
        if host_of(uri) != own:
            continue
        account = await accounts.get_account_by_uri(svc, uri.removesuffix("/followers"))
        group = None if account is None else await groups.group_of(svc, account)
        if group is not None and group not in found:
            found.append(group)
    parent_uri = note.get("inReplyTo")
    if isinstance(parent_uri, dict):
        parent_uri = parent_uri.get("id")
    if isinstance(parent_uri, str):
        parent = await posting.get_status_by_uri(svc, parent_uri)
        if parent is not None:
            found += [g for g in await groups.local_groups_of(svc, parent) if g not in found]
    return found


async def on_create(fed: Federation, actor: Account, raw: RawObject) -> str | None:
    """Create(Note…): a post to a local group is checked, kept and announced; any other goes
    the usual way (``objects.on_create``)."""
    obj = raw.get("object")
    targets = await _addressed_groups(fed, obj) if isinstance(obj, dict) else []
    if not targets:
        return await objects.on_create(fed, actor, raw)
    assert isinstance(obj, dict)
    note = objects.authored_note(actor, obj)
    if isinstance(note, str):
        return note
    accepted: list[Group] = []
    reasons: list[str] = []
    for group in targets:
        reason = await groups.refusal(fed.svc, group, actor, note.visibility)
        if reason is None:
            accepted.append(group)
        else:
            reasons.append(f"{group.account.username}: {reason}")
    if not accepted:
        # Refused by every group: kept only if someone here wants it for another reason.
        await objects.on_create(fed, actor, raw)
        return "; ".join(reasons)
    await objects.ensure_parents(fed, note, FetchBudget())
    status = await posting.receive_note(fed.svc, actor, note, force=True)
    if status is None or status.deleted_at is not None:
        return "post not kept (deleted)"
    for group in accepted:
        reason = await groups.relay_remote_post(fed.svc, group, actor, status, obj)
        if reason is not None:
            reasons.append(f"{group.account.username}: {reason}")
    return "; ".join(reasons) or None


async def relay_after(fed: Federation, raw: RawObject, outcome: str | None) -> str | None:
    """After an Update, Delete or Like was applied here: if it is about a post a local group
    carries, the group announces it to its members."""
    uri = object_id(raw)
    if outcome is not None or uri is None:
        return outcome
    status = await posting.get_status_by_uri(fed.svc, uri)
    if status is not None:
        await groups.relay_remote_activity(fed.svc, status, raw)
    return None


async def _moderator_removal(fed: Federation, actor: Account, uri: str | None) -> str | None:
    """A Delete/Remove of a post a local group carries, by someone other than its author."""
    if uri is None:
        return "removal without an object"
    status = await posting.get_status_by_uri(fed.svc, uri)
    carried = [] if status is None else await groups.local_groups_of(fed.svc, status)
    if status is None or not carried:
        return "removal of a post no local group carries"
    removed = False
    for group in carried:
        removed |= await groups.receive_moderator_removal(fed.svc, actor, group, status)
    return None if removed else "removal by someone who is not a moderator of the group"


async def on_delete(fed: Federation, actor: Account, raw: RawObject) -> str | None:
    """Delete of a post: by its author (and announced on when a local group carries it), or
    by a moderator of a local group carrying it (a removal from the group)."""
    uri = object_id(raw)
    if uri is not None:
        status = await posting.get_status_by_uri(fed.svc, uri)
        if status is not None and status.account_id != actor.id and \
                await groups.local_groups_of(fed.svc, status):
            return await _moderator_removal(fed, actor, uri)
    return await relay_after(fed, raw, await objects.on_delete(fed, actor, uri))


async def on_remove(fed: Federation, actor: Account, raw: RawObject) -> str | None:
    """Remove (Lemmy's moderator removal of a post from a community)."""
    return await _moderator_removal(fed, actor, object_id(raw))


# -- on member instances -------------------------------------------------------------------------


async def _origin_note(fed: Federation, uri: str,
                       embedded: RawObject | None) -> tuple[RawObject | None, str | None]:
    """The post as its origin serves it; failing that, the group's embedded copy when that
    copy is not public (the origin rightly hides it from us). (note, reason)."""
    try:
        raw = validate_note(await fed.fetch(uri))
        return raw, None
    except (FetchError, InvalidActivity) as exc:
        if embedded is not None and embedded.get("id") == uri and \
                not ap_groups.is_public_note(embedded):
            try:
                return validate_note(embedded), None
            except InvalidActivity as bad:
                return None, bad.reason
        return None, f"the announced post is not at its origin: {exc}"


async def _incoming(fed: Federation, raw_note: RawObject,
                    budget: FetchBudget) -> tuple[Account, IncomingNote]:
    note = parse_note(raw_note)
    author = await objects.note_author(fed, note.actor_uri, budget)
    if author is None:
        raise InvalidActivity("the post's author cannot be fetched")
    return author, parse_note(raw_note, followers_uri=author.followers_uri)


async def on_announce(fed: Federation, group: Account, raw: RawObject) -> str | None:
    """An Announce by a Group actor (signed by the group itself: see ``inbox.receive``)."""
    svc = fed.svc
    announce_id = str(raw["id"])
    if host_of(announce_id) != host_of(group.actor_uri):
        return "announce id on another host than the group"
    if not await groups.has_local_members(svc, group):
        return "announce from a group nobody here is a member of"
    inner = ap_groups.inner_activity(raw)
    budget = FetchBudget()
    if inner is None:  # a bare post (Mastodon-style boost)
        uri = object_id(raw)
        if uri is None:
            return "announce without an object"
        target = await objects.resolve_status(fed, uri, budget)
        if target is None or target.deleted_at is not None:
            return "announced post unavailable"
        return None if await groups.receive_boost(svc, group, announce_id, target) else \
            "boost not kept"
    kind = ap_groups.first_type(inner)
    inner_actor = ap_groups.activity_actor(inner)
    uri, embedded = ap_groups.activity_object(inner)
    if inner_actor is None or uri is None:
        return "announced activity without actor or object"
    try:
        match kind:
            case "Create" | "Update":
                return await _announced_post(fed, group, announce_id, kind, inner_actor, uri,
                                             embedded, budget)
            case "Delete" | "Remove":
                return await _announced_removal(fed, group, inner_actor, uri)
            case "Like":
                return await _announced_like(fed, inner, inner_actor, uri)
            case _:
                return f"announced {kind} not handled"
    except (FetchError, InvalidActivity, DomainError) as exc:
        return str(exc)


async def _announced_post(fed: Federation, group: Account, announce_id: str, kind: str,
                          inner_actor: str, uri: str, embedded: RawObject | None,
                          budget: FetchBudget) -> str | None:
    svc = fed.svc
    known = await posting.get_status_by_uri(svc, uri)
    if kind == "Create" and known is not None and known.local:
        return None if await groups.receive_boost(svc, group, announce_id, known) else \
            "boost not kept"
    raw_note, reason = await _origin_note(fed, uri, embedded)
    if raw_note is None:
        return reason
    author, note = await _incoming(fed, raw_note, budget)
    if author.actor_uri != inner_actor:
        return "the announced activity's actor is not the post's author"
    if kind == "Update":
        return None if await posting.receive_note_update(svc, author, note) else \
            "update of an unknown or older post"
    await objects.ensure_parents(fed, note, budget)
    status: Status | None = known or await posting.receive_note(svc, author, note, force=True)
    if status is None or status.deleted_at is not None:
        return "announced post not kept"
    return None if await groups.receive_boost(svc, group, announce_id, status) else \
        "boost not kept"


async def _announced_removal(fed: Federation, group: Account, inner_actor: str,
                             uri: str) -> str | None:
    svc = fed.svc
    status = await posting.get_status_by_uri(svc, uri)
    if status is None:
        return "removal of an unknown post"
    author = await accounts.get_account(svc, status.account_id)
    if author is not None and author.actor_uri == inner_actor and not status.local:
        # The author deleted it: believe it once the origin no longer serves it.
        try:
            await fed.fetch(uri)
            return "the post still exists at its origin"
        except FetchError:
            await posting.receive_delete(svc, author, uri)
            return None
    # A removal by the group's moderators: the group's boost goes (and the post, if the
    # group was the only reason to have it here).
    return None if await groups.drop_group_copy(svc, group, status) else \
        "nothing of this post to remove here"


async def _announced_like(fed: Federation, inner: RawObject, inner_actor: str,
                          uri: str) -> str | None:
    like_id = inner.get("id")
    if not isinstance(like_id, str) or host_of(like_id) != host_of(inner_actor):
        return "announced like without a valid id"
    target = await posting.get_status_by_uri(fed.svc, uri)
    if target is None:
        return "like of an unknown post"
    liker = await fed.fetch_actor(inner_actor)
    if liker.is_local:
        return None  # our own like, back through the group
    return None if await posting.receive_like(fed.svc, liker, like_id, target) else \
        "like not kept"
