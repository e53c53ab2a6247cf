"""Filters, as Mastodon has them (https://docs.joinmastodon.org/methods/filters/): filters v2
(a title, contexts, an action, an expiry, keywords and statuses) and the v1 compatibility view,
where each keyword is one filter (its id is the keyword's).

Applying them: :func:`match` gives the active filters a status matches (the Status entity's
``filtered``: every match, whatever its contexts, as Mastodon lists them; clients act on each
filter's context) and :func:`hides` says whether one of them is a ``hide`` filter for the
context at hand, which then leaves the status out; :func:`screen` and :func:`screen_items` do
both for a page. Expired filters never apply; as Mastodon's web client does, residents' own
statuses are never filtered. Residents' filters are kept in memory (:func:`filters_of`) and
forgotten when ``filters.changed`` is announced, which every change here does."""

from __future__ import annotations

import functools
import time
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Any, ParamSpec, TypeVar

from fediverse_mu.activitypub.html import to_plain_text
from fediverse_mu.domain import Account, Invalid, NotFound
from fediverse_mu.domain.filters import (
    MAX_EXPIRES_IN,
    MAX_FILTERS,
    MAX_KEYWORD,
    MAX_KEYWORDS,
    MAX_TITLE,
    Filter,
    FilterAction,
    FilterContext,
    FilterKeyword,
    FilterMatch,
    FilterStatus,
    match_status,
)
from fediverse_mu.domain.statuses import StatusView
from fediverse_mu.events import FILTERS_CHANGED, EventBus
from fediverse_mu.services.context import Services
from fediverse_mu.storage import Database
from fediverse_mu.storage import filters as store
from fediverse_mu.storage import statuses as status_store

P = ParamSpec("P")
T = TypeVar("T")

FILTERS_TTL = 60.0  # seconds: what a missed filters.changed could leave stale, at most
FILTERS_CACHE_SIZE = 10_000  # residents whose filters are kept in memory


class Keep(Enum):
    """Marks a parameter left unchanged by an update."""

    KEEP = "keep"


KEEP = Keep.KEEP


@dataclass(frozen=True)
class KeywordChange:
    """One row of ``keywords_attributes``: a new keyword (no ``id``), a change to one, or
    (``destroy``) its removal."""

    id: int | None = None
    keyword: str | None = None
    whole_word: bool | None = None
    destroy: bool = False



# -- residents' filters, kept in memory ---------------------------------------------------------


class _FilterCache:
    """Residents' filters by account id: read for every timeline page and every streamed
    status, changed a few times a year. ``filters.changed`` on the event bus (published here
    by every change, and brought from the other processes by the relay) forgets the account's
    entry at once; entries also age out after ``FILTERS_TTL``. A read that overlapped a change
    is not kept (``generation``)."""

    def __init__(self, events: EventBus) -> None:
        self.entries: dict[int, tuple[float, tuple[Filter, ...]]] = {}
        self.generation = 0
        events.subscribe(FILTERS_CHANGED, self._changed)

    def _changed(self, topic: str, payload: Any) -> None:
        self.generation += 1
        if isinstance(payload, dict) and str(payload.get("account_id", "")).isdigit():
            self.entries.pop(int(payload["account_id"]), None)

    def get(self, account_id: int) -> tuple[Filter, ...] | None:
        found = self.entries.get(account_id)
        return None if found is None or found[0] < time.monotonic() else found[1]

    def put(self, generation: int, found: dict[int, list[Filter]]) -> None:
        if generation != self.generation:
            return
        if len(self.entries) + len(found) > FILTERS_CACHE_SIZE:
            self.entries.clear()
        until = time.monotonic() + FILTERS_TTL
        for account_id, items in found.items():
            self.entries[account_id] = (until, tuple(items))


def _cache(svc: Services) -> _FilterCache:
    cache = svc.memo.get("filters")
    if not isinstance(cache, _FilterCache):
        cache = svc.memo["filters"] = _FilterCache(svc.events)
    return cache


