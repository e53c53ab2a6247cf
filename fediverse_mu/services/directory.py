"""Finding accounts (by id, by handle, by name prefix) the way Mastodon clients ask, the figures
shown on each account (posts, followers, following), and what the instance tells about its
reach: the peers it knows and its weekly activity."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from fediverse_mu.domain import Account, NotFound
from fediverse_mu.domain.profiles import ProfileField
from fediverse_mu.services.context import Services
from fediverse_mu.storage import Database
from fediverse_mu.storage import accounts as account_store
from fediverse_mu.storage import directory as store
from fediverse_mu.storage import moderation as moderation_store
from fediverse_mu.storage import profiles as profile_store

ACTIVITY_WEEKS = 12


@dataclass(frozen=True)
class AccountCounts:
    """What an account entity shows in numbers."""

    statuses: int = 0
    followers: int = 0
    following: int = 0


@dataclass(frozen=True)
class WeekActivity:
    """One week of the instance's activity (Mastodon's ``/api/v1/instance/activity``)."""

    week: datetime
    statuses: int
    logins: int
    registrations: int


def is_listable(account: Account) -> bool:
    """False for the instance's own actor, which is no one's account."""
    return not (account.is_local and account.actor_type == "Application")


def _listable(db: Database, accounts: list[Account]) -> list[Account]:
    """Those of ``accounts`` anyone may see: not the instance actor, not an application
    waiting for approval (as Mastodon, which answers 404 for a pending account)."""
    pending = store.pending_account_ids(db, [a.id for a in accounts if a.is_local])
    return [a for a in accounts if is_listable(a) and a.id not in pending]


def _listable_by_ids(db: Database, ids: list[int]) -> list[Account]:
    found = account_store.get_accounts_by_ids(db, ids)
    return _listable(db, [found[i] for i in ids if i in found])


async def get_account(svc: Services, account_id: str | int) -> Account:
    """A listable account by id (the API's string ids accepted), or NotFound."""
    text = str(account_id)
    found: list[Account] = []
    if text.isdigit() and len(text) <= 18:
        found = await svc.storage.read(_listable_by_ids, [int(text)])
    if not found:
        raise NotFound("Record not found")
    return found[0]


async def get_accounts(svc: Services, account_ids: list[str]) -> list[Account]:
    """The listable accounts among ``account_ids``, in that order, once each; unknown ids and
    malformed ones are left out."""
    ids = [int(i) for i in dict.fromkeys(account_ids) if i.isdigit() and len(i) <= 18]
    return await svc.storage.read(_listable_by_ids, ids)


def split_handle(svc: Services, acct: str) -> tuple[str, str | None]:
    """``user``, ``@user``, ``user@domain`` → ``(user, domain)``; our own domain → None."""
    username, _, domain = acct.strip().removeprefix("@").partition("@")
    domain = domain.lower()
    return username, None if not domain or domain == svc.config.domain.lower() else domain


async def lookup(svc: Services, acct: str) -> Account:
    """A known account by handle (no remote lookup), or NotFound."""
    username, domain = split_handle(svc, acct)
    if not username:
        raise NotFound("Record not found")
    def read(db: Database) -> list[Account]:
        found = account_store.get_local_account(db, username) if domain is None \
            else account_store.get_remote_account(db, username, domain)
        return [] if found is None else _listable(db, [found])

    listed = await svc.storage.read(read)
    if not listed:
        raise NotFound("Record not found")
    return listed[0]


async def search(svc: Services, query: str, *, limit: int = 40, offset: int = 0,
                 following_of: Account | None = None) -> list[Account]:
    """Known accounts whose username (or a word of whose display name) starts with ``query``;
    ``user@domain`` narrows to that server."""
    username, domain = split_handle(svc, query)
    if not username:
        return []
    local_only = "@" in query.strip().removeprefix("@") and domain is None
    return await svc.storage.read_in_thread(  # a prefix search may scan
        store.search_accounts, name=username, domain=domain, local_only=local_only,
        following_of=None if following_of is None else following_of.id, limit=limit,
        offset=offset)


async def counts(svc: Services, accounts: list[Account]) -> dict[int, AccountCounts]:
    """Posts, followers and following for each account."""
    found = await svc.storage.read(store.account_counts, [a.id for a in accounts])
    return {account_id: AccountCounts(*values) for account_id, values in found.items()}


@dataclass(frozen=True)
class EntityDetails:
    """Everything an Account entity shows beyond the account row, for many accounts."""

    counts: dict[int, AccountCounts]
    fields: dict[int, tuple[ProfileField, ...]]  # those without fields are left out
    flags: dict[int, tuple[bool, bool]]  # (suspended, limited); the others are left out


def _entity_details(db: Database, accounts: list[Account]) -> EntityDetails:
    ids = [a.id for a in accounts]
    counts = {i: AccountCounts(*values) for i, values in store.account_counts(db, ids).items()}
    return EntityDetails(counts, profile_store.get_fields(db, ids),
                         moderation_store.entity_flags(db, accounts))


async def entity_details(svc: Services, accounts: list[Account]) -> EntityDetails:
    """Counts, profile fields and moderation flags (``suspended``, ``limited``) of
    ``accounts``, in one read."""
    return await svc.storage.read(_entity_details, accounts)


async def peers(svc: Services) -> list[str]:
    """The other servers this instance knows accounts on."""
    return await svc.storage.read(store.list_peer_domains)


def _week_start(moment: datetime) -> datetime:
    day = moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return day - timedelta(days=day.weekday())  # Monday, as Rails' beginning_of_week


async def weekly_activity(svc: Services, weeks: int = ACTIVITY_WEEKS) -> list[WeekActivity]:
    """The last ``weeks`` weeks (this one first): local posts, sign-ins, registrations."""
    start = _week_start(svc.now())
    found = []
    for back in range(weeks):
        week = start - timedelta(weeks=back)
        figures = await svc.storage.read_in_thread(store.week_activity, week,
                                                   week + timedelta(weeks=1))
        found.append(WeekActivity(week, *figures))
    return found
