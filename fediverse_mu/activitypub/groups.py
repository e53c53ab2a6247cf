"""Group actors and their activities (FEP-1b12,
https://codeberg.org/fediverse/fep/src/branch/main/fep/1b12/fep-1b12.md), pure: the actor
document of a local group (``Group`` with a moderators collection as ``attributedTo``, the
charter in its summary), the Announces a group sends, and reading who a post is addressed to
(``to``/``cc``/``audience``, mentions) and what a group Announce carries (a bare object, as
Mastodon and Guppe send, or an activity, as Lemmy and this server's members-only groups do)."""

from __future__ import annotations

import html
from datetime import datetime
from typing import Any

from fediverse_mu.activitypub.dates import xsd_datetime
from fediverse_mu.activitypub.notes import with_context
from fediverse_mu.activitypub.validate import as_list
from fediverse_mu.activitypub.vocab import AS2_CONTEXT, AS_PUBLIC
from fediverse_mu.domain.groups import Group, JoinPolicy

RawObject = dict[str, Any]
WRAPPED_TYPES = frozenset({"Create", "Update", "Delete", "Like", "Dislike", "Remove", "Undo",
                           "Add", "Block", "Lock", "Announce"})


def moderators_uri(actor: str) -> str:
    """The collection of a group's moderators (Lemmy's ``attributedTo``)."""
    return f"{actor}/moderators"


def charter_html(charter: str) -> str:
    """The charter as HTML paragraphs (it is typed as plain text)."""
    paragraphs = [p.strip() for p in charter.replace("\r\n", "\n").split("\n\n") if p.strip()]
    return "".join("<p>" + html.escape(p).replace("\n", "<br>") + "</p>" for p in paragraphs)


def render_group(doc: RawObject, group: Group, *, page_url: str) -> RawObject:
    """The AS2 document of a local group, from its actor document (``render_actor``): a
    ``Group`` whose followers are its members, its moderators as ``attributedTo`` (Lemmy),
    the charter as summary, its HTML page as ``url``."""
    actor = group.account.actor_uri
    doc = {**doc, "type": "Group", "name": group.title,
           "summary": group.account.note or charter_html(group.charter), "url": page_url,
           "attributedTo": moderators_uri(actor), "moderators": moderators_uri(actor),
           "postingRestrictedToMods": False,
           "manuallyApprovesFollowers": group.join_policy is JoinPolicy.APPROVAL,
           "discoverable": not group.members_only}
    doc["@context"] = [*doc.get("@context", []), {
        "lemmy": "https://join-lemmy.org/ns#",
        "postingRestrictedToMods": "lemmy:postingRestrictedToMods",
        "moderators": {"@id": "lemmy:moderators", "@type": "@id"}}]
    return doc


def render_moderators(actor: str, moderator_uris: list[str]) -> RawObject:
    """The moderators collection of a group."""
    return {"@context": AS2_CONTEXT, "id": moderators_uri(actor), "type": "OrderedCollection",
            "totalItems": len(moderator_uris), "orderedItems": moderator_uris}


def build_group_announce(announce_id: str, group_uri: str, obj: str | RawObject, *,
                         public: bool, published: datetime) -> RawObject:
    """The group's Announce of ``obj`` to its members: a Note id (what Mastodon shows as a
    boost) or an activity (FEP-1b12). A members-only group addresses its followers only."""
    followers = f"{group_uri}/followers"
    to, cc = ([AS_PUBLIC], [followers]) if public else ([followers], [])
    return with_context({"id": announce_id, "type": "Announce", "actor": group_uri,
                         "published": xsd_datetime(published),
                         "to": to, "cc": cc, "audience": group_uri, "object": obj})


def _ids(value: Any) -> list[str]:
    found = []
    for item in as_list(value):
        if isinstance(item, str):
            found.append(item)
        elif isinstance(item, dict) and isinstance(item.get("id"), str):
            found.append(item["id"])
    return found


def addressed_uris(note: RawObject) -> set[str]:
    """Every IRI a post is addressed to: ``to``, ``cc``, ``audience`` and mentions' ``href``."""
    found = {*_ids(note.get("to")), *_ids(note.get("cc")), *_ids(note.get("audience"))}
    for tag in as_list(note.get("tag")):
        if isinstance(tag, dict) and tag.get("type") == "Mention" and \
                isinstance(tag.get("href"), str):
            found.add(tag["href"])
    return found


def is_public_note(note: RawObject) -> bool:
    """True when a post is addressed to the public (in ``to`` or ``cc``)."""
    return any(uri in (AS_PUBLIC, "as:Public", "Public")
               for uri in (*_ids(note.get("to")), *_ids(note.get("cc"))))


def inner_activity(announce: RawObject) -> RawObject | None:
    """The activity a group Announce wraps (FEP-1b12), when it wraps one."""
    obj = announce.get("object")
    if isinstance(obj, dict):
        kind = obj.get("type")
        kinds = kind if isinstance(kind, list) else [kind]
        if any(k in WRAPPED_TYPES for k in kinds):
            return obj
    return None


def first_type(obj: RawObject) -> str | None:
    """An object's first type."""
    kind = obj.get("type")
    if isinstance(kind, list):
        kind = kind[0] if kind else None
    return kind if isinstance(kind, str) else None


def activity_actor(activity: RawObject) -> str | None:
    """The actor IRI of an embedded activity."""
    ids = _ids(activity.get("actor"))
    return ids[0] if ids else None


def activity_object(activity: RawObject) -> tuple[str | None, RawObject | None]:
    """(id, embedded object or None) of an embedded activity's object."""
    obj = activity.get("object")
    if isinstance(obj, list):
        obj = obj[0] if obj else None
    if isinstance(obj, dict):
        return (obj["id"] if isinstance(obj.get("id"), str) else None), obj
    return (obj if isinstance(obj, str) else None), None


def wrap_create(note: RawObject) -> RawObject:
    """A Create of ``note`` (no ``@context``), to be embedded in a group's Announce."""
    author = _ids(note.get("attributedTo"))
    return {"id": f"{note['id']}/activity", "type": "Create",
            "actor": author[0] if author else None, "to": note.get("to", []),
            "cc": note.get("cc", []), "object": note}


def build_moderator_delete(activity_id: str, moderator_uri: str, object_uri: str,
                           group_uri: str) -> RawObject:
    """A moderator's removal of a post from a group (Lemmy's mod Delete, FEP-1b12), to be
    wrapped in the group's Announce."""
    return {"id": activity_id, "type": "Delete", "actor": moderator_uri,
            "to": [f"{group_uri}/followers"], "audience": group_uri,
            "object": {"id": object_uri, "type": "Tombstone"}}
