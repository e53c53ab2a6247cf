"""Relationships between two accounts beyond following: blocks and mutes, and the summary a
client asks for (Mastodon's Relationship: who follows, requests, blocks or mutes whom)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Block:
    """``account_id`` blocks ``target_id``; ``uri`` is the Block activity's id."""

    id: int
    account_id: int
    target_id: int
    uri: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Mute:
    """``account_id`` mutes ``target_id`` (local only, never federated), until ``expires_at``
    when set; ``notifications`` mutes their notifications too."""

    id: int
    account_id: int
    target_id: int
    notifications: bool
    expires_at: datetime | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Relationship:
    """How ``account_id`` relates to ``target_id``, seen from the account."""

    account_id: int
    target_id: int
    following: bool = False
    requested: bool = False
    followed_by: bool = False
    requested_by: bool = False
    showing_reblogs: bool = False
    notifying: bool = False
    blocking: bool = False
    blocked_by: bool = False
    muting: bool = False
    muting_notifications: bool = False
    muting_expires_at: datetime | None = None
