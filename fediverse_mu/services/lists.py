"""Lists, as Mastodon has them (https://docs.joinmastodon.org/methods/lists/): a resident
creates, renames and deletes lists, adds and removes accounts they follow, and reads each
list's timeline. Only the owner ever sees a list: anyone else's list id is "not found".
Statuses reach list feeds when they are written (``storage.lists.fan_out``, called by
``services.posting`` beside the home fan-out). Other services create server-managed lists
through :func:`ensure_list`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from fediverse_mu.domain import Account, Invalid, NotFound
from fediverse_mu.domain.lists import (
    MAX_ACCOUNTS_PER_REQUEST,
    MAX_LISTS,
    MAX_TITLE,
    AccountList,
    RepliesPolicy,
)
from fediverse_mu.domain.pagination import Page
from fediverse_mu.domain.statuses import StatusView
from fediverse_mu.services.context import Services
from fediverse_mu.storage import Database
from fediverse_mu.storage import accounts as account_store
from fediverse_mu.storage import lists as store
from fediverse_mu.storage import statuses as status_store


def _title(value: str) -> str:
    title = value.strip()
    if not title:
        raise Invalid("Validation failed: Title can't be blank")
    if len(title) > MAX_TITLE:
        raise Invalid(f"Validation failed: Title is too long (maximum is {MAX_TITLE} "
                      "characters)")
    return title


def parse_replies_policy(value: str) -> RepliesPolicy:
    """A replies policy by name; Invalid for anything else."""
    try:
        return RepliesPolicy(value)
    except ValueError:
        raise Invalid("Validation failed: Replies policy must be one of followed, list, "
                      "none") from None


def _owned(db: Database, owner_id: int, list_id: int) -> AccountList:
    found = store.get_list(db, list_id)
    if found is None or found.account_id != owner_id:
        raise NotFound("Record not found")  # another resident's list does not exist for you
    return found


# -- the lists themselves ----------------------------------------------------------------------


def _create(db: Database, owner_id: int, title: str, policy: RepliesPolicy, exclusive: bool,
            now: datetime, limited: bool) -> AccountList:
    if limited and store.count_lists(db, owner_id) >= MAX_LISTS:
        raise Invalid(f"Validation failed: you cannot have more than {MAX_LISTS} lists")
    return store.put_list(db, owner_id, title, policy, exclusive, now)


async def create_list(svc: Services, owner: Account, *, title: str,
                      replies_policy: str | None = None,
                      exclusive: bool = False) -> AccountList:
    """Create a list (``replies_policy`` defaults to ``list``, as on Mastodon)."""
    policy = RepliesPolicy.LIST if replies_policy is None else \
        parse_replies_policy(replies_policy)
    return await svc.storage.write(_create, owner.id, _title(title), policy, exclusive,
                                   svc.now(), True)


def _ensure(db: Database, owner_id: int, title: str, exclusive: bool,
            now: datetime) -> AccountList:
    found = store.get_list_by_title(db, owner_id, title)
    if found is None:
        return _create(db, owner_id, title, RepliesPolicy.LIST, exclusive, now, False)
    if found.exclusive != exclusive:
        return store.update_list(db, found, title=found.title,
                                 replies_policy=found.replies_policy, exclusive=exclusive)
    return found


async def ensure_list(svc: Services, owner: Account, title: str, *,
                      exclusive: bool) -> AccountList:
    """The owner's list with this title, created when missing (for server-managed lists such
    as a group's or a place's; the per-account limit does not apply). An existing list is
    made (non-)exclusive as asked."""
    return await svc.storage.write(_ensure, owner.id, _title(title), exclusive, svc.now())


async def lists_of(svc: Services, owner: Account) -> list[AccountList]:
    """The owner's lists, oldest first."""
    return await svc.storage.read(store.list_lists, owner.id)


async def get_list(svc: Services, owner: Account, list_id: int) -> AccountList:
    """One of the owner's lists (NotFound for anyone else's)."""
    return await svc.storage.read(_owned, owner.id, list_id)