async def filters_of(svc: Services,
                     account_ids: Collection[int]) -> dict[int, tuple[Filter, ...]]:
    """Each account's filters (expired ones too: whether one applies is decided when it is
    applied), from memory; those not there are read in one go."""
    cache = _cache(svc)
    found: dict[int, tuple[Filter, ...]] = {}
    missing: list[int] = []
    for account_id in dict.fromkeys(account_ids):
        known = cache.get(account_id)
        if known is None:
            missing.append(account_id)
        else:
            found[account_id] = known
    if missing:
        generation = cache.generation
        loaded = await svc.storage.read(store.list_filters_of, missing)
        cache.put(generation, loaded)
        found.update((a, tuple(items)) for a, items in loaded.items())
    return found


def _changes_filters(fn: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
    """Announce ``filters.changed`` for the owner (``fn``'s second argument) once ``fn`` has
    changed their filters: caches forget them, open streams tell the client."""
    @functools.wraps(fn)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        result = await fn(*args, **kwargs)
        svc, owner = args[0], args[1]
        if isinstance(svc, Services) and isinstance(owner, Account):
            svc.events.publish(FILTERS_CHANGED, {"account_id": owner.id})
        return result

    return wrapper


# -- checking input ----------------------------------------------------------------------------


def _title(value: str) -> str:
    title = value.strip()
    if not title:
        raise Invalid("Validation failed: Title can't be blank")
    if len(title) > MAX_TITLE:
        raise Invalid(f"Validation failed: Title is too long (maximum is {MAX_TITLE} "
                      "characters)")
    return title


def parse_context(values: Sequence[str]) -> tuple[FilterContext, ...]:
    """Contexts by name, at least one; Invalid for an unknown one."""
    if not values:
        raise Invalid("Validation failed: Context can't be blank")
    found: list[FilterContext] = []
    for value in values:
        try:
            found.append(FilterContext(value))
        except ValueError:
            raise Invalid(f"Validation failed: Context {value!r} is not one of home, "
                          "notifications, public, thread, account") from None
    return tuple(dict.fromkeys(found))


def parse_action(value: str) -> FilterAction:
    """A filter action by name; Invalid for anything else."""
    try:
        return FilterAction(value)
    except ValueError:
        raise Invalid("Validation failed: Filter action must be warn or hide") from None


def _expiry(svc: Services, expires_in: int | None) -> datetime | None:
    if expires_in is None:
        return None
    if expires_in <= 0 or expires_in > MAX_EXPIRES_IN:
        raise Invalid("Validation failed: expires_in must be a positive number of seconds")
    return svc.now() + timedelta(seconds=expires_in)


def _keyword(value: str | None) -> str:
    keyword = (value or "").strip()
    if not keyword:
        raise Invalid("Validation failed: Keyword can't be blank")
    if len(keyword) > MAX_KEYWORD:
        raise Invalid(f"Validation failed: Keyword is too long (maximum is {MAX_KEYWORD} "
                      "characters)")
    return keyword


def _owned(db: Database, owner_id: int, filter_id: int) -> Filter:
    found = store.get_filter(db, filter_id)
    if found is None or found.account_id != owner_id:
        raise NotFound("Record not found")
    return found


def _owned_keyword(db: Database, owner_id: int, keyword_id: int) -> tuple[Filter,
                                                                          FilterKeyword]:
    keyword = store.get_keyword(db, keyword_id)
    if keyword is None:
        raise NotFound("Record not found")
    return _owned(db, owner_id, keyword.filter_id), keyword


def _check_keyword_count(db: Database, filter_id: int) -> None:
    if store.count_keywords(db, filter_id) > MAX_KEYWORDS:
        raise Invalid(f"Validation failed: a filter has at most {MAX_KEYWORDS} keywords")


# -- filters v2 --------------------------------------------------------------------------------


async def list_filters(svc: Services, owner: Account) -> list[Filter]:
    """The owner's filters (expired ones included), oldest first."""
    return await svc.storage.read(store.list_filters, owner.id)


async def get_filter(svc: Services, owner: Account, filter_id: int) -> Filter:
    """One of the owner's filters (NotFound for anyone else's)."""
    return await svc.storage.read(_owned, owner.id, filter_id)


def _apply_keywords(db: Database, found: Filter, changes: Sequence[KeywordChange],
                    now: datetime) -> None:
    mine = {k.id: k for k in found.keywords}
    for change in changes:
        if change.id is None:
            if not change.destroy:
                store.put_keyword(db, found.id, _keyword(change.keyword),
                                  bool(change.whole_word), now)
            continue
        current = mine.get(change.id)
        if current is None:
            raise NotFound("Record not found")
        if change.destroy:
            store.delete_keyword(db, current.id)
        else:
            store.update_keyword(
                db, current.id,
                current.keyword if change.keyword is None else _keyword(change.keyword),
                current.whole_word if change.whole_word is None else change.whole_word)
    _check_keyword_count(db, found.id)


def _create(db: Database, owner_id: int, title: str, context: tuple[FilterContext, ...],
            action: FilterAction, expires_at: datetime | None,
            keywords: Sequence[KeywordChange], now: datetime) -> Filter:
    if store.count_filters(db, owner_id) >= MAX_FILTERS:
        raise Invalid(f"Validation failed: you cannot have more than {MAX_FILTERS} filters")
    if any(k.id is not None for k in keywords):
        raise NotFound("Record not found")  # a new filter has no keywords to change yet
    filter_id = store.put_filter(db, owner_id, title=title, context=context, action=action,
                                 expires_at=expires_at, now=now)
    _apply_keywords(db, _owned(db, owner_id, filter_id), keywords, now)
    return _owned(db, owner_id, filter_id)


@_changes_filters
async def create_filter(svc: Services, owner: Account, *, title: str, context: Sequence[str],
                        action: str | None = None, expires_in: int | None = None,
                        keywords: Sequence[KeywordChange] = ()) -> Filter:
    """Create a filter with its first keywords (``action`` defaults to ``warn``)."""
    return await svc.storage.write(
        _create, owner.id, _title(title), parse_context(context),
        FilterAction.WARN if action is None else parse_action(action),
        _expiry(svc, expires_in), keywords, svc.now())


def _update(db: Database, owner_id: int, filter_id: int, title: str | None,
            context: tuple[FilterContext, ...] | None, action: FilterAction | None,
            expires_at: datetime | Keep | None, keywords: Sequence[KeywordChange],
            now: datetime) -> Filter:
    found = _owned(db, owner_id, filter_id)
    store.update_filter(
        db, found.id, title=found.title if title is None else title,
        context=found.context if context is None else context,
        action=found.action if action is None else action,
        expires_at=found.expires_at if isinstance(expires_at, Keep) else expires_at, now=now)
    _apply_keywords(db, found, keywords, now)
    return _owned(db, owner_id, filter_id)


@_changes_filters
async def update_filter(svc: Services, owner: Account, filter_id: int, *,
                        title: str | None = None, context: Sequence[str] | None = None,
                        action: str | None = None, expires_in: int | Keep | None = KEEP,
                        keywords: Sequence[KeywordChange] = ()) -> Filter:
    """Change a filter (None or KEEP: unchanged; ``expires_in`` None: never expires) and
    add, change or remove keywords, all or nothing."""
    return await svc.storage.write(
        _update, owner.id, filter_id, None if title is None else _title(title),
        None if context is None else parse_context(context),
        None if action is None else parse_action(action),
        expires_in if isinstance(expires_in, Keep) else _expiry(svc, expires_in), keywords,
        svc.now())


def _delete(db: Database, owner_id: int, filter_id: int) -> None:
    store.delete_filter(db, _owned(db, owner_id, filter_id).id)


@_changes_filters
async def delete_filter(svc: Services, owner: Account, filter_id: int) -> None:
    """Delete a filter with its keywords and statuses."""
    await svc.storage.write(_delete, owner.id, filter_id)


# -- keywords ----------------------------------------------------------------------------------


async def keywords_of(svc: Services, owner: Account, filter_id: int) -> list[FilterKeyword]:
    """A filter's keywords."""
    return list((await get_filter(svc, owner, filter_id)).keywords)


def _add_keyword(db: Database, owner_id: int, filter_id: int, keyword: str, whole_word: bool,
                 now: datetime) -> FilterKeyword:
    found = _owned(db, owner_id, filter_id)
    added = store.put_keyword(db, found.id, keyword, whole_word, now)
    _check_keyword_count(db, found.id)
    return added


@_changes_filters
async def add_keyword(svc: Services, owner: Account, filter_id: int, keyword: str,
                      whole_word: bool = False) -> FilterKeyword:
    """Add a keyword to a filter."""
    return await svc.storage.write(_add_keyword, owner.id, filter_id, _keyword(keyword),
                                   whole_word, svc.now())


async def get_keyword(svc: Services, owner: Account, keyword_id: int) -> FilterKeyword:
    """One of the owner's keywords."""
    return (await svc.storage.read(_owned_keyword, owner.id, keyword_id))[1]


def _update_keyword(db: Database, owner_id: int, keyword_id: int, keyword: str | None,
                    whole_word: bool | None) -> FilterKeyword:
    _, current = _owned_keyword(db, owner_id, keyword_id)
    return store.update_keyword(db, current.id,
                                current.keyword if keyword is None else keyword,
                                current.whole_word if whole_word is None else whole_word)


@_changes_filters
async def update_keyword(svc: Services, owner: Account, keyword_id: int, *,
                         keyword: str | None = None,
                         whole_word: bool | None = None) -> FilterKeyword:
    """Change a keyword (None: unchanged)."""
    return await svc.storage.write(_update_keyword, owner.id, keyword_id,
                                   None if keyword is None else _keyword(keyword), whole_word)


def _delete_keyword(db: Database, owner_id: int, keyword_id: int) -> None:
    store.delete_keyword(db, _owned_keyword(db, owner_id, keyword_id)[1].id)


@_changes_filters
async def delete_keyword(svc: Services, owner: Account, keyword_id: int) -> None:
    """Remove a keyword from its filter."""
    await svc.storage.write(_delete_keyword, owner.id, keyword_id)


# -- statuses ----------------------------------------------------------------------------------


async def statuses_of(svc: Services, owner: Account, filter_id: int) -> list[FilterStatus]:
    """The statuses a filter lists."""
    return list((await get_filter(svc, owner, filter_id)).statuses)


def _add_status(db: Database, owner_id: int, filter_id: int, status_id: int,
                now: datetime) -> FilterStatus:
    found = _owned(db, owner_id, filter_id)
    status = status_store.get_status(db, status_id)
    if status is None or not status_store.can_see(db, status, owner_id):
        raise Invalid("Validation failed: Status must exist")
    if store.has_filter_status(db, found.id, status.id):
        raise Invalid("Validation failed: Status has already been taken")
    return store.put_filter_status(db, found.id, status.id, now)


@_changes_filters
async def add_status(svc: Services, owner: Account, filter_id: int,
                     status_id: int) -> FilterStatus:
    """Add a status the owner can see to a filter (boosts of it match too)."""
    return await svc.storage.write(_add_status, owner.id, filter_id, status_id, svc.now())


def _owned_status(db: Database, owner_id: int, filter_status_id: int) -> FilterStatus:
    found = store.get_filter_status(db, filter_status_id)
    if found is None:
        raise NotFound("Record not found")
    _owned(db, owner_id, found.filter_id)
    return found


async def get_filter_status(svc: Services, owner: Account,
                            filter_status_id: int) -> FilterStatus:
    """One of the owner's filtered statuses."""
    return await svc.storage.read(_owned_status, owner.id, filter_status_id)


def _delete_status(db: Database, owner_id: int, filter_status_id: int) -> None:
    store.delete_filter_status(db, _owned_status(db, owner_id, filter_status_id).id)


@_changes_filters
async def delete_filter_status(svc: Services, owner: Account, filter_status_id: int) -> None:
    """Remove a status from its filter."""
    await svc.storage.write(_delete_status, owner.id, filter_status_id)


# -- filters v1: one keyword each --------------------------------------------------------------


async def v1_filters(svc: Services, owner: Account) -> list[tuple[Filter, FilterKeyword]]:
    """Every keyword of the owner's filters, each with its filter (the v1 view)."""
    return [(f, k) for f in await list_filters(svc, owner) for k in f.keywords]


async def v1_filter(svc: Services, owner: Account,
                    keyword_id: int) -> tuple[Filter, FilterKeyword]:
    """One v1 filter: a keyword and its filter."""
    return await svc.storage.read(_owned_keyword, owner.id, keyword_id)


def _v1_create(db: Database, owner_id: int, phrase: str, context: tuple[FilterContext, ...],
               action: FilterAction, expires_at: datetime | None, whole_word: bool,
               now: datetime) -> tuple[Filter, FilterKeyword]:
    found = _create(db, owner_id, phrase, context, action, expires_at,
                    [KeywordChange(keyword=phrase, whole_word=whole_word)], now)
    return found, found.keywords[0]


@_changes_filters
async def v1_create(svc: Services, owner: Account, *, phrase: str, context: Sequence[str],
                    irreversible: bool = False, whole_word: bool = False,
                    expires_in: int | None = None) -> tuple[Filter, FilterKeyword]:
    """Create a v1 filter: a filter titled ``phrase`` with that one keyword; ``irreversible``
    is the ``hide`` action."""
    text = _keyword(phrase)
    return await svc.storage.write(
        _v1_create, owner.id, _title(text), parse_context(context),
        FilterAction.HIDE if irreversible else FilterAction.WARN, _expiry(svc, expires_in),
        whole_word, svc.now())


def _v1_update(db: Database, owner_id: int, keyword_id: int, phrase: str | None,
               context: tuple[FilterContext, ...] | None, action: FilterAction | None,
               expires_at: datetime | Keep | None, whole_word: bool | None,
               now: datetime) -> tuple[Filter, FilterKeyword]:
    found, keyword = _owned_keyword(db, owner_id, keyword_id)
    title = found.title if phrase is None else phrase
    new_context = found.context if context is None else context
    new_action = found.action if action is None else action
    new_expiry = found.expires_at if isinstance(expires_at, Keep) else expires_at
    changed = (title, set(new_context), new_action, new_expiry) != \
        (found.title, set(found.context), found.action, found.expires_at)
    if changed and len(found.keywords) > 1:
        # As on Mastodon: a v1 client cannot change a filter it only sees one keyword of.
        raise Invalid("Cannot change the filter of a keyword that has siblings through the "
                      "deprecated v1 API: use /api/v2/filters")
    store.update_filter(db, found.id, title=title, context=new_context, action=new_action,
                        expires_at=new_expiry, now=now)
    store.update_keyword(db, keyword.id, keyword.keyword if phrase is None else phrase,
                         keyword.whole_word if whole_word is None else whole_word)
    return _owned_keyword(db, owner_id, keyword_id)


@_changes_filters
async def v1_update(svc: Services, owner: Account, keyword_id: int, *,
                    phrase: str | None = None, context: Sequence[str] | None = None,
                    irreversible: bool | None = None, whole_word: bool | None = None,
                    expires_in: int | Keep | None = KEEP) -> tuple[Filter, FilterKeyword]:
    """Change a v1 filter (None or KEEP: unchanged)."""
    text = None if phrase is None else _title(_keyword(phrase))
    return await svc.storage.write(
        _v1_update, owner.id, keyword_id, text,
        None if context is None else parse_context(context),
        None if irreversible is None else
        FilterAction.HIDE if irreversible else FilterAction.WARN,
        expires_in if isinstance(expires_in, Keep) else _expiry(svc, expires_in), whole_word,
        svc.now())


def _v1_delete(db: Database, owner_id: int, keyword_id: int) -> None:
    found, keyword = _owned_keyword(db, owner_id, keyword_id)
    store.delete_keyword(db, keyword.id)
    if len(found.keywords) == 1 and not found.statuses:
        # Mastodon keeps the emptied filter; nothing could match it, so it goes too.
        store.delete_filter(db, found.id)


@_changes_filters
async def v1_delete(svc: Services, owner: Account, keyword_id: int) -> None:
    """Delete a v1 filter: its keyword (and its filter, when nothing else is left in it)."""
    await svc.storage.write(_v1_delete, owner.id, keyword_id)


# -- applying filters --------------------------------------------------------------------------


def _text(view: StatusView) -> str:
    """What keywords are matched against, as Mastodon's ``searchable_text``: the spoiler
    text, the content as plain text, the poll's options and the media descriptions."""
    parts = [view.status.spoiler_text, to_plain_text(view.status.content)]
    if view.poll is not None:
        parts.extend(view.poll.options)
    parts.extend(m.description for m in view.media if m.description)
    return "\n\n".join(parts)


def match(found: Sequence[Filter], viewer_id: int, view: StatusView, now: datetime,
          texts: dict[int, str] | None = None) -> list[FilterMatch]:
    """The active filters among ``found`` (the viewer's) that a status matches, whatever
    their contexts; none for the viewer's own statuses or boosts. A boost matches by the
    boosted status's text and by either id. ``texts`` keeps plain texts by status id, for a
    caller matching the same status for several viewers."""
    if not found or view.account.id == viewer_id:
        return []
    proper = view.reblog or view
    text = None if texts is None else texts.get(proper.status.id)
    if text is None:
        text = _text(proper)
        if texts is not None:
            texts[proper.status.id] = text
    return match_status(found, text, (view.status.id, proper.status.id), now)


def hides(matches: Sequence[FilterMatch], context: FilterContext | None) -> bool:
    """True when one of the matches is a ``hide`` filter for ``context`` (None: none is)."""
    return context is not None and any(
        m.filter.action is FilterAction.HIDE and context in m.filter.context for m in matches)


def by_status(view: StatusView, hits: list[FilterMatch]) -> dict[int, list[FilterMatch]]:
    """A status's matches by status id, as entities are given them: the status's own and,
    for a boost, the boosted status's (which it was matched by)."""
    return {view.status.id: hits, (view.reblog or view).status.id: hits}


def _itself(view: StatusView) -> StatusView | None:
    return view


async def screen_items(svc: Services, viewer: Account | None, items: Sequence[T],
                       status_of: Callable[[T], StatusView | None],
                       context: FilterContext | None = None,
                       ) -> tuple[list[T], dict[int, list[FilterMatch]]]:
    """Apply the viewer's filters to a page of items carrying a status (``status_of``; None:
    no status, always kept): the items left once those whose status a ``hide`` filter for
    ``context`` matches are taken out (None: none is), and the filters each remaining status
    matched, by status id (a boost's and the boosted status's)."""
    if viewer is None or not items:
        return list(items), {}
    found = (await filters_of(svc, [viewer.id]))[viewer.id]
    if not found:
        return list(items), {}
    now = svc.now()
    texts: dict[int, str] = {}
    kept: list[T] = []
    matches: dict[int, list[FilterMatch]] = {}
    for item in items:
        view = status_of(item)
        hits = [] if view is None else match(found, viewer.id, view, now, texts)
        if hides(hits, context):
            continue
        kept.append(item)
        if view is not None and hits:
            matches.update(by_status(view, hits))
    return kept, matches


async def screen(svc: Services, viewer: Account | None, views: Sequence[StatusView],
                 context: FilterContext | None = None,
                 ) -> tuple[list[StatusView], dict[int, list[FilterMatch]]]:
    """:func:`screen_items` for a page of statuses."""
    return await screen_items(svc, viewer, views, _itself, context)
