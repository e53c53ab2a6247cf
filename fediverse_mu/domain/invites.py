"""Invite links: a random code that lets people sign up (even when registration is by invite
only), with an optional expiry and number of uses, and a revocation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class InviteState(StrEnum):
    """Whether an invite can still be used, and if not, why."""

    ACTIVE = "active"
    EXPIRED = "expired"
    USED_UP = "used_up"
    REVOKED = "revoked"


@dataclass(frozen=True, slots=True)
class Invite:
    """An invite link's record."""

    id: int
    code: str
    created_by: int | None
    created_at: datetime
    expires_at: datetime | None
    max_uses: int | None
    uses: int
    revoked_at: datetime | None

    def state(self, now: datetime) -> InviteState:
        """The invite's state at ``now``."""
        if self.revoked_at is not None:
            return InviteState.REVOKED
        if self.expires_at is not None and self.expires_at <= now:
            return InviteState.EXPIRED
        if self.max_uses is not None and self.uses >= self.max_uses:
            return InviteState.USED_UP
        return InviteState.ACTIVE

    def usable(self, now: datetime) -> bool:
        """True when someone may still sign up with it."""
        return self.state(now) is InviteState.ACTIVE
