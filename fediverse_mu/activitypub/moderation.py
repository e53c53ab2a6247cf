"""The moderation vocabulary: ``Flag`` (a report sent to, or received from, another server,
as Mastodon does: https://docs.joinmastodon.org/spec/activitypub/#Flag) and the actor
``Delete`` a local suspension federates."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fediverse_mu.activitypub.validate import InvalidActivity
from fediverse_mu.activitypub.vocab import ACTIVITY_CONTEXT, AS_PUBLIC

RawObject = dict[str, Any]
MAX_FLAG_CONTENT = 5000


@dataclass(frozen=True)
class IncomingFlag:
    """A parsed Flag: who sent it, the objects it names (actor and statuses), the comment."""

    id: str
    actor_uri: str
    object_uris: tuple[str, ...]
    content: str


def build_flag(flag_id: str, actor: str, target_actor: str, status_uris: list[str],
               content: str) -> RawObject:
    """A Flag from the instance actor naming the reported actor and statuses (Mastodon sends
    the reporter anonymously, as the instance actor)."""
    return {"@context": ACTIVITY_CONTEXT, "id": flag_id, "type": "Flag", "actor": actor,
            "content": content, "object": [target_actor, *status_uris]}


def parse_flag(raw: RawObject) -> IncomingFlag:
    """A validated Flag activity as an :class:`IncomingFlag`; InvalidActivity when it names
    nothing."""
    obj = raw.get("object")
    items = obj if isinstance(obj, list) else [obj]
    uris = [item if isinstance(item, str) else item.get("id") if isinstance(item, dict)
            else None for item in items]
    clean = tuple(u for u in uris if isinstance(u, str) and u)
    if not clean:
        raise InvalidActivity("the Flag names no object")
    content = raw.get("content")
    actor = raw.get("actor")
    actor_uri = actor if isinstance(actor, str) else actor.get("id") if isinstance(actor, dict) \
        else None
    if not isinstance(actor_uri, str):
        raise InvalidActivity("the Flag has no actor")
    return IncomingFlag(id=str(raw["id"]), actor_uri=actor_uri, object_uris=clean,
                        content=content[:MAX_FLAG_CONTENT] if isinstance(content, str) else "")


def build_actor_delete(actor: str) -> RawObject:
    """The Delete of a local actor (sent when it is suspended), addressed publicly."""
    return {"@context": ACTIVITY_CONTEXT, "id": f"{actor}#delete", "type": "Delete",
            "actor": actor, "object": actor, "to": [AS_PUBLIC]}