def _update(db: Database, owner_id: int, list_id: int, title: str | None,
            policy: RepliesPolicy | None, exclusive: bool | None) -> AccountList:
    found = _owned(db, owner_id, list_id)
    return store.update_list(
        db, found, title=found.title if title is None else title,
        replies_policy=found.replies_policy if policy is None else policy,
        exclusive=found.exclusive if exclusive is None else exclusive)


async def update_list(svc: Services, owner: Account, list_id: int, *,
                      title: str | None = None, replies_policy: str | None = None,
                      exclusive: bool | None = None) -> AccountList:
    """Change a list's title, replies policy or exclusivity (None: unchanged)."""
    return await svc.storage.write(
        _update, owner.id, list_id, None if title is None else _title(title),
        None if replies_policy is None else parse_replies_policy(replies_policy), exclusive)


def _delete(db: Database, owner_id: int, list_id: int) -> None:
    store.delete_list(db, _owned(db, owner_id, list_id))


async def delete_list(svc: Services, owner: Account, list_id: int) -> None:
    """Delete a list (its members stay followed)."""
    await svc.storage.write(_delete, owner.id, list_id)


# -- members -----------------------------------------------------------------------------------


def _add(db: Database, owner_id: int, list_id: int, account_ids: list[int],
         now: datetime) -> None:
    found = _owned(db, owner_id, list_id)
    accounts = account_store.get_accounts_by_ids(db, account_ids)
    if any(a not in accounts for a in account_ids):
        raise NotFound("Record not found")
    followed = store.followed_ids(db, owner_id, account_ids) | {owner_id}
    if any(a not in followed for a in account_ids):
        raise Invalid("Validation failed: only accounts you follow can be added to a list")
    if store.member_ids(db, found.id, account_ids):
        raise Invalid("Validation failed: Account has already been taken")
    store.add_members(db, found, account_ids, now)


async def add_accounts(svc: Services, owner: Account, list_id: int,
                       account_ids: Sequence[int]) -> None:
    """Add accounts the owner follows (or has asked to follow) to a list, all or none; their
    statuses the owner already has join the list's timeline."""
    ids = list(dict.fromkeys(account_ids))
    if len(ids) > MAX_ACCOUNTS_PER_REQUEST:
        raise Invalid(f"Validation failed: at most {MAX_ACCOUNTS_PER_REQUEST} accounts at once")
    await svc.storage.write(_add, owner.id, list_id, ids, svc.now())


def _remove(db: Database, owner_id: int, list_id: int, account_ids: list[int]) -> None:
    store.remove_members(db, _owned(db, owner_id, list_id), account_ids)


async def remove_accounts(svc: Services, owner: Account, list_id: int,
                          account_ids: Sequence[int]) -> None:
    """Remove accounts from a list (non-members are ignored)."""
    await svc.storage.write(_remove, owner.id, list_id, list(dict.fromkeys(account_ids)))


def _members(db: Database, owner_id: int, list_id: int,
             page: Page | None) -> list[tuple[int, Account]]:
    return store.list_members(db, _owned(db, owner_id, list_id).id, page)


async def members(svc: Services, owner: Account, list_id: int,
                  page: Page | None) -> list[tuple[int, Account]]:
    """A page (None: all) of a list's members as (membership id, account), newest first."""
    return await svc.storage.read(_members, owner.id, list_id, page)


async def lists_with(svc: Services, owner: Account, member: Account) -> list[AccountList]:
    """The owner's lists that include ``member``."""
    return await svc.storage.read(store.lists_with_member, owner.id, member.id)


# -- the list timeline -------------------------------------------------------------------------


def _timeline(db: Database, owner_id: int, list_id: int, page: Page) -> list[StatusView]:
    found = _owned(db, owner_id, list_id)
    return status_store.load_views(db, store.list_timeline_ids(db, found, page), owner_id)


async def timeline(svc: Services, owner: Account, list_id: int,
                   page: Page) -> list[StatusView]:
    """A page of a list's timeline, newest first."""
    return await svc.storage.read(_timeline, owner.id, list_id, page)
