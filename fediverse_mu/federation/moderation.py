"""Moderation on the federation side: an incoming ``Flag`` becomes a report, and activities
from a suspended actor (or one whose server is now suspended or not allowed) are ignored."""

from __future__ import annotations

from typing import Any

from fediverse_mu.activitypub.moderation import parse_flag
from fediverse_mu.activitypub.validate import InvalidActivity
from fediverse_mu.domain import Account
from fediverse_mu.federation.client import Federation
from fediverse_mu.services import federation_policy, moderation


async def ignored_actor(fed: Federation, actor: Account) -> str | None:
    """Why the activities of ``actor`` are ignored now, or None."""
    if actor.is_local or actor.domain is None:
        return None
    refused = await federation_policy.first_refused(fed.svc, [actor.domain])
    if refused is not None:
        return refused.reason()
    state = await moderation.state(fed.svc, actor.id)
    return "the actor is suspended here" if state.suspended_at is not None else None


async def on_flag(fed: Federation, actor: Account, raw: dict[str, Any]) -> str | None:
    """A Flag from another server: a report for our moderators (or why it was ignored)."""
    try:
        flag = parse_flag(raw)
    except InvalidActivity as exc:
        return exc.reason
    report = await moderation.receive_flag(fed.svc, actor, flag)
    return None if report is not None else "a Flag naming no local account, or rejected"
