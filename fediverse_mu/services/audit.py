"""The audit log: every moderation and administration action is recorded here (who, what, on
what, why, when). Other services record inside their own write with :func:`record_in`, so an
action and its entry are committed together; faces (web admin, CLI) may call :func:`record`."""

from __future__ import annotations

from datetime import datetime

from fediverse_mu.domain.accounts import Account
from fediverse_mu.domain.audit import AuditEntry
from fediverse_mu.services.context import Services
from fediverse_mu.storage import Database
from fediverse_mu.storage import audit as store

MAX_PAGE = 200


def record_in(db: Database, actor: Account | None, action: str, target: str, detail: str,
              now: datetime) -> int:
    """Append an entry inside the caller's write transaction."""
    return store.put_entry(db, actor_account_id=None if actor is None else actor.id,
                           action=action, target=target, detail=detail, now=now)


async def record(svc: Services, actor: Account | None, action: str, target: str,
                 detail: str = "") -> None:
    """Append an entry (``actor`` None: the CLI or the system)."""
    await svc.storage.write(record_in, actor, action, target, detail, svc.now())


async def entries(svc: Services, *, limit: int = 100, max_id: int | None = None,
                  action_prefix: str | None = None) -> list[AuditEntry]:
    """The newest entries first (older than ``max_id`` when given)."""
    return await svc.storage.read(store.list_entries, limit=max(1, min(limit, MAX_PAGE)),
                                  max_id=max_id, action_prefix=action_prefix)
