"""Invite links: admins and moderators create them (optionally limited in time and number of
uses), print them as a QR code for the place's wall, and revoke them. A usable invite lets its
holder sign up whatever the registration mode (except closed), without waiting for approval."""

from __future__ import annotations

import secrets
from datetime import timedelta

from fediverse_mu.domain import Account, Invalid, NotFound
from fediverse_mu.domain.invites import Invite, InviteState
from fediverse_mu.services import audit
from fediverse_mu.services.context import Services
from fediverse_mu.storage import Database
from fediverse_mu.storage import invites as store

MAX_USES = 10_000
MAX_DAYS = 3650
CODE_BYTES = 9  # 12 URL-safe characters: short enough to type, far too many to guess

# Why an invite cannot be used (shown on the sign-up page, translated there).
INVITE_MESSAGES = {
    InviteState.EXPIRED: "This invite has expired.",
    InviteState.USED_UP: "This invite has already been used as many times as allowed.",
    InviteState.REVOKED: "This invite has been revoked.",
}
UNKNOWN_INVITE = "This invite code is not valid."


def invite_url(svc: Services, invite: Invite) -> str:
    """The link to give (or print as a QR code): it opens the sign-up page."""
    return f"{svc.config.base_url}/invite/{invite.code}"


async def create_invite(svc: Services, actor: Account | None, *, max_uses: int | None = None,
                        expires_in_days: float | None = None) -> Invite:
    """Create an invite; ``None`` means no limit of uses or time."""
    if max_uses is not None and not 1 <= max_uses <= MAX_USES:
        raise Invalid(f"the number of uses must be between 1 and {MAX_USES}")
    if expires_in_days is not None and not 0 < expires_in_days <= MAX_DAYS:
        raise Invalid(f"the expiry must be between 1 hour and {MAX_DAYS} days")
    now = svc.now()
    expires_at = None if expires_in_days is None else now + timedelta(days=expires_in_days)
    code = secrets.token_urlsafe(CODE_BYTES)

    def write(db: Database) -> Invite:
        invite = store.put_invite(db, code=code, created_by=None if actor is None else actor.id,
                                  created_at=now, expires_at=expires_at, max_uses=max_uses)
        limits = [f"uses: {'∞' if max_uses is None else max_uses}",
                  f"expires: {'never' if expires_at is None else expires_at.isoformat()}"]
        audit.record_in(db, actor, "invite.create", f"invite {invite.id}", ", ".join(limits),
                        now)
        return invite

    return await svc.storage.write(write)


async def list_invites(svc: Services) -> list[Invite]:
    """Every invite, newest first."""
    return await svc.storage.read(store.list_invites)


async def get_invite(svc: Services, invite_id: int) -> Invite:
    """One invite, or NotFound."""
    invite = await svc.storage.read(store.get_invite, invite_id)
    if invite is None:
        raise NotFound("Record not found")
    return invite


async def revoke_invite(svc: Services, actor: Account | None, invite_id: int) -> None:
    """Revoke an invite (accounts made with it stay)."""
    now = svc.now()

    def write(db: Database) -> None:
        if store.get_invite(db, invite_id) is None:
            raise NotFound("Record not found")
        if store.revoke_invite(db, invite_id, now):
            audit.record_in(db, actor, "invite.revoke", f"invite {invite_id}", "", now)

    await svc.storage.write(write)


async def find_usable(svc: Services, code: str) -> Invite:
    """The invite behind a code if it can be used now; Invalid (with the reason) otherwise."""
    code = code.strip()
    invite = await svc.storage.read(store.get_invite_by_code, code) if code else None
    if invite is None:
        raise Invalid(UNKNOWN_INVITE)
    state = invite.state(svc.now())
    if state is not InviteState.ACTIVE:
        raise Invalid(INVITE_MESSAGES[state])
    return invite
