"""Building the activities this instance sends (Follow, Accept, Reject, Undo). Ids are minted
under the actor so that they are unique and dereferenceable on our origin."""

from __future__ import annotations

import secrets
from typing import Any

from fediverse_mu.activitypub.vocab import ACTIVITY_CONTEXT

RawObject = dict[str, Any]


def new_activity_id(actor: str, kind: str) -> str:
    """A fresh id for an activity of ``actor``."""
    return f"{actor}#{kind.lower()}s/{secrets.token_hex(12)}"


def build_follow(follow_id: str, actor: str, target: str) -> RawObject:
    """Follow ``target``."""
    return {"@context": ACTIVITY_CONTEXT, "id": follow_id, "type": "Follow", "actor": actor,
            "object": target}


def build_response(kind: str, actor: str, follow: RawObject) -> RawObject:
    """Accept or Reject a Follow; the Follow is embedded, as Mastodon expects."""
    return {"@context": ACTIVITY_CONTEXT, "id": new_activity_id(actor, kind), "type": kind,
            "actor": actor, "object": {k: v for k, v in follow.items() if k != "@context"}}


def build_undo(actor: str, activity: RawObject) -> RawObject:
    """Undo one of our activities (embedded)."""
    return {"@context": ACTIVITY_CONTEXT, "id": new_activity_id(actor, "Undo"), "type": "Undo",
            "actor": actor, "object": {k: v for k, v in activity.items() if k != "@context"}}


def build_block(block_id: str, actor: str, target: str) -> RawObject:
    """Block ``target`` (Mastodon hides the blocker's posts and drops follows both ways)."""
    return {"@context": ACTIVITY_CONTEXT, "id": block_id, "type": "Block", "actor": actor,
            "object": target}


def build_update(actor: str, obj: RawObject, *, to: list[str]) -> RawObject:
    """Update one of our objects (embedded, e.g. our actor after a profile change); the
    object's own ``@context`` becomes the activity's."""
    return {"@context": obj.get("@context", ACTIVITY_CONTEXT),
            "id": new_activity_id(actor, "Update"), "type": "Update", "actor": actor, "to": to,
            "object": {k: v for k, v in obj.items() if k != "@context"}}
