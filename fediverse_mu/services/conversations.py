"""Direct conversations (https://docs.joinmastodon.org/methods/conversations/): the threads of
direct messages a resident takes part in, filled by ``services.posting`` when a direct status
is written (local or received), read, marked read and removed here. Each change of a
conversation is announced on the event bus for the ``direct`` stream."""

from __future__ import annotations

from fediverse_mu.domain import Account, NotFound
from fediverse_mu.domain.conversations import ConversationView
from fediverse_mu.domain.pagination import Page
from fediverse_mu.events import CONVERSATION
from fediverse_mu.services.context import Services
from fediverse_mu.storage import Database
from fediverse_mu.storage import conversations as store


def publish(svc: Services, touched: list[tuple[int, int]]) -> None:
    """Announce conversations that changed (``(account id, conversation id)`` pairs), after
    the commit."""
    for account_id, conversation_id in touched:
        svc.events.publish(CONVERSATION, {"conversation_id": conversation_id,
                                          "account_id": account_id})


def _list(db: Database, account_id: int, page: Page) -> list[ConversationView]:
    return store.load_conversation_views(db, store.list_conversations(db, account_id, page))


async def list_conversations(svc: Services, account: Account,
                             page: Page) -> list[ConversationView]:
    """A page of the resident's conversations, newest message first."""
    return await svc.storage.read(_list, account.id, page)


def _get(db: Database, account_id: int, conversation_id: int) -> ConversationView | None:
    found = store.get_conversation(db, account_id, conversation_id)
    views = store.load_conversation_views(db, [] if found is None else [found])
    return views[0] if views else None


async def find_conversation(svc: Services, account_id: int,
                            conversation_id: int) -> ConversationView | None:
    """One conversation as its owner sees it; None when gone or someone else's."""
    return await svc.storage.read(_get, account_id, conversation_id)


async def remove(svc: Services, account: Account, conversation_id: int) -> None:
    """Remove a conversation from the resident's list (its messages stay)."""
    if not await svc.storage.write(store.delete_conversation, account.id, conversation_id):
        raise NotFound("Record not found")


async def mark_read(svc: Services, account: Account, conversation_id: int) -> ConversationView:
    """Mark one of the resident's conversations read."""
    if await svc.storage.write(store.mark_read, account.id, conversation_id) is None:
        raise NotFound("Record not found")
    found = await find_conversation(svc, account.id, conversation_id)
    if found is None:
        raise NotFound("Record not found")
    return found
