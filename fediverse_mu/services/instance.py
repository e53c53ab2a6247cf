"""The instance itself: first-time setup (the instance actor and its keys) and the figures
NodeInfo and the Mastodon instance endpoints publish."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from fediverse_mu.activitypub import iri
from fediverse_mu.domain import Account
from fediverse_mu.services.context import Services
from fediverse_mu.services.keys import generate_key_pair
from fediverse_mu.storage import Database
from fediverse_mu.storage import accounts as account_store
from fediverse_mu.storage import settings as settings_store

INSTANCE_ACTOR_SETTING = "instance_actor_id"


@dataclass(frozen=True)
class InstanceStats:
    """Public usage figures."""

    users: int
    active_month: int
    active_halfyear: int
    local_posts: int
    domains: int
    contact_email: str


def create_instance_actor(db: Database, base_url: str, key_pair: tuple[str, str],
                          now: datetime | None = None) -> Account:
    """Create the instance actor (an Application with its keys) unless it exists."""
    now = now or datetime.now(UTC)
    existing = settings_store.get_setting(db, INSTANCE_ACTOR_SETTING)
    if existing is not None:
        account = account_store.get_account_by_id(db, existing)
        if account is not None:
            return account
    actor = iri.instance_actor_uri(base_url)
    account = account_store.put_local_account(
        db, username=iri.INSTANCE_ACTOR_USERNAME, actor_uri=actor, actor_type="Application",
        url=f"{base_url}/about", inbox_uri=iri.inbox_uri(actor),
        shared_inbox_uri=iri.shared_inbox_uri(base_url), public_key_pem=key_pair[1],
        private_key_pem=key_pair[0], created_at=now, bot=True,
    )
    settings_store.put_setting(db, INSTANCE_ACTOR_SETTING, account.id)
    return account


async def setup_instance(svc: Services) -> Account:
    """Create the instance actor and its keys if absent; idempotent."""
    now = svc.now()
    return await svc.storage.write(create_instance_actor, svc.config.base_url,
                                   generate_key_pair(), now)


def _stats(db: Database, now: datetime, contact_email: str) -> InstanceStats:
    return InstanceStats(
        users=account_store.count_users(db),
        active_month=account_store.count_users(db, seen_since=now - timedelta(days=30)),
        active_halfyear=account_store.count_users(db, seen_since=now - timedelta(days=180)),
        local_posts=account_store.count_local_statuses(db),
        domains=account_store.count_remote_domains(db),
        contact_email=contact_email or account_store.first_admin_email(db) or "",
    )


async def instance_stats(svc: Services) -> InstanceStats:
    """Users (total and active), local posts, known domains, and whom to contact."""
    return await svc.storage.read_in_thread(_stats, svc.now(),  # counts scan
                                            svc.config.contact_email)


async def database_answers(svc: Services) -> bool:
    """True when the database answers (for /healthz)."""
    return await svc.storage.read(settings_store.ping)
